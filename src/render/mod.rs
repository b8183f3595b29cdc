//! Renderers: each writes to `&mut dyn Write` and never decides where output goes.

pub mod change;
pub mod explain;
pub mod status;
pub(crate) mod status_printer;

use std::io::{self, Write};

use serde::Serialize;

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

/// Aligns rows into columns the way kubectl's tabwriter does (three spaces between columns,
/// the last column unpadded). Escape sequences do not count toward widths.
pub fn align(rows: &[Vec<String>]) -> Vec<String> {
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .padding(3)
        .minwidth(0)
        .ansi(true);
    for row in rows {
        // Writing into a Vec cannot fail.
        let _ = writeln!(tw, "{}", row.join("\t"));
    }
    let bytes = tw.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

pub fn write_json<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

pub fn write_yaml<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let text = crate::input::yaml::to_string(value).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())
}
