//! The `kubectl-initctl` binary: parse, run, map errors to exit codes. kubectl finds it on PATH
//! and runs it as `kubectl initctl …`.

use std::cell::RefCell;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;

use initctl::util::sanitize::TerminalWriter;
use initctl::{Environment, Error, cli::Cli};
use k8s_openapi::jiff::Timestamp;

// Decoding a LIST allocates and frees millions of small strings; glibc's malloc made the cost per
// pod grow with the list (docs/benchmarks.md, "The fast path"). mimalloc keeps it flat.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let env = Environment {
        now: clock(),
        stdout_is_terminal: std::io::stdout().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        editor: ["KUBE_EDITOR", "EDITOR"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.trim().is_empty()),
        shell: std::env::var("SHELL").ok(),
        state_dir: initctl::util::platform::state_dir(),
        columns: columns(),
        unicode: utf8_locale(),
    };
    // One worker thread beside the main one: a LIST's next page is fetched there while the main
    // thread decodes and prints the current one (cluster/pod_pages.rs).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&Error::client("start the async runtime", e));
        }
    };
    // Everything the commands write goes through the terminal guard: text from the cluster can
    // never move the cursor, clear the screen, write the clipboard or reorder a line.
    let buffered = SharedStdout::new(env.stdout_is_terminal);
    let mut stdout = TerminalWriter::new(buffered.clone());
    let mut stderr = TerminalWriter::new(StderrAfterStdout(buffered));
    let mut stdin = std::io::stdin();
    let result = runtime.block_on(async {
        initctl::util::interrupt::install();
        initctl::run(cli, &env, &mut stdin, &mut stdout, &mut stderr).await
    });
    // What is still buffered is written now; failing to write it is failing to print.
    let flushed = stdout.flush();
    let result = result.and_then(|()| flushed.map_err(Error::Output));
    drop(stdout);
    drop(stderr);
    // A credential plugin that kube runs on a blocking thread and that was given up on after
    // its bound must not hold the exit (dropping the runtime would wait for it).
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is how the reader says it has seen enough.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// stdout under the terminal guard. A terminal gets every line as it is written; a pipe or a
/// file gets 64 KiB blocks (not a write() per row: 632,000 of them for `-o json` of 10,000 pods),
/// flushed by the printers once per page, at the end, and before anything goes to stderr.
#[derive(Clone)]
struct SharedStdout(Rc<RefCell<Box<dyn Write>>>);

impl SharedStdout {
    fn new(terminal: bool) -> SharedStdout {
        let stdout = std::io::stdout().lock();
        let inner: Box<dyn Write> = if terminal {
            Box::new(stdout)
        } else {
            Box::new(BufWriter::with_capacity(64 * 1024, stdout))
        };
        SharedStdout(Rc::new(RefCell::new(inner)))
    }
}

impl Write for SharedStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.borrow_mut().write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// stderr, unbuffered, with what stdout holds written first: a warning, a plan or a prompt's
/// preamble never overtakes output printed before it (`2>&1`, or both on one terminal).
struct StderrAfterStdout(SharedStdout);

impl Write for StderrAfterStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A stdout that cannot be written (a closed pipe) must not silence stderr.
        let _ = self.0.flush();
        std::io::stderr().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn fail(err: &Error) -> ExitCode {
    // Errors carry server text (a Status message, an error page): they reach the terminal only
    // through the guard.
    let mut stderr = TerminalWriter::new(std::io::stderr());
    // The first line is the error; any further lines (backup paths, a restore command) are
    // printed as they are, so they can be copied.
    // Several missing targets are several errors, one per line, as kubectl prints them.
    let every_line_an_error = matches!(err, Error::TargetsNotFound(_));
    let text = err.to_string();
    for (i, line) in text.lines().enumerate() {
        if i == 0 || every_line_an_error {
            let _ = writeln!(stderr, "error: {line}");
        } else {
            let _ = writeln!(stderr, "{line}");
        }
    }
    ExitCode::from(err.exit_code())
}

/// The terminal's width, else $COLUMNS, else 80 (what a picture is scaled to).
fn columns() -> usize {
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size_checked().map(|(_, w)| usize::from(w)))
        .flatten()
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

/// The locale's character set is UTF-8, as setlocale reads it: the first non-empty of LC_ALL,
/// LC_CTYPE, LANG.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// The current time; KUBECTL_INITCTL_NOW (RFC 3339) pins it, so that ages in golden tests and
/// documentation examples do not drift.
fn clock() -> Timestamp {
    std::env::var("KUBECTL_INITCTL_NOW")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(Timestamp::now)
}

/// mimalloc asks for transparent huge pages on its arenas, so every 2 MiB they touch is resident
/// and zeroed whole: `status -A` peaked at 85 MB instead of 45 MB at 10k pods, and the zeroing
/// was a fifth of its time (docs/benchmarks.md). Turned off for this process (and what it runs)
/// before anything is allocated on the pages that matter.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours; a kernel
    // without it returns an error, which is fine to ignore (the pages are only larger).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}
