//! A JSON text read by hand, value by value, for readers that know which fields they want
//! (`row_read`): strings checked and unescaped as serde_json does, integers read as serde_json
//! reads them into an integer field, and any other value passed over by its quotes and brackets
//! (`json_split::container_end`, 64 bytes at a time) without being checked. Anything it does not
//! read as serde_json would is [`Declined`]: the caller reads the text with serde_json instead.
//!
//! The small steps every value takes are `#[inline(always)]`: the release build optimises for
//! size and kept them as calls, a third of the reader's instructions (docs/benchmarks.md).

use std::borrow::Cow;

use crate::input::json_split::{container_end, every, zero_bytes};

/// The text is not taken here: read it with serde_json.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Declined;

pub(crate) type Read<T> = Result<T, Declined>;

/// How many bytes of a string's text come before its first quote, backslash or control
/// character (all of them if none does): eight bytes at a time, as serde_json looks, since a
/// byte at a time this was the reader's costliest loop.
#[inline(always)]
fn plain_run(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // A control character is a byte whose top three bits are clear.
        let stops = zero_bytes(word ^ every(b'"'))
            | zero_bytes(word ^ every(b'\\'))
            | zero_bytes(word & every(0xe0));
        if stops != 0 {
            return at + stops.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    let rest = bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
    at + rest.unwrap_or(bytes.len() - at)
}

/// Where the string whose text starts `bytes` closes: the index of its closing quote, its
/// escapes passed over unread (a `\u` escape's digits are no quote), which is also the length
/// of its escaped text, at least that of what it unescapes to. None if it does not close.
#[inline(always)]
fn string_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[at] == b'"' {
            return Some(at);
        }
        // The escaped byte.
        at += 2;
    }
}

/// A place in a JSON text.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, not consumed.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match *self.bytes().get(self.at)? {
            b' ' | b'\n' | b'\r' | b'\t' => self.peek_past_blanks(),
            b => Some(b),
        }
    }

    /// [`Cursor::peek`] where whitespace comes first: a lone line break (compacted text) passed
    /// at once, indented text's spaces eight at a time.
    #[inline(never)]
    fn peek_past_blanks(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        match *bytes.get(self.at + 1)? {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b => {
                self.at += 1;
                return Some(b);
            }
        }
        loop {
            while let Some(chunk) = bytes.get(self.at..self.at + 8) {
                let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let others = word ^ every(b' ');
                if others != 0 {
                    self.at += others.trailing_zeros() as usize / 8;
                    break;
                }
                self.at += 8;
            }
            match *bytes.get(self.at)? {
                b' ' | b'\n' | b'\r' | b'\t' => self.at += 1,
                b => return Some(b),
            }
        }
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> Read<()> {
        match self.peek() {
            Some(b) if b == byte => {
                self.at += 1;
                Ok(())
            }
            _ => Err(Declined),
        }
    }

    /// The next byte that is not whitespace (what the next value is), not consumed.
    pub(crate) fn next_byte(&mut self) -> Option<u8> {
        self.peek()
    }

    /// Where the next value starts (the whitespace before it passed over).
    pub(crate) fn value_start(&mut self) -> usize {
        self.peek();
        self.at
    }

    /// Where the cursor is: right after the value read last.
    pub(crate) fn at(&self) -> usize {
        self.at
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Read<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Declined),
        }
    }

    /// True, and consumed, if the next value is `null`.
    #[inline(always)]
    pub(crate) fn null(&mut self) -> Read<bool> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Read<()> {
        if !self.bytes()[self.at..].starts_with(word) {
            return Err(Declined);
        }
        self.at += word.len();
        Ok(())
    }

    /// An `Option` field: null is None.
    #[inline(always)]
    pub(crate) fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        match self.null()? {
            true => Ok(None),
            false => read(self).map(Some),
        }
    }

    /// An object, each key handed to `field`, which reads or skips its value.
    #[inline(always)]
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &str) -> Read<()>,
    ) -> Read<()> {
        self.members(b'{', b'}', |c| {
            if c.peek() != Some(b'"') {
                return Err(Declined);
            }
            let key = c.str()?;
            c.eat(b':')?;
            field(c, &key)
        })
    }

    /// An array, `element` called at each element.
    pub(crate) fn array(&mut self, element: impl FnMut(&mut Self) -> Read<()>) -> Read<()> {
        self.members(b'[', b']', element)
    }

    /// A container from `open` to `close`, `member` called at each of its comma-separated
    /// members (none if it closes at once).
    #[inline(always)]
    fn members(
        &mut self,
        open: u8,
        close: u8,
        mut member: impl FnMut(&mut Self) -> Read<()>,
    ) -> Read<()> {
        self.eat(open)?;
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            member(self)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b) if b == close => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Declined),
            }
        }
    }

    pub(crate) fn bool(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(Declined),
        }
    }

    /// An integer as serde_json reads one into an integer field: no fraction, no exponent, no
    /// leading zero, in range.
    pub(crate) fn i64(&mut self) -> Read<i64> {
        self.peek();
        let bytes = self.bytes();
        let start = self.at;
        let negative = bytes.get(start) == Some(&b'-');
        let digits_from = start + usize::from(negative);
        let digits = bytes[digits_from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = digits_from + digits;
        let leading_zero = digits > 1 && bytes[digits_from] == b'0';
        if digits == 0 || leading_zero || matches!(bytes.get(end), Some(b'.' | b'e' | b'E')) {
            return Err(Declined);
        }
        self.at = end;
        self.text[start..end].parse().map_err(|_| Declined)
    }

    pub(crate) fn i32(&mut self) -> Read<i32> {
        i32::try_from(self.i64()?).map_err(|_| Declined)
    }

    pub(crate) fn string(&mut self) -> Read<String> {
        self.str().map(Cow::into_owned)
    }

    /// A string, borrowed from the text unless it has escapes.
    #[inline(always)]
    pub(crate) fn str(&mut self) -> Read<Cow<'a, str>> {
        self.eat(b'"')?;
        let bytes = self.bytes();
        let start = self.at;
        let end = start + plain_run(&bytes[start..]);
        if *bytes.get(end).ok_or(Declined)? == b'"' {
            self.at = end + 1;
            return Ok(Cow::Borrowed(&self.text[start..end]));
        }
        // Sized once for the whole string (its escaped length bounds the unescaped one):
        // grown push by push, a managedFields key like `k:{\"name\":\"app\"}` was reallocated
        // three or four times, 7% of an offline run's instructions.
        let escaped = string_end(&bytes[start..]).unwrap_or(bytes.len() - start);
        let mut owned = String::with_capacity(escaped);
        owned.push_str(&self.text[start..end]);
        self.at = end;
        self.unescape_into(Some(&mut owned))?;
        Ok(Cow::Owned(owned))
    }

    /// A string checked as [`Cursor::str`] checks it, its text not kept.
    pub(crate) fn check_str(&mut self) -> Read<()> {
        self.eat(b'"')?;
        self.unescape_into(None)
    }

    /// The rest of a string from its first escape (or anywhere before) to the closing quote,
    /// unescaped into `out` if given.
    fn unescape_into(&mut self, mut out: Option<&mut String>) -> Read<()> {
        let bytes = self.bytes();
        loop {
            let run = plain_run(&bytes[self.at..]);
            if let Some(out) = out.as_deref_mut() {
                out.push_str(&self.text[self.at..self.at + run]);
            }
            self.at += run;
            match *bytes.get(self.at).ok_or(Declined)? {
                b'"' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\\' => {
                    let escaped = *bytes.get(self.at + 1).ok_or(Declined)?;
                    self.at += 2;
                    let char = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(Declined),
                    };
                    if let Some(out) = out.as_deref_mut() {
                        out.push(char);
                    }
                }
                _ => return Err(Declined),
            }
        }
    }

    /// The character of a `\u` escape whose `\u` is read; a surrogate pair is one character,
    /// a lone surrogate declined (serde_json refuses it).
    fn unicode_escape(&mut self) -> Read<char> {
        let first = self.hex4()?;
        if !(0xD800..0xE000).contains(&first) {
            return char::from_u32(first).ok_or(Declined);
        }
        if first >= 0xDC00 || !self.bytes()[self.at..].starts_with(b"\\u") {
            return Err(Declined);
        }
        self.at += 2;
        let second = self.hex4()?;
        if !(0xDC00..0xE000).contains(&second) {
            return Err(Declined);
        }
        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)).ok_or(Declined)
    }

    fn hex4(&mut self) -> Read<u32> {
        let digits = self.text.get(self.at..self.at + 4).ok_or(Declined)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Declined);
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| Declined)
    }

    /// Passes over a string to its closing quote, its escapes passed over unread.
    #[inline(always)]
    fn skip_str(&mut self) -> Read<()> {
        self.eat(b'"')?;
        self.at += string_end(&self.bytes()[self.at..]).ok_or(Declined)? + 1;
        Ok(())
    }

    /// Passes over the next value: strings to their closing quote, containers by their
    /// brackets (as `json_split` finds them), numbers and literals by their characters.
    pub(crate) fn skip(&mut self) -> Read<()> {
        let bytes = self.bytes();
        match self.peek().ok_or(Declined)? {
            b'"' => self.skip_str(),
            b'{' | b'[' => {
                let end = container_end(&bytes[self.at..]).ok_or(Declined)?;
                self.at += end + 1;
                Ok(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let length = bytes[self.at..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                self.at += length;
                Ok(())
            }
            _ => Err(Declined),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_run_stops_where_a_byte_by_byte_look_stops(bytes in prop::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), Just(0x1f_u8), Just(0x20_u8), Just(0x7f_u8),
                Just(0x80_u8), Just(0xa0_u8), any::<u8>(), b'a'..=b'z', b'a'..=b'z'],
            0..40,
        )) {
            let slow = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(plain_run(&bytes), slow.unwrap_or(bytes.len()));
        }

        #[test]
        fn a_string_reads_as_serde_json_reads_it_and_ends_where_it_closes(
            text in prop::collection::vec(prop_oneof![
                Just("\\\"".to_string()), Just("\\\\".to_string()), Just("\\n".to_string()),
                Just("\\u00e9".to_string()), Just("\\ud83d\\ude00".to_string()),
                Just("\\u20ac".to_string()), "[a-z:{}]{0,12}",
            ], 0..12).prop_map(|parts| format!("\"{}\"", parts.concat()))
        ) {
            let read = Cursor::new(&text).str().map(|s| s.into_owned()).ok();
            let serde = serde_json::from_str::<String>(&text).ok();
            prop_assert_eq!(&read, &serde);
            if let Some(read) = read {
                let escaped = string_end(&text.as_bytes()[1..]);
                prop_assert_eq!(escaped, Some(text.len() - 2));
                prop_assert!(read.len() <= text.len() - 2);
            }
        }
    }
}
