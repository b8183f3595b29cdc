//! What a long-running init container waits for, read from its command line.
//!
//! Most init containers that run "forever" loop until something exists: a DNS name
//! (`until nslookup myservice; do sleep 2; done`), an open port (`nc -z db 5432`), an HTTP endpoint
//! (`wget --spider http://config/ready`), a database (`pg_isready -h db`). `explain` needs that target
//! and the Service behind it to say *why* the pod does not get past init. This module reads `command`
//! and `args` the way the kubelet and then the shell would, without running anything:
//!
//! 1. the kubelet expands `$(VAR)` from the container's `env` (literal values and the downward-API
//!    namespace, the only values knowable without the cluster);
//! 2. a shell `-c` script is split into simple commands (quotes, backslashes, `$VAR`/`${VAR}`,
//!    `$(…)`/backticks, redirections, here-documents, loops); variables known from `env` or from
//!    assignments earlier in the script are substituted, the service-account namespace file reads as
//!    the pod's namespace, anything else stays as written;
//! 3. each simple command is matched against the tools people wait with.
//!
//! It is a reader for real-world init scripts, not a shell: no field splitting, globbing, functions
//! or arithmetic.

use std::collections::HashMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Container;
use serde::Serialize;

/// What an init container's command waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitTarget {
    /// The program that does the waiting: `nslookup`, `nc`, `curl`, `pg_isready`, `wait-for-it`,
    /// `/dev/tcp` (a bash redirection), …
    pub tool: String,
    /// The host after variable substitution, e.g. `myservice.seed.svc.cluster.local`. Variables that
    /// could not be resolved stay as written (`$DB_HOST`).
    pub host: String,
    /// The port, explicit or the protocol's default (80/443 for URLs, 5432 for PostgreSQL clients…);
    /// `None` for name lookups.
    pub port: Option<u16>,
    /// The URL, for HTTP(S) and URI-style targets.
    pub url: Option<String>,
    /// Whether the check repeats: it sits inside a shell loop (`until`, `while`, or a `for` retry
    /// loop), or the tool retries by itself (`wait-for-it`, `dockerize -wait`, …).
    pub in_loop: bool,
    /// The simple command it came from, as written, for evidence.
    pub fragment: String,
}

/// A Kubernetes Service, by name and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRef {
    pub name: String,
    pub namespace: String,
}

/// Everything `container` waits for, each distinct target once, in the order it appears.
pub fn wait_targets(container: &Container, pod_namespace: &str) -> Vec<WaitTarget> {
    let env = container_env(container, pod_namespace);
    // The kubelet appends `args` to `command` and expands `$(VAR)` in both. With no `command` the
    // image's entrypoint runs `args`; the common case (busybox-like images, no entrypoint) runs them
    // directly, which is the only reading available without the image.
    let argv: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(|arg| kubelet_expand(arg, &env))
        .collect();
    let fragment = argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    let mut analyzer = Analyzer {
        namespace: pod_namespace,
        found: Vec::new(),
    };
    let site = Site {
        fragment: &fragment,
        in_loop: false,
    };
    analyzer.argv(&argv, &env, &site);
    dedup(analyzer.found)
}

/// The Service a host name reaches through cluster DNS from a pod in `pod_namespace`, or `None` for
/// names that are not cluster Services (IPs, external domains, localhost).
///
/// Assumes `dnsPolicy: ClusterFirst` with the cluster domain `cluster.local`, i.e. the search path
/// `<ns>.svc.cluster.local svc.cluster.local cluster.local`. Uppercase is folded; every label must be
/// a DNS-1123 label.
///
/// - `NAME` → `NAME` in the pod's namespace;
/// - `NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local` → `NAME` in `NS`; a trailing dot makes a
///   name absolute (no search path), so only the full `….svc.cluster.local.` form is accepted with it;
/// - `POD.NAME.NS.svc[.cluster.local]` and `POD.NAME.NS` (a pod's name under a headless Service, as
///   StatefulSets use) → the Service `NAME` in `NS`;
/// - `a.b` is ambiguous: the search path makes it Service `a` in namespace `b`, but it may also be a
///   domain, or pod `a` behind headless Service `b` in the pod's own namespace (tried first by the
///   resolver). It is read as a StatefulSet pod when `a` is `<prefix>-<ordinal>` and `b` starts with
///   that prefix (`web-0.web`, `mysql-0.mysql-headless`), as a domain (→ `None`) when `b` is a
///   well-known top-level domain ([`WELL_KNOWN_TLDS`]), and as Service `a` in namespace `b` otherwise.
///   The same TLD rule applies to `a.b.c`;
/// - `localhost`, `*.localhost`, IP addresses (and names ending in a numeric label, which the
///   resolver reads as IPv4 shorthand), and anything longer that is not a `.svc` form → `None`.
pub fn resolve_service(host: &str, pod_namespace: &str) -> Option<ServiceRef> {
    let host = host.trim().to_ascii_lowercase();
    let (name, absolute) = match host.strip_suffix('.') {
        Some(name) => (name, true),
        None => (host.as_str(), false),
    };
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if !labels.iter().all(|l| is_dns1123_label(l)) {
        return None;
    }
    let last = *labels.last()?;
    if last == "localhost" || last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let service = |name: &str, namespace: &str| {
        Some(ServiceRef {
            name: name.to_string(),
            namespace: namespace.to_string(),
        })
    };
    let in_svc_zone = |rest: &[&str]| match rest {
        [name, ns] | [_, name, ns] => service(name, ns),
        _ => None,
    };
    match labels.as_slice() {
        [rest @ .., "svc", "cluster", "local"] => in_svc_zone(rest),
        _ if absolute => None,
        [name] => service(name, pod_namespace),
        [rest @ .., "svc"] => in_svc_zone(rest),
        [pod, name] if is_statefulset_pod(pod, name) => service(name, pod_namespace),
        [_, tld] | [_, _, tld] if WELL_KNOWN_TLDS.contains(tld) => None,
        [name, ns] | [_, name, ns] => service(name, ns),
        _ => None,
    }
}

/// Top-level domains that make `a.b` / `a.b.c` read as an outside domain rather than a Service in a
/// namespace. Deliberately small: generic and common country TLDs, and the private suffixes that
/// corporate networks use.
pub const WELL_KNOWN_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "io",
    // Not "dev" (nor "test"): they are common namespace names, and `db.dev` in a cluster is far
    // more often Service db in namespace dev than a public domain.
    "app",
    "cloud",
    "co",
    "ai",
    "me",
    "sh",
    "tech",
    "xyz",
    "uk",
    "de",
    "eu",
    "us",
    "fr",
    "nl",
    "jp",
    "cn",
    "ru",
    "internal",
    "local",
    "localdomain",
    "corp",
    "lan",
    "home",
    "intranet",
    "arpa",
    "example",
];

fn is_dns1123_label(label: &str) -> bool {
    let b = label.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `web-0` under `web`, `mysql-2` under `mysql-headless`: a StatefulSet pod's stable DNS name.
fn is_statefulset_pod(pod: &str, service: &str) -> bool {
    pod.rsplit_once('-').is_some_and(|(prefix, ordinal)| {
        !ordinal.is_empty()
            && ordinal.bytes().all(|b| b.is_ascii_digit())
            && service.starts_with(prefix)
    })
}

type Vars = HashMap<String, String>;

/// The container's environment as far as it is knowable offline: literal values (themselves
/// `$(VAR)`-expanded against earlier entries, as the kubelet does) and the downward-API namespace.
fn container_env(container: &Container, pod_namespace: &str) -> Vars {
    let mut env = Vars::new();
    for var in container.env.iter().flatten() {
        let field = var
            .value_from
            .as_ref()
            .and_then(|from| from.field_ref.as_ref())
            .map(|field| field.field_path.as_str());
        if let Some(value) = &var.value {
            let value = kubelet_expand(value, &env);
            env.insert(var.name.clone(), value);
        } else if field == Some("metadata.namespace") {
            env.insert(var.name.clone(), pod_namespace.to_string());
        } else {
            // Set from a Secret, ConfigMap or another field: unknown here, and it must hide an
            // earlier literal of the same name.
            env.remove(&var.name);
        }
    }
    env
}

/// The kubelet's `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion):
/// `$$` is a literal `$`, an unknown or unterminated reference stays as written.
fn kubelet_expand(input: &str, env: &Vars) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('(')
            .and_then(|inner| inner.split_once(')'))
        {
            match env.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// An argument as a shell would need it written, for fragments of exec-form commands.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains(|c: char| c.is_whitespace() || "'\"\\;&|<>".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Keeps the first of equal targets; a target seen anywhere in a loop counts as looping.
fn dedup(found: Vec<WaitTarget>) -> Vec<WaitTarget> {
    let mut out: Vec<WaitTarget> = Vec::with_capacity(found.len());
    for target in found {
        let same = out.iter_mut().find(|t| {
            (&t.tool, &t.host, t.port, &t.url)
                == (&target.tool, &target.host, target.port, &target.url)
        });
        match same {
            Some(existing) => existing.in_loop |= target.in_loop,
            None => out.push(target),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Shell lexing

/// One piece of a shell word, before expansion.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    /// `$NAME`, `${NAME}`, `${NAME:-default}`; `raw` is what stays when the name is unknown.
    Param {
        name: String,
        default: Option<String>,
        raw: String,
    },
    /// `$(…)` or `` `…` ``: `inner` is the script, `raw` the text as written.
    Subst {
        inner: String,
        raw: String,
    },
}

#[derive(Debug)]
struct Word {
    segs: Vec<Seg>,
    /// Any quoting or escaping: a quoted word is never a reserved word.
    quoted: bool,
    start: usize,
    end: usize,
}

impl Word {
    /// The word with expansions left as written (for reserved words and here-document delimiters).
    fn literal(&self) -> String {
        self.segs
            .iter()
            .map(|seg| match seg {
                Seg::Lit(s) | Seg::Param { raw: s, .. } | Seg::Subst { raw: s, .. } => s.as_str(),
            })
            .collect()
    }

    fn reserved(&self) -> Option<String> {
        let text = self.literal();
        let reserved = [
            "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until",
            "for", "in", "!", "{", "}",
        ];
        (!self.quoted && reserved.contains(&text.as_str())).then_some(text)
    }
}

#[derive(Debug)]
enum Tok {
    Word(Word),
    /// A redirection operator starting at this position; its target is the next word.
    Redir(usize),
    /// Anything that ends a simple command: `;`, `&&`, `||`, `|`, `&`, newline, `(`, `)`.
    Sep,
}

struct Lexer<'a> {
    s: &'a [char],
    i: usize,
    /// Here-documents opened on the current line (delimiter, strip leading tabs): their bodies
    /// start after the next newline and are data, not commands.
    heredocs: Vec<(String, bool)>,
    /// Set by `<<`/`<<-`: the next word is a here-document delimiter.
    delimiter_next: Option<bool>,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a [char]) -> Self {
        Lexer {
            s,
            i: 0,
            heredocs: Vec::new(),
            delimiter_next: None,
        }
    }

    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn raw(&self, start: usize) -> String {
        self.s[start..self.i].iter().collect()
    }

    fn next_tok(&mut self) -> Option<Tok> {
        loop {
            match self.peek(0)? {
                ' ' | '\t' | '\r' => self.i += 1,
                '\\' if self.peek(1) == Some('\n') => self.i += 2,
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                '\n' => {
                    self.i += 1;
                    self.skip_heredoc_bodies();
                    return Some(Tok::Sep);
                }
                '&' if self.peek(1) == Some('>') => return Some(self.redirection()),
                c @ (';' | '&' | '|') => {
                    self.i += 1;
                    // `;;`, `&&`, `||`, `|&`, `;&`: one separator.
                    if matches!(
                        (c, self.peek(0)),
                        (';', Some(';' | '&')) | ('&', Some('&')) | ('|', Some('|' | '&'))
                    ) {
                        self.i += 1;
                    }
                    return Some(Tok::Sep);
                }
                '(' | ')' => {
                    self.i += 1;
                    return Some(Tok::Sep);
                }
                '<' | '>' => return Some(self.redirection()),
                c if c.is_ascii_digit() && self.fd_prefix() => return Some(self.redirection()),
                _ => return Some(Tok::Word(self.word(false))),
            }
        }
    }

    /// `2>&1`, `3<>…`: digits directly before a redirection name a file descriptor, not a word.
    fn fd_prefix(&mut self) -> bool {
        let digits = self.s[self.i..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let is_fd = matches!(self.peek(digits), Some('<' | '>'));
        if is_fd {
            self.i += digits;
        }
        is_fd
    }

    fn redirection(&mut self) -> Tok {
        let start = self.i;
        let first = self.s[self.i];
        self.i += 1;
        match (first, self.peek(0)) {
            ('&', _) => {
                self.i += 1;
                if self.peek(0) == Some('>') {
                    self.i += 1;
                }
            }
            ('<', Some('<')) => {
                self.i += 1;
                if self.peek(0) == Some('<') {
                    self.i += 1; // here-string: an ordinary word follows
                } else {
                    let strip = self.peek(0) == Some('-');
                    if strip {
                        self.i += 1;
                    }
                    self.delimiter_next = Some(strip);
                }
            }
            ('>', Some('>' | '&' | '|')) | ('<', Some('&' | '>')) => self.i += 1,
            _ => {}
        }
        Tok::Redir(start)
    }

    fn skip_heredoc_bodies(&mut self) {
        for (delimiter, strip_tabs) in std::mem::take(&mut self.heredocs) {
            while self.i < self.s.len() {
                let start = self.i;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let line = self.raw(start);
                self.i += 1;
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == delimiter {
                    break;
                }
            }
        }
    }

    /// One word; with `whole` the rest of the input is one word (for `${VAR:-default}` text).
    fn word(&mut self, whole: bool) -> Word {
        let start = self.i;
        let mut segs = Vec::new();
        let mut lit = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' if !whole => {
                    break;
                }
                '\\' => {
                    quoted = true;
                    self.i += 1;
                    match self.peek(0) {
                        Some('\n') => self.i += 1,
                        Some(next) => {
                            lit.push(next);
                            self.i += 1;
                        }
                        None => lit.push('\\'),
                    }
                }
                '\'' => {
                    quoted = true;
                    self.i += 1;
                    while let Some(next) = self.peek(0) {
                        self.i += 1;
                        if next == '\'' {
                            break;
                        }
                        lit.push(next);
                    }
                }
                '"' => {
                    quoted = true;
                    self.i += 1;
                    self.double_quoted(&mut segs, &mut lit);
                }
                '$' | '`' => {
                    flush(&mut segs, &mut lit);
                    segs.push(self.expansion());
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut segs, &mut lit);
        let word = Word {
            segs,
            quoted,
            start,
            end: self.i,
        };
        if let Some(strip_tabs) = self.delimiter_next.take() {
            self.heredocs.push((word.literal(), strip_tabs));
        }
        word
    }

    fn double_quoted(&mut self, segs: &mut Vec<Seg>, lit: &mut String) {
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.i += 1;
                    return;
                }
                // Inside double quotes a backslash escapes only these.
                '\\' => match self.peek(1) {
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        lit.push(next);
                        self.i += 2;
                    }
                    Some('\n') => self.i += 2,
                    _ => {
                        lit.push('\\');
                        self.i += 1;
                    }
                },
                '$' | '`' => {
                    flush(segs, lit);
                    segs.push(self.expansion());
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// An expansion at `$` or a backtick.
    fn expansion(&mut self) -> Seg {
        let start = self.i;
        if self.peek(0) == Some('`') {
            self.i += 1;
            let mut inner = String::new();
            while let Some(c) = self.peek(0) {
                self.i += 1;
                match c {
                    '`' => break,
                    '\\' if matches!(self.peek(0), Some('`' | '\\' | '$')) => {
                        inner.push(self.s[self.i]);
                        self.i += 1;
                    }
                    _ => inner.push(c),
                }
            }
            return Seg::Subst {
                inner,
                raw: self.raw(start),
            };
        }
        self.i += 1;
        match self.peek(0) {
            // `$((…))` arithmetic: not evaluated.
            Some('(') if self.peek(1) == Some('(') => {
                self.balanced('(', ')');
                Seg::Lit(self.raw(start))
            }
            Some('(') => {
                let inner = self.balanced('(', ')');
                Seg::Subst {
                    inner,
                    raw: self.raw(start),
                }
            }
            Some('{') => {
                let inner = self.balanced('{', '}');
                braced_param(&inner, self.raw(start))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                while self
                    .peek(0)
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    self.i += 1;
                }
                Seg::Param {
                    name: self.s[start + 1..self.i].iter().collect(),
                    default: None,
                    raw: self.raw(start),
                }
            }
            // Positional and special parameters (`$1`, `$?`, `$$`…): unknowable, kept as written.
            Some(c) if c.is_ascii_digit() || "?$!#@*-".contains(c) => {
                self.i += 1;
                Seg::Lit(self.raw(start))
            }
            _ => Seg::Lit("$".to_string()),
        }
    }

    /// Consumes `open … close` with nesting, skipping quoted text; returns what is between.
    fn balanced(&mut self, open: char, close: char) -> String {
        let start = self.i + 1;
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                '\\' => self.i += 1,
                '\'' => {
                    while self.peek(0).is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                '"' => {
                    while let Some(c) = self.peek(0) {
                        self.i += if c == '\\' { 2 } else { 1 };
                        if c == '"' {
                            break;
                        }
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.i = self.i.min(self.s.len());
        let end = if depth == 0 { self.i - 1 } else { self.i };
        self.s[start.min(end)..end].iter().collect()
    }
}

fn flush(segs: &mut Vec<Seg>, lit: &mut String) {
    if !lit.is_empty() {
        segs.push(Seg::Lit(std::mem::take(lit)));
    }
}

/// `${NAME}` and `${NAME:-default}` (also `-`, `:=`, `=`); other operators (`${#x}`, `${x%.*}`…)
/// are not evaluated and stay as written.
fn braced_param(inner: &str, raw: String) -> Seg {
    let name_len = inner
        .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    let starts_well = name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic());
    let default = [":-", "-", ":=", "="]
        .iter()
        .find_map(|prefix| op.strip_prefix(prefix));
    match (starts_well, op.is_empty(), default) {
        (true, true, _) => Seg::Param {
            name: name.to_string(),
            default: None,
            raw,
        },
        (true, false, Some(default)) => Seg::Param {
            name: name.to_string(),
            default: Some(default.to_string()),
            raw,
        },
        _ => Seg::Lit(raw),
    }
}

// ---------------------------------------------------------------------------------------------
// Analysis

/// Where a command was found: the evidence text and whether it repeats.
struct Site<'f> {
    fragment: &'f str,
    in_loop: bool,
}

/// A simple command being collected from tokens.
#[derive(Default)]
struct Simple {
    words: Vec<Word>,
    redirects: Vec<Word>,
    start: Option<usize>,
    end: usize,
}

impl Simple {
    fn touch(&mut self, start: usize, end: usize) {
        self.start.get_or_insert(start);
        self.end = end;
    }
}

/// Header words that are not commands: `for NAME in WORDS` and `case WORD in`.
#[derive(PartialEq)]
enum Header {
    None,
    For,
    Case,
}

struct Analyzer<'n> {
    namespace: &'n str,
    found: Vec<WaitTarget>,
}

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

const NAMESPACE_FILES: &[&str] = &[
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
    "/run/secrets/kubernetes.io/serviceaccount/namespace",
];

impl Analyzer<'_> {
    fn script(&mut self, script: &str, vars: &Vars, in_loop: bool) {
        // Assignments in the script are local to it (and to the commands after them).
        let mut vars = vars.clone();
        let chars: Vec<char> = script.chars().collect();
        let mut lexer = Lexer::new(&chars);
        let mut loops = 0usize;
        let mut header = Header::None;
        let mut cmd = Simple::default();
        while let Some(tok) = lexer.next_tok() {
            match tok {
                Tok::Word(word) => {
                    let reserved = if cmd.words.is_empty() {
                        word.reserved()
                    } else {
                        None
                    };
                    if header != Header::None {
                        if header == Header::Case && reserved.as_deref() == Some("in") {
                            header = Header::None;
                        }
                        continue;
                    }
                    match reserved.as_deref() {
                        Some("until" | "while") => loops += 1,
                        Some("for") => {
                            loops += 1;
                            header = Header::For;
                        }
                        Some("case") => header = Header::Case,
                        Some("done") => loops = loops.saturating_sub(1),
                        Some(_) => {}
                        None => {
                            cmd.touch(word.start, word.end);
                            cmd.words.push(word);
                        }
                    }
                }
                Tok::Redir(start) => {
                    if let Some(Tok::Word(target)) = lexer.next_tok() {
                        cmd.touch(start, target.end);
                        cmd.redirects.push(target);
                    }
                }
                Tok::Sep => {
                    if header == Header::For {
                        header = Header::None;
                    }
                    let cmd = std::mem::take(&mut cmd);
                    self.simple(&cmd, &chars, &mut vars, in_loop || loops > 0);
                }
            }
        }
        self.simple(&cmd, &chars, &mut vars, in_loop || loops > 0);
    }

    fn simple(&mut self, cmd: &Simple, chars: &[char], vars: &mut Vars, in_loop: bool) {
        let Some(start) = cmd.start else { return };
        let fragment: String = chars[start..cmd.end].iter().collect();
        let site = Site {
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
            self.dev_tcp(&target, &site);
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
        self.argv(&argv, vars, &site);
    }

    fn expand(&mut self, word: &Word, vars: &Vars, in_loop: bool) -> String {
        let mut out = String::new();
        for seg in &word.segs {
            match seg {
                Seg::Lit(s) => out.push_str(s),
                Seg::Param { name, default, raw } => {
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
                Seg::Subst { inner, raw } => {
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
    fn argv(&mut self, argv: &[String], vars: &Vars, site: &Site) {
        let Some(program) = argv.first() else { return };
        let name = program.rsplit('/').next().unwrap_or(program);
        let rest = &argv[1..];
        match name {
            "exec" | "command" | "nohup" | "time" | "builtin" | "busybox" => {
                self.argv(rest, vars, site)
            }
            "gosu" | "su-exec" => self.argv(rest.get(1..).unwrap_or_default(), vars, site),
            "timeout" => self.argv(after_timeout(rest), vars, site),
            "env" => self.argv(after_env(rest), vars, site),
            _ if SHELLS.contains(&name) => {
                if let Some(script) = shell_script(rest) {
                    self.script(script, vars, site.in_loop);
                }
            }
            _ => self.tool(name.strip_suffix(".sh").unwrap_or(name), rest, vars, site),
        }
    }

    fn push(&mut self, site: &Site, tool: &str, host: &str, port: Option<u16>, url: Option<&str>) {
        self.push_looping(site, tool, host, port, url, false);
    }

    fn push_looping(
        &mut self,
        site: &Site,
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
            in_loop: site.in_loop || tool_loops,
            fragment: site.fragment.to_string(),
        });
    }

    fn push_url(&mut self, site: &Site, tool: &str, url: &str, tool_loops: bool) {
        if let Some((host, port)) = split_url(url) {
            self.push_looping(site, tool, host, port, Some(url), tool_loops);
        }
    }

    fn tool(&mut self, name: &str, args: &[String], vars: &Vars, site: &Site) {
        match name {
            "nslookup" | "host" => {
                let a = getopt(args, if name == "host" { "tcWNRm" } else { "" }, &[]);
                if let Some(host) = a.pos.first() {
                    self.push(site, name, host, None, None);
                }
            }
            "dig" => {
                let a = getopt(args, "bcfkpqtxy", &[]);
                let host = a.value(&["-q"]).or_else(|| {
                    a.pos
                        .iter()
                        .copied()
                        .find(|p| !p.starts_with('@') && !is_record_type(p))
                });
                if let Some(host) = host {
                    self.push(site, name, host, None, None);
                }
            }
            "getent" => {
                let a = getopt(args, "s", &[]);
                if let [db, host, ..] = a.pos.as_slice()
                    && (db.starts_with("hosts") || db.starts_with("ahosts"))
                {
                    self.push(site, name, host, None, None);
                }
            }
            "ping" => {
                let a = getopt(args, "cWwistIQlpM", &[]);
                if let Some(host) = a.pos.first() {
                    self.push(site, name, host, None, None);
                }
            }
            "nc" | "ncat" | "netcat" | "telnet" => {
                let a = getopt(
                    args,
                    if name == "telnet" {
                        "lebn"
                    } else {
                        "wWipsqXxecIOTbPMm"
                    },
                    &[
                        "--wait",
                        "--source-port",
                        "--source",
                        "--sh-exec",
                        "--exec",
                        "--proxy",
                    ],
                );
                // A listener is a server, not a wait.
                if a.flag("-l") || a.flag("--listen") {
                    return;
                }
                if let Some(host) = a.pos.first() {
                    let port = a.pos.get(1).and_then(|p| p.parse().ok());
                    self.push(site, name, host, port, None);
                }
            }
            "wget" => {
                let a = getopt(args, "OoaTtwUPeYBiDQ", WGET_LONG_VALUES);
                if let Some(url) = a.pos.first() {
                    self.push_url(site, name, url, false);
                }
            }
            "curl" => {
                let a = getopt(args, "oHdXmuwAeEbcTxFKrYyzCDUQt", CURL_LONG_VALUES);
                if let Some(url) = a.value(&["--url"]).or_else(|| a.pos.first().copied()) {
                    self.push_url(site, name, url, false);
                }
            }
            "wait-for-it" | "wait-for" => {
                let a = getopt(args, "hpt", &["--host", "--port", "--timeout"]);
                if let Some(host) = a.value(&["-h", "--host"]) {
                    let port = a.value(&["-p", "--port"]).and_then(|p| p.parse().ok());
                    self.push_looping(site, "wait-for-it", host, port, None, true);
                }
                for target in &a.pos {
                    self.push_address(site, "wait-for-it", target);
                }
                // `wait-for-it db:5432 -- wait-for-it cache:6379 -- app`
                self.argv(a.after_dashdash, vars, site);
            }
            "wait4x" => {
                let a = getopt(args, "ti", &["--timeout", "--interval"]);
                // `wait4x tcp HOST:PORT`, `wait4x http URL`, `wait4x redis URI`; other checks
                // take DSNs that are not addresses.
                let check = a.pos.first().copied().unwrap_or_default();
                for target in a.pos.iter().skip(1) {
                    if check == "tcp" || target.contains("://") {
                        self.push_address(site, name, target);
                    }
                }
                self.argv(a.after_dashdash, vars, site);
            }
            "dockerize" => {
                let mut it = args.iter();
                while let Some(arg) = it.next() {
                    // Go flags: `-wait X`, `--wait X`, `-wait=X`.
                    let Some(flag) = arg.strip_prefix('-') else {
                        continue;
                    };
                    let value = match flag.trim_start_matches('-').split_once('=') {
                        Some(("wait", value)) => Some(value),
                        None if flag.trim_start_matches('-') == "wait" => {
                            it.next().map(String::as_str)
                        }
                        _ => None,
                    };
                    if let Some(value) = value.filter(|v| !v.starts_with("unix:")) {
                        self.push_url(site, name, value, true);
                    }
                }
            }
            _ => self.client(name, args, vars, site),
        }
    }

    /// `HOST:PORT` or a URL, as wait-for-it style tools take them.
    fn push_address(&mut self, site: &Site, tool: &str, target: &str) {
        if target.contains("://") {
            self.push_url(site, tool, target, true);
        } else {
            let (host, port) = split_host_port(target);
            self.push_looping(site, tool, host, port, None, true);
        }
    }

    /// Database clients used as readiness checks: host and port flags, a URI, or the client's
    /// environment variables.
    fn client(&mut self, name: &str, args: &[String], vars: &Vars, site: &Site) {
        let Some(client) = CLIENTS.iter().find(|c| c.names.contains(&name)) else {
            return;
        };
        // MySQL's `-pSECRET` would otherwise read as a cluster of flags ending in `-P ECRET`.
        let args: Vec<String> = args
            .iter()
            .filter(|a| client.attached_only.is_none_or(|p| !a.starts_with(p)))
            .cloned()
            .collect();
        let a = getopt(&args, client.value_shorts, &["--host", "--port"]);
        let uri = a
            .opts
            .iter()
            .map(|(_, v)| *v)
            .chain(a.pos.iter().copied())
            .find(|v| v.contains("://"));
        let from_uri = uri.and_then(split_url);
        let env = |key: Option<&str>| key.and_then(|k| vars.get(k)).map(String::as_str);
        let host = a
            .value(client.host)
            // mongosh `--host rs0/db-0:27017,db-1:27017`
            .map(|h| h.rsplit('/').next().unwrap_or(h))
            .map(split_host_port)
            .or(from_uri)
            .or_else(|| env(client.host_env).map(split_host_port));
        let Some((host, host_port)) = host else {
            // No host: a local socket or localhost, never a Service.
            return;
        };
        let port = a
            .value(client.port)
            .and_then(|p| p.parse().ok())
            .or(host_port)
            .or_else(|| env(client.port_env).and_then(|p| p.parse().ok()))
            .unwrap_or(client.default_port);
        self.push_looping(site, name, host, Some(port), uri, false);
    }

    /// bash's `/dev/tcp/HOST/PORT` (and `/dev/udp`) redirection targets.
    fn dev_tcp(&mut self, target: &str, site: &Site) {
        let rest = target
            .strip_prefix("/dev/tcp/")
            .or_else(|| target.strip_prefix("/dev/udp/"));
        if let Some((host, port)) = rest.and_then(|r| r.split_once('/')) {
            self.push(site, "/dev/tcp", host, port.parse().ok(), None);
        }
    }
}

/// Database clients: flags that name the server, its default port, and the environment variables
/// the client falls back to.
struct Client {
    names: &'static [&'static str],
    /// Short options that take a value (so their values are not taken for positionals).
    value_shorts: &'static str,
    /// An option whose value can only be attached (`-pSECRET`): dropped before parsing.
    attached_only: Option<&'static str>,
    host: &'static [&'static str],
    port: &'static [&'static str],
    default_port: u16,
    host_env: Option<&'static str>,
    port_env: Option<&'static str>,
}

const CLIENTS: &[Client] = &[
    Client {
        names: &["pg_isready", "psql"],
        value_shorts: "hpdUtcfvoLTPFR",
        attached_only: None,
        host: &["-h", "--host"],
        port: &["-p", "--port"],
        default_port: 5432,
        host_env: Some("PGHOST"),
        port_env: Some("PGPORT"),
    },
    Client {
        names: &["mysqladmin", "mysql"],
        value_shorts: "hPuSeDci",
        attached_only: Some("-p"),
        host: &["-h", "--host"],
        port: &["-P", "--port"],
        default_port: 3306,
        host_env: Some("MYSQL_HOST"),
        port_env: Some("MYSQL_TCP_PORT"),
    },
    Client {
        names: &["redis-cli"],
        value_shorts: "hpanusri",
        attached_only: None,
        host: &["-h"],
        port: &["-p"],
        default_port: 6379,
        host_env: None,
        port_env: None,
    },
    Client {
        names: &["mongosh", "mongo"],
        value_shorts: "up",
        attached_only: None,
        host: &["--host"],
        port: &["--port"],
        default_port: 27017,
        host_env: None,
        port_env: None,
    },
];

const WGET_LONG_VALUES: &[&str] = &[
    "--header",
    "--timeout",
    "--tries",
    "--user-agent",
    "--output-document",
    "--output-file",
    "--post-data",
    "--post-file",
    "--method",
    "--body-data",
    "--wait",
    "--user",
    "--password",
    "--ca-certificate",
    "--certificate",
    "--private-key",
    "--directory-prefix",
    "--connect-timeout",
    "--read-timeout",
    "--dns-timeout",
];

const CURL_LONG_VALUES: &[&str] = &[
    "--header",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--request",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--output",
    "--write-out",
    "--user",
    "--user-agent",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "--resolve",
    "--connect-to",
    "--url",
    "--proxy",
    "--form",
    "--config",
    "--cookie",
    "--unix-socket",
    "--interface",
    "--oauth2-bearer",
];

/// Arguments split the way getopt-style tools read them.
struct Args<'a> {
    /// Options in order, e.g. `("-h", "db")`, `("--spider", "")`.
    opts: Vec<(String, &'a str)>,
    pos: Vec<&'a str>,
    /// What follows `--`.
    after_dashdash: &'a [String],
}

impl<'a> Args<'a> {
    fn value(&self, names: &[&str]) -> Option<&'a str> {
        self.opts
            .iter()
            .rev()
            .find(|(name, _)| names.contains(&name.as_str()))
            .map(|(_, value)| *value)
    }

    fn flag(&self, name: &str) -> bool {
        self.opts.iter().any(|(n, _)| n == name)
    }
}

/// `value_shorts`: short options that take a value (attached or next); `value_longs`: long options
/// that take the next argument when not written `--name=value`. `+opts` (dig) are flags.
fn getopt<'a>(args: &'a [String], value_shorts: &str, value_longs: &[&str]) -> Args<'a> {
    let mut parsed = Args {
        opts: Vec::new(),
        pos: Vec::new(),
        after_dashdash: &[],
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if arg == "--" {
            parsed.after_dashdash = &args[i..];
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => parsed.opts.push((format!("--{name}"), value)),
                None if value_longs.contains(&arg) => {
                    let value = args.get(i).map_or("", String::as_str);
                    i += 1;
                    parsed.opts.push((arg.to_string(), value));
                }
                None => parsed.opts.push((arg.to_string(), "")),
            }
        } else if arg.len() > 1 && arg.starts_with('+') {
            parsed.opts.push((arg.to_string(), ""));
        } else if arg.len() > 1 && arg.starts_with('-') {
            for (at, c) in arg.char_indices().skip(1) {
                if value_shorts.contains(c) {
                    let attached = &arg[at + c.len_utf8()..];
                    let value = if attached.is_empty() {
                        i += 1;
                        args.get(i - 1).map_or("", String::as_str)
                    } else {
                        attached
                    };
                    parsed.opts.push((format!("-{c}"), value));
                    break;
                }
                parsed.opts.push((format!("-{c}"), ""));
            }
        } else {
            parsed.pos.push(arg);
        }
    }
    parsed
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

fn is_record_type(word: &str) -> bool {
    const TYPES: &[&str] = &[
        "a", "aaaa", "any", "cname", "mx", "ns", "ptr", "soa", "srv", "txt", "in",
    ];
    TYPES.contains(&word.to_ascii_lowercase().as_str())
}

/// Host and port of a URL; the port defaults by scheme. A URL without a scheme is HTTP, as curl
/// and wget assume.
fn split_url(url: &str) -> Option<(&str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(host_port);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "postgres" | "postgresql" => Some(5432),
        "mysql" => Some(3306),
        "redis" | "rediss" => Some(6379),
        "mongodb" => Some(27017),
        _ => None,
    };
    (!host.is_empty()).then_some((host, port.or(default)))
}

/// `host:port`, `[v6]:port`, or a bare host; of a list (`a:1,b:2`) the first.
fn split_host_port(target: &str) -> (&str, Option<u16>) {
    let target = target.split(',').next().unwrap_or(target);
    if let Some((host, after)) = target
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (target, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(spec: serde_json::Value) -> Container {
        let mut spec = spec;
        spec["name"] = "init".into();
        serde_json::from_value(spec).unwrap()
    }

    fn script(script: &str) -> Container {
        container(serde_json::json!({"command": ["sh", "-c", script]}))
    }

    /// (tool, host, port, in_loop) of each target.
    fn summary(targets: &[WaitTarget]) -> Vec<(&str, &str, Option<u16>, bool)> {
        targets
            .iter()
            .map(|t| (t.tool.as_str(), t.host.as_str(), t.port, t.in_loop))
            .collect()
    }

    fn svc(name: &str, namespace: &str) -> Option<ServiceRef> {
        Some(ServiceRef {
            name: name.into(),
            namespace: namespace.into(),
        })
    }

    #[test]
    fn kubernetes_docs_myapp_pod() {
        let c = script(
            "until nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do echo waiting for myservice; sleep 2; done",
        );
        let targets = wait_targets(&c, "seed");
        assert_eq!(
            targets,
            [WaitTarget {
                tool: "nslookup".into(),
                host: "myservice.seed.svc.cluster.local".into(),
                port: None,
                url: None,
                in_loop: true,
                fragment: "nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local".into(),
            }]
        );
        assert_eq!(
            resolve_service(&targets[0].host, "seed"),
            svc("myservice", "seed")
        );
    }

    #[test]
    fn backtick_namespace_and_multiline_script() {
        let c = container(serde_json::json!({
            "command": ["/bin/sh", "-ec"],
            "args": ["while ! nslookup mydb.`cat /var/run/secrets/kubernetes.io/serviceaccount/namespace`\ndo\n  echo 'waiting; for db'  # comment: nc -z x 1\n  sleep 2\ndone\n"],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "shop")),
            [("nslookup", "mydb.shop", None, true)]
        );
    }

    #[test]
    fn nc_loop() {
        let c = script("until nc -z postgres 5432; do sleep 1; done");
        let targets = wait_targets(&c, "default");
        assert_eq!(summary(&targets), [("nc", "postgres", Some(5432), true)]);
        assert_eq!(targets[0].fragment, "nc -z postgres 5432");
    }

    #[test]
    fn nc_variants_and_telnet() {
        let c = script(
            "nc -zv -w 2 redis 6379 && ncat --wait 3 mq 5672 </dev/null; nc -w1 cache 11211; telnet ldap 389; nc -l -p 8080",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("nc", "redis", Some(6379), false),
                ("ncat", "mq", Some(5672), false),
                ("nc", "cache", Some(11211), false),
                ("telnet", "ldap", Some(389), false),
            ]
        );
    }

    #[test]
    fn pg_isready_in_for_retry_loop_with_env_host() {
        let c = container(serde_json::json!({
            "command": ["sh", "-c", "for i in $(seq 1 30); do pg_isready -h $DB_HOST -p 5432 && exit 0; sleep 2; done; exit 1"],
            "env": [{"name": "DB_HOST", "value": "orders-db.data"}],
        }));
        let targets = wait_targets(&c, "shop");
        assert_eq!(
            summary(&targets),
            [("pg_isready", "orders-db.data", Some(5432), true)]
        );
        assert_eq!(targets[0].fragment, "pg_isready -h $DB_HOST -p 5432");
        assert_eq!(
            resolve_service(&targets[0].host, "shop"),
            svc("orders-db", "data")
        );
    }

    #[test]
    fn database_clients() {
        let c = container(serde_json::json!({
            "command": ["bash", "-c", r#"
                until pg_isready --host=pg --port=6432; do sleep 1; done
                until mysqladmin ping -h"${MYSQL_HOST}" -P 3307 -uroot -p"$PW" --silent; do sleep 1; done
                until redis-cli -h redis-master -a "$PASS" ping | grep -q PONG; do sleep 1; done
                until mongosh --host rs0/mongo-0.mongo:27017 --eval 'db.runCommand("ping")'; do sleep 2; done
                until psql postgresql://app@pg-primary:5433/app -c 'select 1'; do sleep 1; done
                pg_isready && redis-cli ping
            "#],
            "env": [{"name": "MYSQL_HOST", "value": "mysql.db"}],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("pg_isready", "pg", Some(6432), true),
                ("mysqladmin", "mysql.db", Some(3307), true),
                ("redis-cli", "redis-master", Some(6379), true),
                ("mongosh", "mongo-0.mongo", Some(27017), true),
                ("psql", "pg-primary", Some(5433), true),
            ]
        );
    }

    #[test]
    fn pg_client_falls_back_to_pghost() {
        let c = container(serde_json::json!({
            "command": ["sh", "-c", "until pg_isready; do sleep 1; done"],
            "env": [{"name": "PGHOST", "value": "db"}, {"name": "PGPORT", "value": "5433"}],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("pg_isready", "db", Some(5433), true)]
        );
    }

    #[test]
    fn wait_for_it_exec_form() {
        let c = container(serde_json::json!({
            "command": ["/bin/wait-for-it.sh", "mysql:3306", "-t", "0"],
        }));
        let targets = wait_targets(&c, "ns");
        assert_eq!(
            summary(&targets),
            [("wait-for-it", "mysql", Some(3306), true)]
        );
        assert_eq!(targets[0].fragment, "/bin/wait-for-it.sh mysql:3306 -t 0");
    }

    #[test]
    fn wait_for_it_variants_chain() {
        let c = script(
            "./wait-for-it.sh -h db -p 5432 -t 60 -- ./wait-for-it.sh kafka:9092 -s -- java -jar app.jar",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("wait-for-it", "db", Some(5432), true),
                ("wait-for-it", "kafka", Some(9092), true),
            ]
        );
    }

    #[test]
    fn wget_spider() {
        let c = script("wget --spider -q http://config.seed.svc/ready");
        let targets = wait_targets(&c, "other");
        assert_eq!(
            summary(&targets),
            [("wget", "config.seed.svc", Some(80), false)]
        );
        assert_eq!(
            targets[0].url.as_deref(),
            Some("http://config.seed.svc/ready")
        );
        assert_eq!(
            resolve_service(&targets[0].host, "other"),
            svc("config", "seed")
        );
    }

    #[test]
    fn wget_output_options() {
        let c = script("until wget -qO- -T 2 config:8080/healthz; do sleep 2; done");
        let targets = wait_targets(&c, "ns");
        assert_eq!(summary(&targets), [("wget", "config", Some(8080), true)]);
    }

    #[test]
    fn curl_health_check() {
        let c = script(
            "until curl -fsS -o /dev/null -w '%{http_code}' --max-time 2 https://vault.vault.svc:8200/v1/sys/health; do sleep 5; done",
        );
        let targets = wait_targets(&c, "app");
        assert_eq!(
            summary(&targets),
            [("curl", "vault.vault.svc", Some(8200), true)]
        );
        assert_eq!(
            targets[0].url.as_deref(),
            Some("https://vault.vault.svc:8200/v1/sys/health")
        );
        assert_eq!(
            resolve_service(&targets[0].host, "app"),
            svc("vault", "vault")
        );
    }

    #[test]
    fn curl_exec_form_default_port() {
        let c = container(serde_json::json!({
            "command": ["curl", "-sf", "https://keycloak/realms/master"],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("curl", "keycloak", Some(443), false)]
        );
    }

    #[test]
    fn curl_inside_test_command_substitution() {
        let c = script(
            r#"until [ "$(curl -s -o /dev/null -w '%{http_code}' http://api:8080/ready)" = "200" ]; do sleep 1; done"#,
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("curl", "api", Some(8080), true)]
        );
    }

    #[test]
    fn kubelet_expands_pod_namespace_from_literal_env() {
        let c = container(serde_json::json!({
            "command": ["sh", "-c", "until nslookup myservice.$(POD_NAMESPACE).svc.cluster.local; do sleep 2; done"],
            "env": [{"name": "POD_NAMESPACE", "value": "staging"}],
        }));
        let targets = wait_targets(&c, "ignored");
        assert_eq!(
            summary(&targets),
            [(
                "nslookup",
                "myservice.staging.svc.cluster.local",
                None,
                true
            )]
        );
        // The fragment is what the shell received, after the kubelet's expansion.
        assert_eq!(
            targets[0].fragment,
            "nslookup myservice.staging.svc.cluster.local"
        );
    }

    #[test]
    fn kubelet_expansion_rules() {
        let env = Vars::from([("A".into(), "x".into())]);
        assert_eq!(
            kubelet_expand("$(A)-$(B)-$$(A)-$$-$(A", &env),
            "x-$(B)-$(A)-$-$(A"
        );
        assert_eq!(kubelet_expand("cost $5", &env), "cost $5");
    }

    #[test]
    fn downward_api_namespace_in_shell_and_kubelet_forms() {
        let c = container(serde_json::json!({
            "command": ["sh", "-c", "until nslookup api.${MY_POD_NAMESPACE}.svc && nc -z db.$POD_NAMESPACE 5432 && nc -z cache.$(POD_NAMESPACE) 6379 && nc -z x.$SECRET_NS 1; do sleep 1; done"],
            "env": [
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "MY_POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                {"name": "SECRET_NS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "ns"}}},
            ],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "prod")),
            [
                ("nslookup", "api.prod.svc", None, true),
                ("nc", "db.prod", Some(5432), true),
                ("nc", "cache.prod", Some(6379), true),
                ("nc", "x.$SECRET_NS", Some(1), true),
            ]
        );
    }

    #[test]
    fn script_assignments_defaults_and_quotes() {
        let c = script(
            "set -eu\nHOST=\"${DB_HOST:-postgres}\"\nPORT=5432\nwhile ! nc -z \"$HOST\" \"$PORT\"; do echo \"waiting for $HOST:$PORT\"; sleep 1; done",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("nc", "postgres", Some(5432), true)]
        );
    }

    #[test]
    fn dns_tools() {
        let c = script(
            "dig +short @10.96.0.10 api.default.svc.cluster.local A; host -W 2 ldap.auth; getent hosts search; echo nslookup fake",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("dig", "api.default.svc.cluster.local", None, false),
                ("host", "ldap.auth", None, false),
                ("getent", "search", None, false),
            ]
        );
    }

    #[test]
    fn dev_tcp_under_timeout_and_nested_shell() {
        let c = script(
            "until timeout 1 bash -c '</dev/tcp/rabbitmq/5672' 2>/dev/null; do sleep 1; done; exec 3<>/dev/tcp/etcd/2379",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("/dev/tcp", "rabbitmq", Some(5672), true),
                ("/dev/tcp", "etcd", Some(2379), false),
            ]
        );
    }

    #[test]
    fn dockerize_and_wait4x() {
        let c = container(serde_json::json!({
            "command": ["dockerize", "-wait", "tcp://db:5432", "-wait", "http://web:8000/health", "-timeout", "60s"],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("dockerize", "db", Some(5432), true),
                ("dockerize", "web", Some(8000), true)
            ]
        );
        let c = script("wait4x tcp mq:5672 --timeout 60s");
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("wait4x", "mq", Some(5672), true)]
        );
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let c = script(
            "cat <<EOF > /etc/app.conf\nhost db\nnc -z fake 1\nEOF\nuntil nc -z real 80; do sleep 1; done",
        );
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("nc", "real", Some(80), true)]
        );
    }

    #[test]
    fn duplicates_merge() {
        let c = script("nc -z db 5432 || (sleep 5; until nc -z db 5432; do sleep 1; done)");
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [("nc", "db", Some(5432), true)]
        );
    }

    #[test]
    fn empty_value_is_not_unknown() {
        let c = container(serde_json::json!({
            "command": ["sh", "-c", "nc -z db$SUFFIX 5432; nc -z ${CACHE:-redis} 6379"],
            "env": [{"name": "SUFFIX", "value": ""}, {"name": "CACHE", "value": ""}],
        }));
        assert_eq!(
            summary(&wait_targets(&c, "ns")),
            [
                ("nc", "db", Some(5432), false),
                ("nc", "redis", Some(6379), false)
            ]
        );
    }

    #[test]
    fn serializes_camel_case() {
        let c = script("until nc -z db 5432; do sleep 1; done");
        let json = serde_json::to_value(&wait_targets(&c, "ns")[0]).unwrap();
        assert_eq!(json["inLoop"], true);
        assert_eq!(json["url"], serde_json::Value::Null);
    }

    #[test]
    fn no_wait_at_all() {
        let c =
            script("cp -r /seed/. /data/ && chown -R 1000:1000 /data; echo done > /data/.ready");
        assert!(wait_targets(&c, "ns").is_empty());
        let c = container(serde_json::json!({"image": "migrate", "args": ["--up"]}));
        assert!(wait_targets(&c, "ns").is_empty());
        let c = container(serde_json::json!({"command": ["sh", "/scripts/init.sh"]}));
        assert!(wait_targets(&c, "ns").is_empty());
    }

    #[test]
    fn resolves_short_and_qualified_names() {
        assert_eq!(
            resolve_service("myservice", "seed"),
            svc("myservice", "seed")
        );
        assert_eq!(
            resolve_service("MyService", "seed"),
            svc("myservice", "seed")
        );
        assert_eq!(resolve_service("db.data", "seed"), svc("db", "data"));
        assert_eq!(resolve_service("db.data.svc", "seed"), svc("db", "data"));
        assert_eq!(
            resolve_service("db.data.svc.cluster.local", "seed"),
            svc("db", "data")
        );
        assert_eq!(
            resolve_service("db.data.svc.cluster.local.", "seed"),
            svc("db", "data")
        );
    }

    #[test]
    fn resolves_statefulset_pod_names() {
        assert_eq!(
            resolve_service("web-0.web.shop.svc.cluster.local", "x"),
            svc("web", "shop")
        );
        assert_eq!(
            resolve_service("web-0.web.shop.svc", "x"),
            svc("web", "shop")
        );
        assert_eq!(resolve_service("web-0.web.shop", "x"), svc("web", "shop"));
        assert_eq!(resolve_service("web-0.web", "x"), svc("web", "x"));
        assert_eq!(
            resolve_service("mysql-1.mysql-headless", "x"),
            svc("mysql-headless", "x")
        );
    }

    #[test]
    fn two_label_names_are_namespaces_unless_tld() {
        assert_eq!(resolve_service("redis.cache", "x"), svc("redis", "cache"));
        assert_eq!(resolve_service("example.com", "x"), None);
        assert_eq!(resolve_service("cluster.local", "x"), None);
        assert_eq!(resolve_service("db.internal.corp", "x"), None);
        assert_eq!(resolve_service("api.github.com", "x"), None);
        assert_eq!(resolve_service("a.b.c.d", "x"), None);
    }

    #[test]
    fn not_services() {
        for host in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "10.96.0.10",
            "127.1",
            "::1",
            "[::1]",
            "myservice.",
            "db.data.svc.",
            "bad_name",
            "-bad",
            "$DB_HOST",
            "",
            "ns.svc.cluster.local",
        ] {
            assert_eq!(resolve_service(host, "x"), None, "{host}");
        }
    }
}
