//! `status -w` on a terminal: the whole table redrawn in place after every change, under a
//! header line with the time and counts; rows changed in the last moments marked `*`, deleted
//! pods kept a while as `Deleted`. Pure: state + changes in, a frame (text) out; the printer
//! writes it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use k8s_openapi::jiff::{SignedDuration, Timestamp, tz::TimeZone};

use crate::render::Tone;
use crate::render::status::{TableLayout, TableOptions, TableRow, write_table};
use crate::status::report::InitStatus;

/// How long a changed row keeps its mark.
const MARKED_FOR: SignedDuration = SignedDuration::from_secs(10);
/// How long a deleted pod stays on screen.
const GONE_FOR: SignedDuration = SignedDuration::from_secs(30);

/// Redraw in place: cursor home; each line then erase to its end; erase below the last line.
pub(crate) const HOME: &str = "\x1b[H";
pub(crate) const ERASE_LINE: &str = "\x1b[K";
pub(crate) const ERASE_BELOW: &str = "\x1b[J";

#[derive(Debug, Clone)]
struct Entry {
    item: InitStatus,
    stuck: bool,
    changed: Option<Timestamp>,
    gone: Option<Timestamp>,
}

/// What the screen shows: every pod by namespace and name.
#[derive(Debug, Default)]
pub(crate) struct Screen {
    rows: BTreeMap<(String, String), Entry>,
}

impl Screen {
    /// A pod as listed (not marked as changed).
    pub(crate) fn listed(&mut self, item: InitStatus, stuck: bool) {
        self.put(item, stuck, None);
    }

    /// A pod added or changed at `at`.
    pub(crate) fn changed(&mut self, item: InitStatus, stuck: bool, at: Timestamp) {
        self.put(item, stuck, Some(at));
    }

    fn put(&mut self, item: InitStatus, stuck: bool, changed: Option<Timestamp>) {
        let key = (
            item.namespace.raw().to_string(),
            item.name.raw().to_string(),
        );
        self.rows.insert(
            key,
            Entry {
                item,
                stuck,
                changed,
                gone: None,
            },
        );
    }

    /// A pod deleted at `at` (known only by name when deleted while the watch was down).
    pub(crate) fn deleted(&mut self, namespace: &str, name: &str, at: Timestamp) {
        if let Some(entry) = self
            .rows
            .get_mut(&(namespace.to_string(), name.to_string()))
        {
            entry.gone = Some(at);
            entry.changed = Some(at);
        }
    }

    /// The frame at `now`: header line, then the table aligned as one, at most `height` lines
    /// (the rest counted on a last line). Pods gone longer than a while are dropped first.
    pub(crate) fn frame(
        &mut self,
        now: Timestamp,
        opts: TableOptions,
        height: Option<usize>,
    ) -> String {
        self.rows
            .retain(|_, e| e.gone.is_none_or(|at| now.duration_since(at) < GONE_FOR));
        let live = self.rows.values().filter(|e| e.gone.is_none());
        let (pods, stuck) = live.fold((0, 0), |(p, s), e| (p + 1, s + usize::from(e.stuck)));
        let clock = now.to_zoned(TimeZone::system()).strftime("%H:%M:%S");
        let mut text = String::new();
        let _ = write!(
            text,
            "{}",
            opts.palette.paint(
                Tone::Strong,
                &format!("Every change · {clock} · {pods} pods, {stuck} stuck")
            )
        );
        text.push('\n');
        let rows: Vec<TableRow> = self
            .rows
            .values()
            .map(|e| TableRow {
                item: &e.item,
                event: None,
                deleted: e.gone.is_some(),
            })
            .collect();
        let mut table = Vec::new();
        // One frame, one alignment over every row (a fresh layout each time).
        let _ = write_table(&mut table, &rows, opts, now, &mut TableLayout::default());
        let table = String::from_utf8_lossy(&table);
        // Each pod's lines (its row, and in wide mode its init containers) under its mark.
        let mut marks = Vec::new();
        if opts.headers {
            marks.extend(std::iter::repeat_n("  ", 1 + usize::from(opts.wide)));
        }
        for e in self.rows.values() {
            let lines = 1 + if opts.wide {
                e.item.init_containers.len()
            } else {
                0
            };
            marks.push(mark(e, now));
            marks.extend(std::iter::repeat_n("  ", lines - 1));
        }
        let marked: Vec<String> = table
            .lines()
            .zip(marks.iter().chain(std::iter::repeat(&"  ")))
            .map(|(line, mark)| format!("{mark}{line}"))
            .collect();
        let mut lines: Vec<&str> = marked.iter().map(String::as_str).collect();
        if let Some(height) = height {
            let room = height.saturating_sub(2).max(1);
            if lines.len() > room {
                let hidden = lines.len() - room + 1;
                lines.truncate(room - 1);
                text.push_str(&lines.join("\n"));
                let _ = write!(text, "\n… {hidden} more rows (a taller window shows them)");
                return text + "\n";
            }
        }
        text.push_str(&lines.join("\n"));
        text.push('\n');
        text
    }
}

/// The mark before a row: `*` for a row changed in the last moments, blank otherwise.
fn mark(entry: &Entry, now: Timestamp) -> &'static str {
    match entry.changed {
        Some(at) if now.duration_since(at) < MARKED_FOR => "* ",
        _ => "  ",
    }
}

/// A frame as written to the terminal: from the top, each line cleared to its end, and
/// everything below the frame cleared.
pub(crate) fn in_place(frame: &str) -> String {
    let mut out = String::with_capacity(frame.len() + 64);
    out.push_str(HOME);
    for line in frame.lines() {
        out.push_str(line);
        out.push_str(ERASE_LINE);
        out.push('\n');
    }
    out.push_str(ERASE_BELOW);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Palette;
    use k8s_openapi::api::core::v1::Pod;

    fn item(name: &str, phase: &str, ready: bool) -> InitStatus {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop",
                "creationTimestamp": "2026-11-27T11:00:00Z"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": phase,
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "app", "image": "nginx", "imageID": "",
                    "ready": ready, "restartCount": 0,
                    "state": if ready { serde_json::json!({"running": {}}) }
                        else { serde_json::json!({"waiting": {"reason": "ContainerCreating"}}) }}]}
        }))
        .unwrap();
        crate::status::report::report(&pod, at(0), crate::status::report::Detail::Full)
    }

    fn at(secs: i64) -> Timestamp {
        "2026-11-27T12:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(secs)
    }

    fn opts() -> TableOptions {
        TableOptions {
            show_namespace: false,
            wide: false,
            headers: true,
            palette: Palette { enabled: false },
        }
    }

    #[test]
    fn a_frame_marks_changes_shows_deletions_and_counts() {
        let mut screen = Screen::default();
        screen.listed(item("api-0", "Pending", false), true);
        screen.listed(item("api-1", "Running", true), false);
        screen.listed(item("a-much-longer-pod-name", "Running", true), false);
        screen.changed(item("api-0", "Running", true), false, at(5));
        screen.deleted("shop", "api-1", at(6));
        let frame = screen.frame(at(8), opts(), None);
        let lines: Vec<&str> = frame.lines().collect();
        assert!(lines[0].starts_with("Every change · "), "{frame}");
        assert!(lines[0].ends_with(" · 2 pods, 0 stuck"), "{frame}");
        // One alignment over all rows: every STATUS starts under the header's.
        let status_at = lines[1].find("STATUS").unwrap();
        assert_eq!(lines[1].find("NAME"), Some(2), "{frame}");
        for (line, status) in [
            (lines[2], "Running"),
            (lines[3], "Running"),
            (lines[4], "Deleted"),
        ] {
            assert_eq!(line.find(status), Some(status_at), "{frame}");
        }
        assert!(
            lines[2].starts_with("  a-much-longer-pod-name"),
            "unchanged: no mark\n{frame}"
        );
        assert!(lines[3].starts_with("* api-0"), "changed: marked\n{frame}");
        assert!(lines[4].starts_with("* api-1"), "deleted: marked\n{frame}");
        // Later: the marks fade, the deleted pod leaves the screen.
        let later = screen.frame(at(60), opts(), None);
        assert!(!later.contains("api-1") && !later.contains('*'), "{later}");
        // A short window: the rows that do not fit are counted.
        let short = screen.frame(at(60), opts(), Some(4));
        assert_eq!(short.lines().count(), 3, "{short}");
        assert!(
            short.ends_with("… 2 more rows (a taller window shows them)\n"),
            "{short}"
        );
    }

    #[test]
    fn in_place_redraws_from_the_top_and_clears_what_is_left() {
        let frame = in_place("a\nb\n");
        assert_eq!(frame, "\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J");
        // The terminal guard lets exactly these through; anything else stays escaped.
        let mut out = Vec::new();
        {
            use std::io::Write;
            let mut guard = crate::util::sanitize::TerminalWriter::new(&mut out);
            guard.write_all(frame.as_bytes()).unwrap();
            guard.write_all(b"\x1b[2J\x1b[5H\x1b[3J").unwrap();
            guard.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{frame}\\u{{1b}}[2J\\u{{1b}}[5H\\u{{1b}}[3J")
        );
    }
}
