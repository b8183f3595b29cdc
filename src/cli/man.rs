//! `__man [DIR]`: the man pages, generated from the clap definition.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// The clap definition as the man pages see it: the plain version, without the git commit, so the
/// committed pages only change when the CLI does.
fn man_command() -> clap::Command {
    Cli::command().version(crate::util::version::VERSION)
}

/// `__man [DIR]`: the main page to `out`, or every page (`kubectl-initctl.1`,
/// `kubectl-initctl-<command>.1`) written into DIR.
pub fn write(dir: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::Output(e);
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(io)?;
            clap_mangen::generate_to(man_command(), dir).map_err(io)
        }
        None => clap_mangen::Man::new(man_command()).render(out).map_err(io),
    }
}
