//! Renderers: each writes to `&mut dyn Write` and never decides where output goes.

pub mod change;
pub mod explain;
pub mod logs;
pub mod status;
pub(crate) mod status_printer;
pub mod timeline;
pub(crate) mod watch_screen;

use std::io::{self, Write};

use serde::Serialize;

use crate::util::sanitize::{is_printable_ascii, is_unsafe};

/// Colours, decided once from `--color`, the terminal and NO_COLOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Tone {
    Good,
    Progress,
    Bad,
    Dim,
    Strong,
}

impl Palette {
    pub fn paint(&self, tone: Tone, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let style = console::Style::new().force_styling(true);
        let style = match tone {
            Tone::Good => style.green(),
            Tone::Progress => style.yellow(),
            Tone::Bad => style.red().bold(),
            Tone::Dim => style.dim(),
            Tone::Strong => style.bold(),
        };
        style.apply_to(text).to_string()
    }
}

/// Column layout kept across blocks of rows, so that a long listing printed page by page stays
/// on the same columns: the first block sets the widths (as kubectl's tabwriter would for that
/// block: widest cell, three spaces between columns, the last column unpadded); a later block
/// keeps them, widening a column only where one of its cells is wider (columns never narrow, so
/// they move at most where wider content first appears). Once frozen (for watch lines), widths
/// no longer change: a wider cell pushes only the rest of its own row, which returns to the
/// columns as soon as there is room. Escape sequences do not count toward widths.
#[derive(Debug, Default, Clone)]
pub struct Columns {
    widths: Option<Vec<usize>>,
    frozen: bool,
}

const GAP: usize = 3;

impl Columns {
    /// Lays `rows` out as lines, on the columns so far (widened as needed unless frozen).
    pub fn lay_out(&mut self, rows: &[Vec<String>]) -> Vec<String> {
        if rows.is_empty() {
            return Vec::new();
        }
        let mut block = Vec::new();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if block.len() <= i {
                    block.push(0);
                }
                block[i] = block[i].max(display_width(cell));
            }
        }
        let widths = match &mut self.widths {
            None => self.widths.insert(block),
            Some(widths) => {
                if !self.frozen {
                    widths.resize(widths.len().max(block.len()), 0);
                    for (w, b) in widths.iter_mut().zip(block) {
                        *w = (*w).max(b);
                    }
                }
                widths
            }
        };
        rows.iter().map(|row| line(widths, row)).collect()
    }

    /// From now on the widths stay as they are (one watch line at a time: an unusually wide
    /// cell should not move every line after it).
    pub fn freeze(&mut self) {
        self.frozen = true;
    }
}

/// `n` spaces onto `text`, a run at a time (char by char, each was encoded on its own).
fn pad(text: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let run = n.min(SPACES.len());
        text.push_str(&SPACES[..run]);
        n -= run;
    }
}

/// The columns a cell takes on a terminal: its length when it is printable ASCII, as nearly
/// every cell is, else as `console` measures it (escape sequences none, wide characters two).
/// (`console` for every cell, twice, was 3% of `status -A` at 10k pods.)
fn display_width(cell: &str) -> usize {
    match is_printable_ascii(cell) {
        true => cell.len(),
        false => console::measure_text_width(cell),
    }
}

/// One row on the given columns: each cell starts at its column, or three spaces after the
/// previous cell when that one overflowed.
fn line(widths: &[usize], row: &[String]) -> String {
    // Room for the whole line at once (grown cell by cell, it was reallocated several times).
    let cells: usize = row.iter().map(String::len).sum();
    let mut text = String::with_capacity(cells + widths.iter().sum::<usize>() + GAP * row.len());
    // `at`: the display width written so far; `column`: where the fixed column i starts.
    let (mut at, mut column) = (0, 0);
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            column += widths.get(i - 1).copied().unwrap_or(0) + GAP;
            let target = column.max(at + GAP);
            pad(&mut text, target - at);
            at = target;
        }
        text.push_str(cell);
        at += display_width(cell);
    }
    text.truncate(text.trim_end().len());
    text
}

/// Pretty JSON in which every character the terminal guard would escape (C1 controls, bidi and
/// invisible format characters; serde_json already escapes C0) is written as a JSON `\uXXXX`
/// escape: the document stays valid and its values parse back to the raw text.
pub fn write_json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeJson::default());
    value.serialize(&mut ser)?;
    writeln!(out)
}

#[derive(Default)]
struct SafeJson(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            writer.write_all(&rest.as_bytes()[..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// YAML, in which every character the terminal guard would escape is a YAML escape: the YAML
/// engine escapes controls itself but leaves bidi and invisible format characters raw, so a value
/// holding one is written double-quoted and the character as `\uXXXX` (`\UXXXXXXXX`).
pub fn write_yaml<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut text = crate::input::yaml::to_string(value).map_err(io::Error::other)?;
    if text.chars().any(is_unsafe) {
        let value = serde_json::to_value(value).map_err(io::Error::other)?;
        let quoted = crate::input::yaml::to_string(&Quoting(&value)).map_err(io::Error::other)?;
        // Each such character now stands inside a double-quoted scalar, where escapes work.
        text = String::with_capacity(quoted.len());
        for c in quoted.chars() {
            match c as u32 {
                _ if c == '\n' || c == '\t' || !is_unsafe(c) => text.push(c),
                u if u <= 0xFFFF => text.push_str(&format!("\\u{u:04X}")),
                u => text.push_str(&format!("\\U{u:08X}")),
            }
        }
    }
    out.write_all(text.as_bytes())
}

/// A document whose strings (keys too) holding a character to escape serialise double-quoted.
struct Quoting<'a>(&'a serde_json::Value);

impl Serialize for Quoting<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value;
        match self.0 {
            Value::String(s) if s.chars().any(is_unsafe) => {
                crate::input::yaml::double_quoted(s, ser)
            }
            Value::Array(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Quoting(item))?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = ser.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(&Quoting(&Value::String(k.clone())), &Quoting(v))?;
                }
                m.end()
            }
            other => other.serialize(ser),
        }
    }
}

#[cfg(test)]
mod tests {
    /// kubectl's tabwriter (three spaces between columns, the last unpadded): the oracle the
    /// first block's layout is checked against.
    fn align(rows: &[Vec<String>]) -> Vec<String> {
        use std::io::Write;
        let mut tw = tabwriter::TabWriter::new(Vec::new())
            .padding(3)
            .minwidth(0)
            .ansi(true);
        for row in rows {
            writeln!(tw, "{}", row.join("\t")).unwrap();
        }
        let bytes = tw.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    }

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn a_cell_is_as_wide_as_the_terminal_shows_it() {
        for cell in [
            "",
            "web-7d9c8b6f5-x2x9q",
            "Init:0/2",
            "\x1b[31m0/1\x1b[0m",
            "caf\u{e9}",
            "\u{4e2d}\u{6587}",
            "tab\there",
            "\x7f",
        ] {
            assert_eq!(
                super::display_width(cell),
                console::measure_text_width(cell),
                "{cell:?}"
            );
        }
        // Padding longer than one run of spaces.
        let long = "x".repeat(70);
        let table = rows(&[&[&long, "a"], &["b", "c"]]);
        assert_eq!(super::Columns::default().lay_out(&table), align(&table));
    }

    #[test]
    fn the_first_block_fixes_the_columns_as_tabwriter_would() {
        let first = rows(&[
            &["NAME", "READY", "AGE"],
            &["a", "0/1", "5m"],
            &["bb", "1/1", ""],
        ]);
        let mut cols = super::Columns::default();
        let lines = cols.lay_out(&first);
        assert_eq!(lines, align(&first));
        assert_eq!(
            lines,
            ["NAME   READY   AGE", "a      0/1     5m", "bb     1/1"]
        );
        // A later block keeps those columns, widening one only where a cell is wider.
        let later = cols.lay_out(&rows(&[&["c", "1/1", "1h"], &["a-long-name", "1/1", "2d"]]));
        assert_eq!(
            later,
            ["c             1/1     1h", "a-long-name   1/1     2d"]
        );
        let narrow = cols.lay_out(&rows(&[&["d", "1/1", "1h"]]));
        assert_eq!(narrow, ["d             1/1     1h"], "columns never narrow");
        // Frozen (watch lines): an overflowing cell pushes only its own row, which returns to
        // the columns where there is room.
        cols.freeze();
        let frozen = cols.lay_out(&rows(&[
            &["loooooooooooooong", "1", "3s"],
            &["e", "1/1", "1h"],
        ]));
        assert_eq!(
            frozen,
            ["loooooooooooooong   1   3s", "e             1/1     1h"]
        );
        let coloured = cols.lay_out(&rows(&[&["d", "\x1b[31m0/1\x1b[0m", "1h"]]));
        assert_eq!(coloured, ["d             \x1b[31m0/1\x1b[0m     1h"]);
    }

    #[test]
    fn json_escapes_what_the_terminal_must_not_see_and_stays_valid() {
        let raw = "a\x1b]52;c;aGk=\x07\u{9b}2J\u{202e}z\u{e0041}";
        let mut out = Vec::new();
        super::write_json(&mut out, &serde_json::json!({ "v": raw })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["v"], raw);
    }

    #[test]
    fn yaml_escapes_bidi_and_stays_valid() {
        let raw = "a\x1b[2J\u{202e}z\u{e0041}";
        let doc = serde_json::json!({ "plain": "ab\u{202e}c", "v": raw, "ok": "fine", "n": 3 });
        let mut out = Vec::new();
        super::write_yaml(&mut out, &doc).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && crate::util::sanitize::is_unsafe(c)),
            "{text}"
        );
        let back: serde_json::Value = crate::input::yaml::documents(&text).unwrap().remove(0);
        assert_eq!(back, doc, "{text}");
        let mut plain = Vec::new();
        super::write_yaml(&mut plain, &serde_json::json!({ "ok": "fine" })).unwrap();
        assert_eq!(String::from_utf8(plain).unwrap(), "ok: fine\n");
    }
}
