//! Text that came from the cluster or a file (reasons, messages, log lines, names, server error
//! pages) never drives the terminal. Two layers, both by construction:
//!
//! - [`Untrusted`]: the one type such text travels in on its way to a renderer. It keeps the raw
//!   value (documents serialise it as it is, escaped only by JSON/YAML) and its `Display` is the
//!   escaped form, so a renderer that prints it cannot forget to escape it.
//! - [`TerminalWriter`]: `main` wraps stdout and stderr in it, so whatever is written (a new
//!   field, a new progress line) reaches the terminal with every control character, C1 code and
//!   bidi/invisible format character escaped; only `\n`, `\t` and the palette's colour sequences
//!   (SGR, `ESC [ digits ; … m`) pass as they are.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// Characters that must never reach a terminal as they are: C0 and C1 controls (ESC, CR, BEL,
/// NUL, CSI `\u{9b}`…), DEL, and the invisible format characters that reorder or hide text
/// (bidi embeddings, overrides, isolates and marks; zero-width space, word joiners, soft hyphen,
/// byte-order mark, interlinear annotations, tag characters).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Whether `text` is printable ASCII only (space to `~`): most of what a cluster sends, which
/// needs no escaping and is as wide on a terminal as it is long.
pub(crate) fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b' '..=b'~'))
}

/// Control and invisible format characters (including ESC, CR, TAB and newlines) become visible
/// escapes (`\u{1b}`, `\r`, `\u{202e}`). A backslash is left alone, so escaping is idempotent.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    // Printable ASCII, most of what a cluster sends, needs no look at each character.
    if is_printable_ascii(text) || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`; a longer text ends with a visible marker saying how much
/// was left out.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => {
            let more = text[end..].chars().count();
            Cow::Owned(format!("{}… [cut: {more} more characters]", &text[..end]))
        }
    }
}

/// The longest a server's error text is shown (characters), after it is made one line.
pub const SERVER_MESSAGE_MAX: usize = 512;

/// A server's error text as one readable line: an HTML page (a proxy's 502) is reduced to its
/// `<title>` or else its text without tags; newlines, CRs and runs of white space become one
/// space; the result is cut at [`SERVER_MESSAGE_MAX`] characters. Control characters are left
/// for [`Untrusted`]'s display to escape.
pub fn server_message(text: &str) -> String {
    let text = if looks_like_html(text) {
        html_text(text)
    } else {
        text.to_string()
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&line, SERVER_MESSAGE_MAX).into_owned()
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.contains("<html") || head.contains("<title")
}

/// The `<title>` of an HTML page, or its text with tags, scripts and styles left out. A page
/// is only read for a line of error text, so this is a reducer, not a parser.
fn html_text(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    if let Some(open) = lower.find("<title")
        && let Some(gt) = lower[open..].find('>')
    {
        let start = open + gt + 1;
        let end = lower[start..]
            .find("</title")
            .map_or(page.len(), |e| start + e);
        let title = decode_entities(&page[start..end]);
        if !title.trim().is_empty() {
            return title;
        }
    }
    let mut text = String::new();
    let mut rest = page;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        let tag = rest[lt..].to_ascii_lowercase();
        let skip_to = ["script", "style"]
            .iter()
            .find(|name| tag[1..].starts_with(*name))
            .and_then(|name| tag.find(&format!("</{name}")))
            .unwrap_or(0);
        rest = &rest[lt + skip_to..];
        rest = rest.find('>').map_or("", |gt| &rest[gt + 1..]);
    }
    text.push_str(rest);
    decode_entities(&text)
}

fn decode_entities(text: &str) -> String {
    [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

/// A server URL as it may be shown: the password of `user:password@` is replaced by `***`
/// (kubectl's own redaction, `url.Redacted()`, writes `xxxxx`), so that an error line never
/// carries a credential.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let user = authority[..at].split(':').next().unwrap_or_default();
    let redacted = if authority[..at].contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    Cow::Owned(format!(
        "{}{redacted}{}",
        &url[..scheme_end],
        &url[scheme_end + at..]
    ))
}

/// Text from the cluster or a file on its way to a renderer. It keeps the raw value (documents
/// serialise it unchanged; the JSON and YAML writers escape what they must) and displays only
/// escaped ([`for_terminal`]), so a renderer cannot print it raw by mistake.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Untrusted(String);

impl Untrusted {
    /// The raw value, for decisions (never for printing: print the value itself).
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&for_terminal(&self.0))
    }
}

impl From<String> for Untrusted {
    fn from(text: String) -> Self {
        Untrusted(text)
    }
}

impl From<&str> for Untrusted {
    fn from(text: &str) -> Self {
        Untrusted(text.to_string())
    }
}

impl PartialEq<str> for Untrusted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Untrusted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The longest a colour sequence the palette writes may be (bytes, ESC included).
const SGR_MAX: usize = 32;

/// A writer for stdout and stderr that escapes everything that could drive a terminal:
/// control characters other than `\n` and `\t`, C1 codes, bidi and invisible format characters,
/// and bytes that are not UTF-8. Only colour (SGR: `ESC [` digits and `;` then `m`) passes, as
/// the palette writes it, and the three parameterless sequences of an in-place redraw. A character or colour sequence split across writes is held until it
/// is complete (or until `flush`).
pub struct TerminalWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> TerminalWriter<W> {
    pub fn new(inner: W) -> Self {
        TerminalWriter {
            inner,
            pending: Vec::new(),
        }
    }

    /// Escapes what is pending; keeps an incomplete tail unless `all`.
    fn drain(&mut self, all: bool) -> io::Result<()> {
        let (out, keep) = escape_stream(&self.pending, all);
        self.inner.write_all(out.as_bytes())?;
        self.pending.drain(..keep);
        Ok(())
    }
}

/// The escaped text of `bytes`, and how many bytes it consumed (all of them when `all`; else an
/// incomplete UTF-8 character or colour sequence at the end is left).
fn escape_stream(bytes: &[u8], all: bool) -> (String, usize) {
    let mut out = String::with_capacity(bytes.len());
    let mut pos = 0;
    while pos < bytes.len() {
        let (valid, bad) = match std::str::from_utf8(&bytes[pos..]) {
            Ok(s) => (s, None),
            Err(e) => (
                // The prefix is valid UTF-8 by the error's own account.
                std::str::from_utf8(&bytes[pos..pos + e.valid_up_to()]).unwrap_or_default(),
                Some(e.error_len()),
            ),
        };
        // Text followed by a bad byte is complete: a colour sequence cannot go on past it.
        let used = escape_text(valid, all || bad.is_some(), &mut out);
        pos += used;
        if used < valid.len() {
            return (out, pos);
        }
        match bad {
            None => {}
            Some(None) if !all => return (out, pos),
            Some(len) => {
                let len = len.unwrap_or(bytes.len() - pos);
                for b in &bytes[pos..pos + len] {
                    out.push_str(&format!("\\x{{{b:02x}}}"));
                }
                pos += len;
            }
        }
    }
    (out, pos)
}

/// Escapes `text` into `out`; returns the bytes consumed (an incomplete colour sequence at the
/// end is left unless `all`).
fn escape_text(text: &str, all: bool, out: &mut String) -> usize {
    let mut i = 0;
    while i < text.len() {
        // A run of printable ASCII, line breaks and tabs (nearly all output) goes as it is.
        let plain = text.as_bytes()[i..]
            .iter()
            .position(|b| !matches!(b, b' '..=b'~' | b'\n' | b'\t'))
            .unwrap_or(text.len() - i);
        out.push_str(&text[i..i + plain]);
        i += plain;
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if c == '\x1b' {
            match sgr_len(&text[i..]) {
                Sgr::Complete(len) => {
                    out.push_str(&text[i..i + len]);
                    i += len;
                    continue;
                }
                Sgr::Incomplete if !all => return i,
                _ => {}
            }
        }
        if is_unsafe(c) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    text.len()
}

enum Sgr {
    Complete(usize),
    Incomplete,
    Not,
}

fn sgr_len(text: &str) -> Sgr {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(1).take(SGR_MAX) {
        match (i, b) {
            (1, b'[') => {}
            (1, _) => return Sgr::Not,
            // Also passed, parameterless: cursor home, erase below, erase to the end of the
            // line — the in-place redraw of `status -w` on a terminal (render::watch_screen).
            (2, b'H' | b'J' | b'K') => return Sgr::Complete(3),
            (_, b'0'..=b'9' | b';') => {}
            (_, b'm') => return Sgr::Complete(i + 1),
            _ => return Sgr::Not,
        }
    }
    if bytes.len() <= SGR_MAX {
        Sgr::Incomplete
    } else {
        Sgr::Not
    }
}

impl<W: Write> Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`escape_text`] one character at a time: what its runs of plain bytes must equal.
    fn escape_by_chars(text: &str, all: bool, out: &mut String) -> usize {
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\x1b' {
                match sgr_len(&text[i..]) {
                    Sgr::Complete(len) => {
                        out.push_str(&text[i..i + len]);
                        while chars.peek().is_some_and(|(j, _)| *j < i + len) {
                            chars.next();
                        }
                        continue;
                    }
                    Sgr::Incomplete if !all => return i,
                    _ => {}
                }
            }
            if c == '\n' || c == '\t' || !is_unsafe(c) {
                out.push(c);
            } else {
                push_escaped(out, c);
            }
        }
        text.len()
    }

    proptest::proptest! {
        #[test]
        fn plain_runs_escape_as_characters_one_by_one_do(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "ok ", "\n", "\t", "\r", "\x1b", "\x1b[31m", "\x1b[", "\x1b[1;3", "\x1b[H",
                    "\u{7f}", "\u{9b}", "\u{202e}", "é", "日本", "~", "\u{0}",
                ]),
                0..40,
            ),
            all in proptest::bool::ANY,
        ) {
            let text = pieces.concat();
            let (mut fast, mut slow) = (String::new(), String::new());
            let used = escape_text(&text, all, &mut fast);
            proptest::prop_assert_eq!(used, escape_by_chars(&text, all, &mut slow));
            proptest::prop_assert_eq!(&fast, &slow);
            let whole: String = text.chars().map(|c| {
                let mut one = String::new();
                if is_unsafe(c) { push_escaped(&mut one, c) } else { one.push(c) }
                one
            }).collect();
            proptest::prop_assert_eq!(for_terminal(&text), whole);
        }
    }

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(for_terminal("ok"), "ok");
        assert_eq!(for_terminal("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(for_terminal("\u{9b}2J"), "\\u{9b}2J");
    }

    #[test]
    fn escapes_bidi_and_invisible_format_characters() {
        assert_eq!(for_terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        for c in [
            '\u{202a}',
            '\u{2066}',
            '\u{2069}',
            '\u{200f}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            assert!(for_terminal(&c.to_string()).starts_with("\\u{"), "{c:?}");
        }
        // Escaping is idempotent, and ordinary text (accents, emoji with joiners) is kept.
        let once = for_terminal("\x1b]52;c;aGk=\x07").into_owned();
        assert_eq!(for_terminal(&once), once);
        assert_eq!(for_terminal("café 👩‍💻"), "café 👩‍💻");
    }

    #[test]
    fn untrusted_displays_escaped_and_serialises_raw() {
        let t = Untrusted::from("x\x1b[2Jy");
        assert_eq!(t.to_string(), "x\\u{1b}[2Jy");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"x\\u001b[2Jy\"");
        assert_eq!(t.raw(), "x\x1b[2Jy");
    }

    #[test]
    fn cuts_with_a_visible_marker() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdé", 3), "abc… [cut: 2 more characters]");
    }

    #[test]
    fn server_messages_become_one_bounded_line() {
        assert_eq!(server_message("a\r\nb\n\n  c"), "a b c");
        let page = "<!DOCTYPE html>\n<html><head><title>502 Bad\nGateway</title></head>\
                    <body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>";
        assert_eq!(server_message(page), "502 Bad Gateway");
        let untitled = "<html><style>h1{color:red}</style><body><h1>Bad &amp; gone</h1>\
                        <p>try later</p></body></html>";
        assert_eq!(server_message(untitled), "Bad & gone try later");
        let long = "x".repeat(2000);
        assert!(server_message(&long).ends_with("… [cut: 1488 more characters]"));
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("https://admin:s3cret@10.0.0.1:6443/api"),
            "https://admin:***@10.0.0.1:6443/api"
        );
        assert_eq!(redact_url("https://token@host"), "https://token@host");
        assert_eq!(redact_url("https://host:6443"), "https://host:6443");
    }

    fn through_writer(chunks: &[&[u8]]) -> String {
        let mut buf = Vec::new();
        {
            let mut w = TerminalWriter::new(&mut buf);
            for c in chunks {
                w.write_all(c).unwrap();
            }
            w.flush().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn terminal_writer_passes_colour_and_escapes_the_rest() {
        assert_eq!(
            through_writer(&[b"\x1b[1;31mred\x1b[0m\tok\n"]),
            "\x1b[1;31mred\x1b[0m\tok\n"
        );
        assert_eq!(
            through_writer(&["\x1b]52;c;aGk=\x07\x1b[2J\r\0\u{9b}\u{202e}".as_bytes()]),
            "\\u{1b}]52;c;aGk=\\u{7}\\u{1b}[2J\\r\\u{0}\\u{9b}\\u{202e}"
        );
        // Split characters and colour sequences are put back together.
        let e = "é".as_bytes();
        assert_eq!(
            through_writer(&[b"\x1b[3", b"1mx", &e[..1], &e[1..]]),
            "\x1b[31mxé"
        );
        assert_eq!(through_writer(&[b"a\xffb", b"\x1b["]), "a\\x{ff}b\\u{1b}[");
    }
}
