//! kubectl-initctl: init containers made visible. `main` parses the command line and calls
//! [`run`]; everything below is a library so that tests can drive it directly.
//!
//! The layers, one folder each (docs/architecture.md is the map): `cli` (the command line),
//! `cmd` (one thin module per subcommand), `input` (files, targets, selectors), `cluster` (API
//! I/O), `status` and `diagnosis` (pure analysis), `change` (what edit, restart and check share),
//! `render` (text and documents), `util` (general pieces).

pub mod change;
pub mod cli;
pub(crate) mod cluster;
pub(crate) mod cmd;
pub(crate) mod diagnosis;
pub mod error;
pub(crate) mod input;
pub(crate) mod render;
pub mod session;
pub(crate) mod status;
pub mod util;

use std::io::{Read, Write};

pub use error::{Error, Result};
pub use session::Environment;

use cli::{Cli, Command};
use input::pod_json::PodView;

/// Runs one command to completion. Output goes to `out`, diagnostics to `err`.
pub async fn run(
    cli: Cli,
    env: &Environment,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let global = cli.command.global_opts();
    match cli.command {
        Command::Version => writeln!(
            out,
            "kubectl-initctl {}\ngit commit: {}",
            util::version::VERSION,
            util::version::GIT_COMMIT
        )
        .map_err(Error::Output),
        Command::Completion(args) => cli::scripts::write(args.shell, out),
        Command::Complete(args) => cli::completion::complete(&args.words, out).await,
        Command::Man(args) => cli::man::write(args.dir.as_deref(), out),
        Command::Status(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Rows).await?;
            ctx.write_clock_note(err)?;
            cmd::status::run(&ctx, env, &args, out, err).await
        }
        Command::Edit(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Whole).await?;
            cmd::edit::run(&ctx, env, &args, out, err).await
        }
        Command::Restart(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Whole).await?;
            cmd::restart::run(&ctx, env, &args, stdin, out, err).await
        }
        Command::Check(args) => {
            let palette = session::palette(&global, env);
            cmd::check::run(&args, stdin, out, palette)
        }
        Command::Explain(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Whole).await?;
            ctx.write_clock_note(err)?;
            cmd::explain::run(&ctx, &args, out).await
        }
        Command::Logs(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Whole).await?;
            cmd::logs::run(&ctx, &args, out, err).await
        }
        Command::Timeline(args) => {
            let ctx = session::Session::new(&global, env, stdin, PodView::Whole).await?;
            ctx.write_clock_note(err)?;
            cmd::timeline::run(&ctx, env, &args, out).await
        }
    }
}
