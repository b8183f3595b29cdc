//! Shell lexing: a script into words (with their quoting and expansions), redirections and
//! command separators.

/// One piece of a shell word, before expansion.
#[derive(Debug, Clone)]
pub(super) enum Seg {
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
pub(super) struct Word {
    pub(super) segs: Vec<Seg>,
    /// Any quoting or escaping: a quoted word is never a reserved word.
    quoted: bool,
    pub(super) start: usize,
    pub(super) end: usize,
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

    pub(super) fn reserved(&self) -> Option<String> {
        let text = self.literal();
        let reserved = [
            "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until",
            "for", "in", "!", "{", "}",
        ];
        (!self.quoted && reserved.contains(&text.as_str())).then_some(text)
    }
}

#[derive(Debug)]
pub(super) enum Tok {
    Word(Word),
    /// A redirection operator starting at this position; its target is the next word.
    Redir(usize),
    /// Anything that ends a simple command: `;`, `&&`, `||`, `|`, `&`, newline, `(`, `)`.
    Sep,
}

pub(super) struct Lexer<'a> {
    s: &'a [char],
    i: usize,
    /// Here-documents opened on the current line (delimiter, strip leading tabs): their bodies
    /// start after the next newline and are data, not commands.
    heredocs: Vec<(String, bool)>,
    /// Set by `<<`/`<<-`: the next word is a here-document delimiter.
    delimiter_next: Option<bool>,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(s: &'a [char]) -> Self {
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

    pub(super) fn next_tok(&mut self) -> Option<Tok> {
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
    pub(super) fn word(&mut self, whole: bool) -> Word {
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
