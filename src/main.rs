//! The `kubectl-initctl` binary: parse, run, map errors to exit codes. kubectl finds it on PATH
//! and runs it as `kubectl initctl …`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use initctl::util::sanitize::TerminalWriter;
use initctl::{Environment, Error, cli::Cli};
use k8s_openapi::jiff::Timestamp;

fn main() -> ExitCode {
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
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
    let mut stdout = TerminalWriter::new(std::io::stdout().lock());
    let mut stderr = TerminalWriter::new(std::io::stderr());
    let mut stdin = std::io::stdin();
    let result = runtime.block_on(async {
        initctl::util::interrupt::install();
        initctl::run(cli, &env, &mut stdin, &mut stdout, &mut stderr).await
    });
    let _ = stdout.flush();
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
