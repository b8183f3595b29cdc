//! Shell lexing: a script into words (with their quoting and expansions), redirections and
//! command separators.

/// One piece of a shell word, before expansion.
#[derive(Debug, Clone)]
pub(super) enum WordPart {
    Literal(String),
    /// `$NAME`, `${NAME}`, `${NAME:-default}`; `raw` is what stays when the name is unknown.
    Parameter {
        name: String,
        default: Option<String>,
        raw: String,
    },
    /// `$(…)` or `` `…` ``: `inner` is the script, `raw` the text as written.
    CommandSubstitution {
        inner: String,
        raw: String,
    },
}

#[derive(Debug)]
pub(super) struct Word {
    pub(super) parts: Vec<WordPart>,
    /// Any quoting or escaping: a quoted word is never a reserved word.
    quoted: bool,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Word {
    /// The word with expansions left as written (for reserved words and here-document delimiters).
    fn literal(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                WordPart::Literal(s)
                | WordPart::Parameter { raw: s, .. }
                | WordPart::CommandSubstitution { raw: s, .. } => s.as_str(),
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
pub(super) enum Token {
    Word(Word),
    /// A redirection operator starting at this position; its target is the next word.
    Redirection(usize),
    /// Anything that ends a simple command: `;`, `&&`, `||`, `|`, `&`, newline, `(`, `)`.
    Separator,
}

pub(super) struct Lexer<'a> {
    chars: &'a [char],
    /// The next character to read.
    pos: usize,
    /// Here-documents opened on the current line (delimiter, strip leading tabs): their bodies
    /// start after the next newline and are data, not commands.
    heredocs: Vec<(String, bool)>,
    /// Set by `<<`/`<<-`: the next word is a here-document delimiter.
    delimiter_next: Option<bool>,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(chars: &'a [char]) -> Self {
        Lexer {
            chars,
            pos: 0,
            heredocs: Vec::new(),
            delimiter_next: None,
        }
    }

    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    fn raw(&self, start: usize) -> String {
        self.chars[start..self.pos].iter().collect()
    }

    pub(super) fn next_token(&mut self) -> Option<Token> {
        loop {
            match self.peek(0)? {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\\' if self.peek(1) == Some('\n') => self.pos += 2,
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\n' => {
                    self.pos += 1;
                    self.skip_heredoc_bodies();
                    return Some(Token::Separator);
                }
                '&' if self.peek(1) == Some('>') => return Some(self.redirection()),
                c @ (';' | '&' | '|') => {
                    self.pos += 1;
                    // `;;`, `&&`, `||`, `|&`, `;&`: one separator.
                    if matches!(
                        (c, self.peek(0)),
                        (';', Some(';' | '&')) | ('&', Some('&')) | ('|', Some('|' | '&'))
                    ) {
                        self.pos += 1;
                    }
                    return Some(Token::Separator);
                }
                '(' | ')' => {
                    self.pos += 1;
                    return Some(Token::Separator);
                }
                '<' | '>' => return Some(self.redirection()),
                c if c.is_ascii_digit() && self.fd_prefix() => return Some(self.redirection()),
                _ => return Some(Token::Word(self.word(false))),
            }
        }
    }

    /// `2>&1`, `3<>…`: digits directly before a redirection name a file descriptor, not a word.
    fn fd_prefix(&mut self) -> bool {
        let digits = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let is_fd = matches!(self.peek(digits), Some('<' | '>'));
        if is_fd {
            self.pos += digits;
        }
        is_fd
    }

    fn redirection(&mut self) -> Token {
        let start = self.pos;
        let first = self.chars[self.pos];
        self.pos += 1;
        match (first, self.peek(0)) {
            ('&', _) => {
                self.pos += 1;
                if self.peek(0) == Some('>') {
                    self.pos += 1;
                }
            }
            ('<', Some('<')) => {
                self.pos += 1;
                if self.peek(0) == Some('<') {
                    self.pos += 1; // here-string: an ordinary word follows
                } else {
                    let strip = self.peek(0) == Some('-');
                    if strip {
                        self.pos += 1;
                    }
                    self.delimiter_next = Some(strip);
                }
            }
            ('>', Some('>' | '&' | '|')) | ('<', Some('&' | '>')) => self.pos += 1,
            _ => {}
        }
        Token::Redirection(start)
    }

    fn skip_heredoc_bodies(&mut self) {
        for (delimiter, strip_tabs) in std::mem::take(&mut self.heredocs) {
            while self.pos < self.chars.len() {
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let line = self.raw(start);
                self.pos += 1;
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
        let start = self.pos;
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' if !whole => {
                    break;
                }
                '\\' => {
                    quoted = true;
                    self.pos += 1;
                    match self.peek(0) {
                        Some('\n') => self.pos += 1,
                        Some(next) => {
                            lit.push(next);
                            self.pos += 1;
                        }
                        None => lit.push('\\'),
                    }
                }
                '\'' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(next) = self.peek(0) {
                        self.pos += 1;
                        if next == '\'' {
                            break;
                        }
                        lit.push(next);
                    }
                }
                '"' => {
                    quoted = true;
                    self.pos += 1;
                    self.double_quoted(&mut parts, &mut lit);
                }
                '$' | '`' => {
                    flush_literal(&mut parts, &mut lit);
                    parts.push(self.expansion());
                }
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush_literal(&mut parts, &mut lit);
        let word = Word {
            parts,
            quoted,
            start,
            end: self.pos,
        };
        if let Some(strip_tabs) = self.delimiter_next.take() {
            self.heredocs.push((word.literal(), strip_tabs));
        }
        word
    }

    fn double_quoted(&mut self, parts: &mut Vec<WordPart>, lit: &mut String) {
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.pos += 1;
                    return;
                }
                // Inside double quotes a backslash escapes only these.
                '\\' => match self.peek(1) {
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        lit.push(next);
                        self.pos += 2;
                    }
                    Some('\n') => self.pos += 2,
                    _ => {
                        lit.push('\\');
                        self.pos += 1;
                    }
                },
                '$' | '`' => {
                    flush_literal(parts, lit);
                    parts.push(self.expansion());
                }
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// An expansion at `$` or a backtick.
    fn expansion(&mut self) -> WordPart {
        let start = self.pos;
        if self.peek(0) == Some('`') {
            self.pos += 1;
            let mut inner = String::new();
            while let Some(c) = self.peek(0) {
                self.pos += 1;
                match c {
                    '`' => break,
                    '\\' if matches!(self.peek(0), Some('`' | '\\' | '$')) => {
                        inner.push(self.chars[self.pos]);
                        self.pos += 1;
                    }
                    _ => inner.push(c),
                }
            }
            return WordPart::CommandSubstitution {
                inner,
                raw: self.raw(start),
            };
        }
        self.pos += 1;
        match self.peek(0) {
            // `$((…))` arithmetic: not evaluated.
            Some('(') if self.peek(1) == Some('(') => {
                self.balanced('(', ')');
                WordPart::Literal(self.raw(start))
            }
            Some('(') => {
                let inner = self.balanced('(', ')');
                WordPart::CommandSubstitution {
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
                    self.pos += 1;
                }
                WordPart::Parameter {
                    name: self.chars[start + 1..self.pos].iter().collect(),
                    default: None,
                    raw: self.raw(start),
                }
            }
            // Positional and special parameters (`$1`, `$?`, `$$`…): unknowable, kept as written.
            Some(c) if c.is_ascii_digit() || "?$!#@*-".contains(c) => {
                self.pos += 1;
                WordPart::Literal(self.raw(start))
            }
            _ => WordPart::Literal("$".to_string()),
        }
    }

    /// Consumes `open … close` with nesting, skipping quoted text; returns what is between.
    fn balanced(&mut self, open: char, close: char) -> String {
        let start = self.pos + 1;
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '\\' => self.pos += 1,
                '\'' => {
                    while self.peek(0).is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                '"' => {
                    while let Some(c) = self.peek(0) {
                        self.pos += if c == '\\' { 2 } else { 1 };
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
        self.pos = self.pos.min(self.chars.len());
        let end = if depth == 0 { self.pos - 1 } else { self.pos };
        self.chars[start.min(end)..end].iter().collect()
    }
}

fn flush_literal(parts: &mut Vec<WordPart>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(WordPart::Literal(std::mem::take(lit)));
    }
}

/// `${NAME}` and `${NAME:-default}` (also `-`, `:=`, `=`); other operators (`${#x}`, `${x%.*}`…)
/// are not evaluated and stay as written.
fn braced_param(inner: &str, raw: String) -> WordPart {
    let name_len = inner
        .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    let starts_well = name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic());
    let default = [":-", "-", ":=", "="]
        .iter()
        .find_map(|prefix| op.strip_prefix(prefix));
    match (starts_well, op.is_empty(), default) {
        (true, true, _) => WordPart::Parameter {
            name: name.to_string(),
            default: None,
            raw,
        },
        (true, false, Some(default)) => WordPart::Parameter {
            name: name.to_string(),
            default: Some(default.to_string()),
            raw,
        },
        _ => WordPart::Literal(raw),
    }
}
