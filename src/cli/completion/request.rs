//! What a `__complete` request asks for: the typed words walked through the clap definition the
//! way the parser would read them, down to what the word under the cursor is.

use std::path::PathBuf;

use clap::{Arg, Command};

use crate::cli::ConnectionFlags;
use crate::cli::hoist::any_commands_flag;

/// What the word under the cursor is, found by walking the typed words through the clap tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Want {
    /// A command name (nothing chosen yet).
    Subcommand,
    /// A flag name.
    Flag,
    /// The value of the flag with this clap id; `lead` is what precedes the value in the word
    /// (`--output=` when completing `--output=ya`).
    FlagValue { id: String, lead: String },
    /// A positional argument with this value name (`TARGET`, `SHELL`, `OLD` …).
    Positional { value_name: String },
    /// Nothing can follow (e.g. a second argument where one is allowed).
    Nothing,
}

/// The parsed request: where in the tree we are, what is wanted, and the connection flags typed so
/// far (so pods come from the namespace and context the command will use).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The command names chosen, e.g. `["status"]`.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the answers need only `want`; tests check the walk"
        )
    )]
    pub path: Vec<String>,
    pub want: Want,
    /// The part of the word under the cursor that candidates must start with.
    pub prefix: String,
    /// The connection flags typed (--kubeconfig, --context, --server, --token …).
    pub connection: ConnectionFlags,
    pub namespace: Option<String>,
    /// Every visible flag of the current command, with its help line.
    pub flags: Vec<(String, String)>,
    /// Every visible subcommand of the current command, with its help line.
    pub subcommands: Vec<(String, String)>,
    /// The fixed values the wanted flag or positional accepts (`-o wide|json|yaml`…), if any.
    pub values: Vec<String>,
}

/// Walks `words` (the last one being the word under the cursor) through the clap definition.
pub(crate) fn analyse(root: &Command, words: &[String]) -> Request {
    let (current, typed) = match words.split_last() {
        Some((current, typed)) => (current.as_str(), typed),
        None => ("", &[][..]),
    };
    let walk = Walk::through(root, typed);
    let (want, prefix) = walk.want(current);
    let values = fixed_values(&walk, &want);
    Request {
        connection: walk.connection(),
        namespace: walk.value("namespace"),
        flags: flags_of(walk.cmd),
        subcommands: subcommands_of(walk.cmd),
        path: walk.path,
        want,
        prefix,
        values,
    }
}

/// Where the typed words (all but the one under the cursor) lead in the clap tree.
struct Walk<'a> {
    /// The command the words have chosen so far.
    cmd: &'a Command,
    path: Vec<String>,
    /// How many positional arguments were typed.
    positionals: usize,
    after_dashdash: bool,
    /// A value-taking flag typed last, still waiting for its value (the word under the cursor).
    pending: Option<&'a Arg>,
    /// (clap id, value) of every flag value typed, in order.
    values: Vec<(String, String)>,
}

impl<'a> Walk<'a> {
    fn through(root: &'a Command, typed: &[String]) -> Walk<'a> {
        let mut walk = Walk {
            cmd: root,
            path: Vec::new(),
            positionals: 0,
            after_dashdash: false,
            pending: None,
            values: Vec::new(),
        };
        let mut i = 0;
        while i < typed.len() {
            let took_next = walk.step(&typed[i], typed.get(i + 1));
            i += if took_next { 2 } else { 1 };
        }
        walk
    }

    /// Reads one typed word; `next` is the word after it, which a flag may take as its value.
    /// Returns whether it did.
    fn step(&mut self, word: &str, next: Option<&String>) -> bool {
        if !self.after_dashdash {
            if word == "--" {
                self.after_dashdash = true;
                return false;
            }
            if let Some(flag) = word.strip_prefix("--") {
                return self.long_flag(flag, next);
            }
            if let Some(flags) = word.strip_prefix('-')
                && !flags.is_empty()
            {
                return self.short_flags(flags, next);
            }
        }
        let cmd = self.cmd;
        if self.path.is_empty()
            && let Some(sub) = cmd
                .get_subcommands()
                .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
        {
            self.path.push(sub.get_name().to_string());
            self.cmd = sub;
            return false;
        }
        self.positionals += 1;
        false
    }

    /// `--name`, `--name=value` or `--name value`; unknown names are skipped.
    fn long_flag(&mut self, flag: &str, next: Option<&String>) -> bool {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let Some(arg) = self.flag(|a| a.get_long() == Some(name)) else {
            return false;
        };
        match inline {
            None if takes_value(arg) => return self.value_in_next(arg, next),
            Some(v) => self.values.push((arg.get_id().to_string(), v)),
            // A switch (--insecure-skip-tls-verify) is recorded as set.
            None => self.values.push((arg.get_id().to_string(), "true".into())),
        }
        false
    }

    /// A cluster of short flags (`-Aw`), the last of which may take a value, attached
    /// (`-nshop`) or in the next word (`-n shop`).
    fn short_flags(&mut self, flags: &str, next: Option<&String>) -> bool {
        let chars: Vec<char> = flags.chars().collect();
        for (k, c) in chars.iter().enumerate() {
            let Some(arg) = self.flag(|a| a.get_short() == Some(*c)) else {
                return false;
            };
            if takes_value(arg) {
                let rest: String = chars[k + 1..].iter().collect();
                let rest = rest.strip_prefix('=').map(str::to_string).unwrap_or(rest);
                if rest.is_empty() {
                    return self.value_in_next(arg, next);
                }
                self.values.push((arg.get_id().to_string(), rest));
                return false;
            }
        }
        false
    }

    /// A flag whose value is the next word; without one yet, the word under the cursor is it.
    fn value_in_next(&mut self, arg: &'a Arg, next: Option<&String>) -> bool {
        match next {
            Some(v) => {
                self.values.push((arg.get_id().to_string(), v.clone()));
                true
            }
            None => {
                self.pending = Some(arg);
                false
            }
        }
    }

    /// The flag of the command chosen; before a command is chosen, the flag of any command
    /// (the parser moves flags typed before the command name behind it).
    fn flag(&self, matches: impl Fn(&Arg) -> bool) -> Option<&'a Arg> {
        let cmd: &'a Command = self.cmd;
        match cmd.get_arguments().find(|a| matches(a)) {
            Some(arg) => Some(arg),
            None if self.path.is_empty() => any_commands_flag(cmd, matches),
            None => None,
        }
    }

    /// Every value typed for the flag with this clap id, in order.
    fn all_values(&self, id: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The connection flags typed, so candidates come from the cluster the command would use.
    fn connection(&self) -> ConnectionFlags {
        let path = |id: &str| self.value(id).map(PathBuf::from);
        ConnectionFlags {
            kubeconfig: path("kubeconfig"),
            context: self.value("context"),
            cluster: self.value("cluster"),
            user: self.value("user"),
            server: self.value("server"),
            token: self.value("token"),
            as_user: self.value("as_user"),
            as_group: self.all_values("as_group"),
            as_uid: self.value("as_uid"),
            certificate_authority: path("certificate_authority"),
            client_certificate: path("client_certificate"),
            client_key: path("client_key"),
            insecure_skip_tls_verify: self
                .value("insecure_skip_tls_verify")
                .is_some_and(|v| v != "false"),
            tls_server_name: self.value("tls_server_name"),
            request_timeout: self.value("request_timeout"),
            // Completion never logs: its stderr is not the user's.
            verbosity: 0,
        }
    }

    /// The last value typed for the flag with this clap id.
    fn value(&self, id: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
    }

    /// What the word under the cursor is, and the part of it candidates must start with.
    fn want(&self, current: &str) -> (Want, String) {
        if let Some(arg) = self.pending {
            let id = arg.get_id().to_string();
            let lead = String::new();
            return (Want::FlagValue { id, lead }, current.to_string());
        }
        if !self.after_dashdash && current.starts_with("--") && current.contains('=') {
            let (name, value) = current[2..].split_once('=').unwrap_or_default();
            let want = match self.flag(|a| a.get_long() == Some(name)) {
                Some(arg) => Want::FlagValue {
                    id: arg.get_id().to_string(),
                    lead: format!("--{name}="),
                },
                None => Want::Nothing,
            };
            return (want, value.to_string());
        }
        let want = if !self.after_dashdash && current.starts_with('-') {
            Want::Flag
        } else if self.path.is_empty() && self.cmd.has_subcommands() {
            Want::Subcommand
        } else {
            self.positional()
        };
        (want, current.to_string())
    }

    /// The positional argument the next word fills.
    fn positional(&self) -> Want {
        let positional: Vec<&Arg> = self.cmd.get_positionals().collect();
        let slot = positional.get(self.positionals).copied().or_else(|| {
            // A repeatable positional (TARGET…) takes every further word.
            positional
                .last()
                .copied()
                .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
        });
        match slot {
            Some(arg) => Want::Positional {
                value_name: value_name(arg)
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase()),
            },
            None => Want::Nothing,
        }
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn value_name(arg: &Arg) -> Option<String> {
    arg.get_value_names()
        .and_then(|n| n.first())
        .map(|n| n.to_string())
}

fn help_of(arg: &Arg) -> String {
    arg.get_help()
        .map(|h| h.to_string())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every visible flag of `cmd`, long and short spellings, with its help line.
fn flags_of(cmd: &Command) -> Vec<(String, String)> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .flat_map(|a| {
            let help = help_of(a);
            let long = a.get_long().map(|l| (format!("--{l}"), help.clone()));
            let short = a.get_short().map(|s| (format!("-{s}"), help.clone()));
            long.into_iter().chain(short)
        })
        .collect()
}

fn subcommands_of(cmd: &Command) -> Vec<(String, String)> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            (
                s.get_name().to_string(),
                s.get_about().map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Fixed values (`-o wide|json|yaml`, `--color`, the SHELL of `completion`).
fn fixed_values(walk: &Walk<'_>, want: &Want) -> Vec<String> {
    let arg = match want {
        Want::FlagValue { id, .. } => walk.flag(|a| a.get_id() == id.as_str()),
        Want::Positional { value_name: name } => walk
            .cmd
            .get_positionals()
            .find(|a| value_name(a).as_deref() == Some(name.as_str())),
        _ => None,
    };
    arg.map(possible_values).unwrap_or_default()
}

fn possible_values(arg: &Arg) -> Vec<String> {
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn req(words: &[&str]) -> Request {
        let mut root = Cli::command();
        root.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        analyse(&root, &words)
    }

    #[test]
    fn walks_flags_and_values_like_the_parser() {
        let r = req(&["-n", "shop", "status", "--context=prod", "-o", "wide", ""]);
        assert_eq!(r.path, ["status"]);
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert_eq!(r.connection.context.as_deref(), Some("prod"));
        assert_eq!(
            r.want,
            Want::Positional {
                value_name: "TARGET".into()
            }
        );

        let r = req(&["status", "-nshop", "-o", ""]);
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert!(matches!(r.want, Want::FlagValue { ref id, .. } if id == "output"));
        assert_eq!(
            r.values,
            [
                "wide",
                "json",
                "yaml",
                "name",
                "jsonpath=",
                "jsonpath-as-json=",
                "custom-columns="
            ]
        );

        let r = req(&["explain", "--output=j"]);
        assert_eq!(
            r.want,
            Want::FlagValue {
                id: "output".into(),
                lead: "--output=".into()
            }
        );
        assert_eq!(r.prefix, "j");

        assert_eq!(req(&["st"]).want, Want::Subcommand);
        assert_eq!(req(&["status", "--wat"]).want, Want::Flag);
        assert_eq!(req(&["version", ""]).want, Want::Nothing);
    }

    #[test]
    fn a_flag_without_its_value_yet_wants_it_and_dashdash_ends_flags() {
        let r = req(&["-n", ""]);
        assert!(
            matches!(r.want, Want::FlagValue { ref id, ref lead } if id == "namespace" && lead.is_empty())
        );
        let r = req(&["status", "--", "-x", "-"]);
        assert_eq!(
            r.want,
            Want::Positional {
                value_name: "TARGET".into()
            }
        );
    }
}
