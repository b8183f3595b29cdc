//! kubectl-initctl: init containers made visible. `main` parses the command line and calls
//! [`run`]; everything below is a library so that tests can drive it directly.
//!
//! Layout: pure analysis (`pod_status`, `init_timeline`, `status_report`, `image_ref`,
//! `selector`) is kept apart from API I/O (`cluster`, `scope`), from input parsing (`manifest`,
//! `yaml`) and from rendering (`render`).

pub mod backup;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod completion;
pub mod context;
pub mod diagnosis;
pub mod duration;
pub mod editor;
pub mod error;
pub mod follow;
pub mod gather;
pub mod guard;
pub mod image_ref;
pub mod init_timeline;
pub mod interrupt;
pub mod manifest;
pub mod owner;
pub mod patch;
pub mod plan;
pub mod pod_status;
pub mod quantity;
pub mod recreate;
pub mod render;
pub mod sanitize;
pub mod scheduling;
pub mod scope;
pub mod selector;
pub mod status_report;
pub mod target;
pub mod version;
pub mod wait_for;
pub mod yaml;

use std::io::{Read, Write};

pub use context::Environment;
pub use error::{Error, Result};

use cli::{Cli, Command};

/// Runs one command to completion. Output goes to `out`, diagnostics to `err`.
pub async fn run(
    cli: Cli,
    env: &Environment,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    match cli.command {
        Command::Version => writeln!(
            out,
            "kubectl-initctl {}\ngit commit: {}",
            version::VERSION,
            version::GIT_COMMIT
        )
        .map_err(Error::Output),
        Command::Completion(args) => completion::script(args.shell, out),
        Command::Complete(args) => completion::complete(&args.words, out).await,
        Command::Man(args) => completion::man(args.dir.as_deref(), out),
        Command::Status(args) => {
            let ctx = context::Context::new(&cli.global, env, stdin).await?;
            cmd::status::run(&ctx, &args, out, err).await
        }
        Command::Edit(args) => {
            let ctx = context::Context::new(&cli.global, env, stdin).await?;
            cmd::edit::run(&ctx, env, &args, out, err).await
        }
        Command::Restart(args) => {
            let ctx = context::Context::new(&cli.global, env, stdin).await?;
            cmd::restart::run(&ctx, env, &args, out, err).await
        }
        Command::Check(args) => {
            let palette = render::Palette { enabled: false };
            cmd::check::run(&args, stdin, out, palette)
        }
        Command::Explain(args) => {
            let ctx = context::Context::new(&cli.global, env, stdin).await?;
            cmd::explain::run(&ctx, &args, out).await
        }
    }
}
