//! `logs`: the header above each container's log, its lines, and the one line said instead of
//! a log that cannot be read.

use std::io::{self, Write};

use crate::render::{Palette, Tone};
use crate::status::container_logs::ContainerLog;
use crate::util::sanitize::Untrusted;

/// `==> init-myservice (1/2) terminated: Completed, exit 0, ran 12s <==`, as `tail` heads files.
pub fn write_header(out: &mut dyn Write, c: &ContainerLog, p: Palette) -> io::Result<()> {
    let sidecar = if c.sidecar { " [sidecar]" } else { "" };
    let text = format!(
        "==> {} ({}){sidecar} {} <==",
        Untrusted::from(c.name.as_str()),
        c.position,
        Untrusted::from(c.state.as_str())
    );
    writeln!(out, "{}", p.paint(Tone::Strong, &text))
}

/// One log line, escaped (it came from the container); `prefix` names the container when several
/// are followed at once.
pub fn write_line(out: &mut dyn Write, prefix: Option<&str>, line: &str) -> io::Result<()> {
    match prefix {
        Some(name) => writeln!(out, "[{}] {}", Untrusted::from(name), Untrusted::from(line)),
        None => writeln!(out, "{}", Untrusted::from(line)),
    }
}

/// The line said instead of a log: `(no log: it has not started yet)`.
pub fn write_no_log(out: &mut dyn Write, why: &str, p: Palette) -> io::Result<()> {
    let text = format!("(no log: {})", Untrusted::from(why));
    writeln!(out, "{}", p.paint(Tone::Dim, &text))
}
