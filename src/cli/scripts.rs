//! `kubectl initctl completion SHELL`: the shell completion scripts, generated from the clap
//! definition so that they cannot drift away from the real flags.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionShell};
use crate::error::{Error, Result};

/// `kubectl initctl completion SHELL`: the clap_complete script for the `kubectl-initctl` binary.
pub fn write(shell: CompletionShell, out: &mut dyn Write) -> Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut buf = Vec::new();
    if shell == Shell::Bash {
        // clap_complete's bash generator turns the `-` of a binary name into `__` in the
        // dispatch labels but into `__subcmd__` in the per-command sections, so no section
        // ever matches (nothing past the command name completes). Generate for a dash-free
        // stand-in name and put the real name back only where bash matches the command.
        const STAND_IN: &str = "KUBECTLxINITCTL";
        clap_complete::generate(shell, &mut visible_command(STAND_IN), STAND_IN, &mut buf);
        let text = String::from_utf8_lossy(&buf)
            .lines()
            .map(|line| match line.trim_start().starts_with("complete -F") {
                true => line.replace(&format!(" {STAND_IN}"), " kubectl-initctl"),
                false => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace(STAND_IN, "kubectl_initctl");
        return writeln!(out, "{text}").map_err(Error::Output);
    }
    clap_complete::generate(
        shell,
        &mut visible_command("kubectl-initctl"),
        "kubectl-initctl",
        &mut buf,
    );
    out.write_all(&buf).map_err(Error::Output)
}

/// The CLI as a user may type it: without the hidden helpers (clap_complete's bash generator
/// would offer `__complete` and `__man`), and named `kubectl-initctl` throughout (the parser's
/// `kubectl initctl` display name would give the scripts inconsistent function names).
fn visible_command(bin: &str) -> clap::Command {
    let cli = Cli::command();
    clap::Command::new("kubectl-initctl")
        .about(cli.get_about().cloned().unwrap_or_default())
        .version(crate::util::version::VERSION)
        .disable_help_subcommand(true)
        .args(cli.get_arguments().cloned())
        .subcommands(
            cli.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.clone().bin_name(format!("{bin} {}", s.get_name()))),
        )
}
