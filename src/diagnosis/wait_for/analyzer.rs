//! The shell side of the analysis: scripts into simple commands, variables and loops, and the
//! wrappers (`exec`, `timeout`, `env`, `sh -c`…) down to the command that does the waiting.

use super::Vars;
use super::WaitTarget;
use super::lexer::{Lexer, Token, Word, WordPart};

/// Where a command was found: the evidence text and whether it repeats.
pub(super) struct CommandContext<'f> {
    pub(super) fragment: &'f str,
    pub(super) in_loop: bool,
}

/// A simple command being collected from tokens.
#[derive(Default)]
struct SimpleCommand {
    words: Vec<Word>,
    redirects: Vec<Word>,
    start: Option<usize>,
    end: usize,
}

impl SimpleCommand {
    fn extend_span(&mut self, start: usize, end: usize) {
        self.start.get_or_insert(start);
        self.end = end;
    }
}

/// The header of a compound command being skipped: its words are not commands
/// (`for NAME in WORDS`, `case WORD in`).
#[derive(PartialEq)]
enum SkippedHeader {
    None,
    ForWords,
    CaseWord,
}

pub(super) struct Analyzer<'n> {
    namespace: &'n str,
    found: Vec<WaitTarget>,
}

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

const NAMESPACE_FILES: &[&str] = &[
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
    "/run/secrets/kubernetes.io/serviceaccount/namespace",
];

impl<'n> Analyzer<'n> {
    pub(super) fn new(namespace: &'n str) -> Self {
        Analyzer {
            namespace,
            found: Vec::new(),
        }
    }

    /// Every target found, in order, duplicates included.
    pub(super) fn into_found(self) -> Vec<WaitTarget> {
        self.found
    }

    fn script(&mut self, script: &str, vars: &Vars, in_loop: bool) {
        // Assignments in the script are local to it (and to the commands after them).
        let mut vars = vars.clone();
        let chars: Vec<char> = script.chars().collect();
        let mut lexer = Lexer::new(&chars);
        let mut loops = 0usize;
        let mut header = SkippedHeader::None;
        let mut cmd = SimpleCommand::default();
        while let Some(token) = lexer.next_token() {
            match token {
                Token::Word(word) => {
                    let reserved = if cmd.words.is_empty() {
                        word.reserved()
                    } else {
                        None
                    };
                    if header != SkippedHeader::None {
                        if header == SkippedHeader::CaseWord && reserved.as_deref() == Some("in") {
                            header = SkippedHeader::None;
                        }
                        continue;
                    }
                    match reserved.as_deref() {
                        Some("until" | "while") => loops += 1,
                        Some("for") => {
                            loops += 1;
                            header = SkippedHeader::ForWords;
                        }
                        Some("case") => header = SkippedHeader::CaseWord,
                        Some("done") => loops = loops.saturating_sub(1),
                        Some(_) => {}
                        None => {
                            cmd.extend_span(word.start, word.end);
                            cmd.words.push(word);
                        }
                    }
                }
                Token::Redirection(start) => {
                    if let Some(Token::Word(target)) = lexer.next_token() {
                        cmd.extend_span(start, target.end);
                        cmd.redirects.push(target);
                    }
                }
                Token::Separator => {
                    if header == SkippedHeader::ForWords {
                        header = SkippedHeader::None;
                    }
                    let cmd = std::mem::take(&mut cmd);
                    self.simple_command(&cmd, &chars, &mut vars, in_loop || loops > 0);
                }
            }
        }
        self.simple_command(&cmd, &chars, &mut vars, in_loop || loops > 0);
    }

    fn simple_command(
        &mut self,
        cmd: &SimpleCommand,
        chars: &[char],
        vars: &mut Vars,
        in_loop: bool,
    ) {
        let Some(start) = cmd.start else { return };
        let fragment: String = chars[start..cmd.end].iter().collect();
        let context = CommandContext {
            fragment: fragment.trim(),
            in_loop,
        };
        let mut argv: Vec<String> = cmd
            .words
            .iter()
            .map(|w| self.expand(w, vars, in_loop))
            .collect();
        for target in &cmd.redirects {
            let target = self.expand(target, vars, in_loop);
            self.dev_tcp(&target, &context);
        }
        let assignments = argv.iter().take_while(|a| assignment(a).is_some()).count();
        if assignments == argv.len()
            || ["export", "readonly", "local", "declare", "typeset"]
                .contains(&argv[assignments].as_str())
        {
            for (name, value) in argv.iter().filter_map(|a| assignment(a)) {
                vars.insert(name.to_string(), value.to_string());
            }
            return;
        }
        // `VAR=x cmd`: the assignment is only cmd's environment, and cmd's own words were already
        // expanded without it.
        argv.drain(..assignments);
        self.argv(&argv, vars, &context);
    }

    fn expand(&mut self, word: &Word, vars: &Vars, in_loop: bool) -> String {
        let mut out = String::new();
        for part in &word.parts {
            match part {
                WordPart::Literal(s) => out.push_str(s),
                WordPart::Parameter { name, default, raw } => {
                    // `${VAR:-default}` also replaces an empty value.
                    let value = vars
                        .get(name)
                        .filter(|v| !v.is_empty() || default.is_none());
                    match (value, default) {
                        (Some(value), _) => out.push_str(value),
                        (None, Some(default)) => {
                            let chars: Vec<char> = default.chars().collect();
                            let word = Lexer::new(&chars).word(true);
                            out.push_str(&self.expand(&word, vars, in_loop));
                        }
                        (None, None) => out.push_str(raw),
                    }
                }
                WordPart::CommandSubstitution { inner, raw } => {
                    if reads_namespace_file(inner) {
                        out.push_str(self.namespace);
                    } else {
                        // `until [ "$(curl -s http://cfg/ready)" = ok ]`: the check is inside.
                        self.script(inner, vars, in_loop);
                        out.push_str(raw);
                    }
                }
            }
        }
        out
    }

    /// One command line, already split into words (exec form, or a shell simple command).
    pub(super) fn argv(&mut self, argv: &[String], vars: &Vars, context: &CommandContext) {
        let Some(program) = argv.first() else { return };
        let name = program.rsplit('/').next().unwrap_or(program);
        let rest = &argv[1..];
        match name {
            "exec" | "command" | "nohup" | "time" | "builtin" | "busybox" => {
                self.argv(rest, vars, context)
            }
            "gosu" | "su-exec" => self.argv(rest.get(1..).unwrap_or_default(), vars, context),
            "timeout" => self.argv(after_timeout(rest), vars, context),
            "env" => self.argv(after_env(rest), vars, context),
            _ if SHELLS.contains(&name) => {
                if let Some(script) = shell_script(rest) {
                    self.script(script, vars, context.in_loop);
                }
            }
            _ => self.tool(
                name.strip_suffix(".sh").unwrap_or(name),
                rest,
                vars,
                context,
            ),
        }
    }

    /// A host (and port) target the tool checks once; whether it repeats is the shell's doing.
    pub(super) fn push(
        &mut self,
        context: &CommandContext,
        tool: &str,
        host: &str,
        port: Option<u16>,
    ) {
        self.push_looping(context, tool, host, port, None, false);
    }

    /// A target; `tool_loops` when the tool retries by itself. Nothing when the host is empty.
    pub(super) fn push_looping(
        &mut self,
        context: &CommandContext,
        tool: &str,
        host: &str,
        port: Option<u16>,
        url: Option<&str>,
        tool_loops: bool,
    ) {
        if host.is_empty() {
            return;
        }
        self.found.push(WaitTarget {
            tool: tool.to_string(),
            host: host.to_string(),
            port,
            url: url.map(str::to_string),
            in_loop: context.in_loop || tool_loops,
            fragment: context.fragment.to_string(),
        });
    }
}

/// The script of `sh [options] -c SCRIPT`, if that is the invocation.
fn shell_script(args: &[String]) -> Option<&str> {
    let mut has_c = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg.starts_with("--") {
            continue; // --norc, --login, `--` itself
        }
        if let Some(flags) = arg.strip_prefix(['-', '+']).filter(|f| !f.is_empty()) {
            has_c |= arg.starts_with('-') && flags.contains('c');
            if flags.contains('o') {
                it.next(); // `-o pipefail`
            }
            continue;
        }
        return has_c.then_some(arg.as_str());
    }
    None
}

/// The command `timeout [options] DURATION CMD…` runs (also busybox's old `timeout -t SECS CMD`).
fn after_timeout(args: &[String]) -> &[String] {
    let mut i = 0;
    let mut duration_given = false;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        match arg.as_str() {
            "-s" | "-k" | "--signal" | "--kill-after" => i += 2,
            "-t" => {
                duration_given = true;
                i += 2;
            }
            a if a.starts_with("-t") => {
                duration_given = true;
                i += 1;
            }
            a if a.starts_with('-') && a.len() > 1 => i += 1,
            _ => break,
        }
    }
    if !duration_given {
        i += 1;
    }
    args.get(i..).unwrap_or_default()
}

/// The command `env [-i] [-u NAME] [NAME=VALUE…] CMD…` runs.
fn after_env(args: &[String]) -> &[String] {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        match arg.as_str() {
            "-u" | "-C" | "--unset" | "--chdir" => i += 2,
            a if a.starts_with('-') || assignment(a).is_some() => i += 1,
            _ => break,
        }
    }
    args.get(i..).unwrap_or_default()
}

/// `NAME=value` with a valid shell name.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
    valid.then_some((name, value))
}

/// `cat /var/run/secrets/kubernetes.io/serviceaccount/namespace` (or `< file`, quoted, with
/// `2>/dev/null`): the shell's way of learning the pod's namespace.
fn reads_namespace_file(script: &str) -> bool {
    let words: Vec<String> = script
        .split_whitespace()
        .filter(|w| !w.starts_with("2>"))
        .map(|w| w.replace(['"', '\''], ""))
        .collect();
    let path = match words.as_slice() {
        [cat, path] if cat == "cat" || cat == "<" => path.as_str(),
        [path] => path.strip_prefix('<').unwrap_or_default(),
        _ => return false,
    };
    NAMESPACE_FILES.contains(&path)
}
