//! The `kubectl-initctl` binary: parse, run, map errors to exit codes. kubectl finds it on PATH
//! and runs it as `kubectl initctl …`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use initctl::{Environment, Error, cli::Cli};
use k8s_openapi::jiff::Timestamp;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Environment {
        now: clock(),
        stdout_is_terminal: std::io::stdout().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&Error::Client {
                context: "start the async runtime".into(),
                detail: e.to_string(),
            });
        }
    };
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let mut stdin = std::io::stdin();
    let result = runtime.block_on(async {
        tokio::select! {
            r = initctl::run(cli, &env, &mut stdin, &mut stdout, &mut stderr) => r,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    let _ = stdout.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is how the reader says it has seen enough.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(err: &Error) -> ExitCode {
    let mut stderr = std::io::stderr();
    for line in err.to_string().lines() {
        let _ = writeln!(stderr, "error: {line}");
    }
    ExitCode::from(err.exit_code())
}

/// The current time; KUBECTL_INITCTL_NOW (RFC 3339) pins it, so that ages in golden tests and
/// documentation examples do not drift.
fn clock() -> Timestamp {
    std::env::var("KUBECTL_INITCTL_NOW")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(Timestamp::now)
}
