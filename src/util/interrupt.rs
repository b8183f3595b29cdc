//! Terminating signals: SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT. Outside a critical section
//! the process stops at once, with the shell's code for the signal (128 + its number: 130 for
//! Ctrl-C). Between deleting a pod and creating its replacement it must not stop, whatever the
//! signal: it is held until the section ends, so the pod (or, on failure, its backup and restore
//! command) always survives. Only SIGKILL cannot be held, and nothing can be done about that.

use std::sync::Mutex;

/// A terminating signal that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub name: &'static str,
    pub number: u8,
}

impl Signal {
    pub const INTERRUPT: Signal = Signal {
        name: "SIGINT",
        number: 2,
    };

    /// The exit code a shell reports for a process ended by this signal.
    pub fn exit_code(self) -> u8 {
        128 + self.number
    }
}

struct Section {
    /// What is being protected, for the message: "pod/x exists again".
    until: String,
    /// The first signal that arrived while the section was held.
    pending: Option<Signal>,
}

static SECTION: Mutex<Option<Section>> = Mutex::new(None);

/// Listens for the terminating signals for the rest of the process. Call once, inside the
/// runtime.
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            (SignalKind::interrupt(), Signal::INTERRUPT),
            (
                SignalKind::terminate(),
                Signal {
                    name: "SIGTERM",
                    number: 15,
                },
            ),
            (
                SignalKind::hangup(),
                Signal {
                    name: "SIGHUP",
                    number: 1,
                },
            ),
            (
                SignalKind::quit(),
                Signal {
                    name: "SIGQUIT",
                    number: 3,
                },
            ),
        ];
        for (kind, sig) in kinds {
            // A signal that cannot be listened for keeps its default action; the others are
            // still held.
            if let Ok(mut stream) = signal(kind) {
                tokio::spawn(async move {
                    while stream.recv().await.is_some() {
                        received(sig);
                    }
                });
            }
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            received(Signal::INTERRUPT);
        }
    });
}

fn received(sig: Signal) {
    let mut section = SECTION.lock().unwrap_or_else(|p| p.into_inner());
    match section.as_mut() {
        Some(held) => {
            if held.pending.is_none() {
                held.pending = Some(sig);
                eprintln!(
                    "{} received: held until {} (stopping now could lose the pod; the backup is kept)",
                    sig.name, held.until
                );
            }
        }
        None => {
            // No explicit flush of stdout here: this runs on the runtime's worker thread while
            // the main thread holds stdout's lock for the whole command, so locking it would
            // wait forever and the signal would never stop the process. `process::exit` flushes
            // what it can without waiting (std's cleanup only tries the lock).
            std::process::exit(i32::from(sig.exit_code()));
        }
    }
}

/// Holds terminating signals while alive.
pub struct Critical(());

impl Critical {
    /// Holds signals until the value is dropped; `until` says what the hold waits for, e.g.
    /// "pod/x exists again".
    pub fn enter(until: impl Into<String>) -> Critical {
        let mut section = SECTION.lock().unwrap_or_else(|p| p.into_inner());
        *section = Some(Section {
            until: until.into(),
            pending: None,
        });
        Critical(())
    }

    /// The signal that arrived while the section was held, if any.
    pub fn interrupted(&self) -> Option<Signal> {
        SECTION
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|s| s.pending)
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        *SECTION.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
