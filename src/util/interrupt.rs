//! Ctrl-C. Outside a critical section the process stops at once (exit 130). Between deleting a
//! pod and creating its replacement it must not: the interrupt is held until the section ends,
//! so the pod (or, on failure, its backup and restore command) always survives.

use std::sync::atomic::{AtomicBool, Ordering};

static CRITICAL: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicBool = AtomicBool::new(false);

/// Listens for Ctrl-C for the rest of the process. Call once, inside the runtime.
pub fn install() {
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            if CRITICAL.load(Ordering::SeqCst) {
                if !PENDING.swap(true, Ordering::SeqCst) {
                    eprintln!(
                        "Interrupt received: finishing the pod's recreation first (the backup is kept)."
                    );
                }
            } else {
                let _ = std::io::Write::flush(&mut std::io::stdout());
                std::process::exit(130);
            }
        }
    });
}

/// Holds interrupts while alive.
pub struct Critical(());

impl Critical {
    pub fn enter() -> Critical {
        CRITICAL.store(true, Ordering::SeqCst);
        Critical(())
    }

    /// Whether an interrupt arrived while the section was held.
    pub fn interrupted(&self) -> bool {
        PENDING.load(Ordering::SeqCst)
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        CRITICAL.store(false, Ordering::SeqCst);
    }
}
