//! Log tails as evidence: the last lines of a container's log, each cut to a bounded length,
//! runs of the same line folded into one ("waiting for myservice" ×10).

use super::Diagnosis;
use super::related::{LogKey, Lookup};
use crate::util::sanitize::cut;

/// The longest a quoted log line is (characters); the rest is replaced by a visible
/// `… [cut: N more characters]`. Lines are escaped when displayed (they travel as `Untrusted`).
pub(crate) const LOG_LINE_MAX: usize = 4096;

/// Evidence lines quoting the log of `container` (the previous instance when `previous`).
/// Empty while the log has not been fetched; a note when it cannot be.
pub(super) fn quote(d: &mut Diagnosis, container: &str, previous: bool) -> Vec<String> {
    if d.tail == 0 {
        return Vec::new();
    }
    let key = LogKey {
        namespace: d.namespace().to_string(),
        pod: d.name().to_string(),
        container: container.to_string(),
        previous,
    };
    let which = if previous { "previous run of " } else { "" };
    match d.related.log(&key) {
        Lookup::Got(text) => {
            let lines = fold(text, d.tail as usize);
            if lines.is_empty() {
                return vec![format!("log ({which}{container}): empty")];
            }
            let mut out = vec![format!(
                "log ({which}{container}, last {} lines):",
                d.tail.min(text.lines().count() as u32)
            )];
            out.extend(lines.into_iter().map(|l| format!("  {l}")));
            out
        }
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!("log of {which}{container} not available: {why}"));
            Vec::new()
        }
        Lookup::Unfetched => Vec::new(),
    }
}

/// The last `tail` lines, each cut at [`LOG_LINE_MAX`], with consecutive repeats folded.
pub(super) fn fold(text: &str, tail: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(tail);
    let mut out: Vec<(String, usize)> = Vec::new();
    for line in &lines[start..] {
        let line = cut(line.trim_end(), LOG_LINE_MAX).into_owned();
        match out.last_mut() {
            Some((last, n)) if *last == line => *n += 1,
            _ => out.push((line, 1)),
        }
    }
    out.into_iter()
        .map(|(l, n)| if n > 1 { format!("{l}  (×{n})") } else { l })
        .collect()
}

/// The line a looping container prints most, if it repeats. On a tie the line printed last wins:
/// a wait loop's own message (`echo waiting for myservice`) usually ends each round.
pub(super) fn repeating_line(text: &str, tail: usize) -> Option<(String, usize)> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let window = &lines[lines.len().saturating_sub(tail)..];
    let mut best: Option<(&str, usize)> = None;
    for line in window {
        let n = window.iter().filter(|l| *l == line).count();
        if n > 1 && best.is_none_or(|(_, m)| n >= m) {
            best = Some((line, n));
        }
    }
    best.map(|(l, n)| (cut(l, LOG_LINE_MAX).into_owned(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_repeats_and_escapes() {
        let text = "start\nwaiting for myservice\nwaiting for myservice\nwaiting for myservice\n\x1b[31mred\n";
        assert_eq!(
            fold(text, 4),
            ["waiting for myservice  (×3)", "\x1b[31mred"]
        );
        assert_eq!(
            repeating_line(text, 10),
            Some(("waiting for myservice".into(), 3))
        );
        assert_eq!(repeating_line("a\nb\n", 10), None);
        let long = format!("{}\n", "y".repeat(LOG_LINE_MAX + 10));
        assert_eq!(
            fold(&long, 5),
            [format!(
                "{}… [cut: 10 more characters]",
                "y".repeat(LOG_LINE_MAX)
            )]
        );
        let nslookup =
            "Server: 10.96.0.10\nnslookup: can't resolve\nwaiting for myservice\n".repeat(3);
        assert_eq!(
            repeating_line(&nslookup, 9),
            Some(("waiting for myservice".into(), 3))
        );
    }
}
