//! Flags typed before the command name (`kubectl initctl -n shop status`), moved behind it, so
//! that clap checks them against the command they belong to: a flag the command does not take
//! is refused there, as if it had been typed after the name.

use std::ffi::OsString;

use clap::{Arg, CommandFactory, Parser};

use crate::cli::Cli;

impl Cli {
    /// Parses the command line as the binary receives it (the program name first).
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let mut root = Cli::command();
        root.build();
        Cli::try_parse_from(hoisted(&root, args.into_iter().map(Into::into).collect()))
    }
}

/// `args` with the command name moved in front of the flags typed before it; unchanged when the
/// words before it are not all flags some command has (clap then says what is wrong).
pub(crate) fn hoisted(root: &clap::Command, mut args: Vec<OsString>) -> Vec<OsString> {
    let any_command = |m: &dyn Fn(&Arg) -> bool| any_commands_flag(root, m);
    let mut i = 1;
    let mut flags = Vec::new();
    while let Some(word) = args.get(i).and_then(|w| w.to_str()) {
        if word == "--" || word == "-" || !word.starts_with('-') {
            break;
        }
        match words_taken(&any_command, word) {
            Some(n) => {
                flags.push((word.to_string(), n));
                i += n;
            }
            None => return args,
        }
    }
    let Some(name) = args.get(i).and_then(|w| w.to_str()) else {
        return args;
    };
    let Some(sub) = root.find_subcommand(name).filter(|_| i > 1) else {
        return args;
    };
    // A flag spelled alike may mean something else to this command (`-f` is --filename to
    // status, --follow to logs): such a command line is left for clap to refuse.
    let this_command = |m: &dyn Fn(&Arg) -> bool| sub.get_arguments().find(|a| m(a));
    if flags
        .iter()
        .any(|(word, n)| words_taken(&this_command, word) != Some(*n))
    {
        return args;
    }
    let command = args.remove(i);
    args.insert(1, command);
    args
}

/// The flag of some command spelled `--long` or `-s`.
pub(crate) fn any_commands_flag(
    root: &clap::Command,
    matches: impl Fn(&Arg) -> bool,
) -> Option<&Arg> {
    root.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .flat_map(|s| s.get_arguments())
        .find(|a| matches(a))
}

/// How many words the flag `word` takes: 1, or 2 when its value is the next word. None for a
/// flag no command has.
/// Finds the argument a predicate picks, among some command's arguments.
type ArgFinder<'f, 'a> = &'f dyn Fn(&dyn Fn(&Arg) -> bool) -> Option<&'a Arg>;

fn words_taken(find: ArgFinder<'_, '_>, word: &str) -> Option<usize> {
    let takes_value = |a: &Arg| a.get_num_args().is_some_and(|n| n.takes_values());
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let arg = find(&|a: &Arg| a.get_long() == Some(name))?;
        return Some(if takes_value(arg) && !inline { 2 } else { 1 });
    }
    let shorts: Vec<char> = word.trim_start_matches('-').chars().collect();
    for (k, c) in shorts.iter().enumerate() {
        let arg = find(&|a: &Arg| a.get_short() == Some(*c))?;
        if takes_value(arg) {
            // `-n shop` takes the next word; `-nshop` and `-n=shop` carry the value.
            return Some(if k + 1 == shorts.len() { 2 } else { 1 });
        }
    }
    Some(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(words: &[&str]) -> Result<Cli, clap::Error> {
        Cli::parse_args(std::iter::once("kubectl-initctl").chain(words.iter().copied()))
    }

    #[test]
    fn a_flag_that_means_something_else_to_the_command_is_not_moved() {
        // -f is --filename (with a value) to status, --follow to logs.
        let err = parsed(&["-f", "dump.json", "logs", "web"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
        assert!(parsed(&["-f", "dump.json", "status", "web"]).is_ok());
    }

    #[test]
    fn flags_before_the_command_belong_to_it() {
        let cli = parsed(&["-n", "shop", "--context=prod", "-A", "status", "web"]).unwrap();
        let global = cli.command.global_opts();
        assert_eq!(global.namespace.namespace.as_deref(), Some("shop"));
        assert_eq!(global.connection.context.as_deref(), Some("prod"));
        assert!(global.selection.all_namespaces);
        // Still refused when the command does not take them.
        for words in [
            &["--context", "x", "check", "a", "b"][..],
            &["--kubeconfig", "k", "version"],
            &["-l", "a=b", "edit", "pod"],
        ] {
            let e = parsed(words).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{words:?}"
            );
        }
        // A value that looks like a command name is still the flag's value.
        let cli = parsed(&["-n", "status", "explain"]).unwrap();
        assert!(matches!(cli.command, crate::cli::Command::Explain(_)));
    }
}
