//! A YAML list cut at its items, by lines, so that the items can be parsed apart (on every
//! core, `input::yaml`). Only the shape `kubectl get … -o yaml` prints is cut: one document, a
//! top-level `items:` key whose block sequence starts each item with `- ` at one column, and
//! nothing around the items that a line-by-line reading could mistake (no directives, document
//! markers, anchors, tags, flow collections, block scalars or quotes left open on a line).
//! Anything else is `None`, and the text is parsed whole as before; so is any piece that does
//! not parse on its own (an alias of an anchor in another item, say).

/// The document with its items taken out (`items: []` in their place), and the items' texts.
pub(crate) struct Cut<'a> {
    pub head: String,
    /// Each item's lines as in the text, the first starting with `- `.
    pub items: Vec<&'a str>,
    /// The column of the items' dashes.
    pub indent: usize,
}

/// `text` cut at its items, or None when it is not of the shape cut here.
pub(crate) fn cut(text: &str) -> Option<Cut<'_>> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if text.starts_with('\u{feff}') || lines.iter().any(|l| is_marker(l)) {
        return None;
    }
    let at = lines.iter().position(|l| content(l) == "items:")?;
    let first = (at + 1..lines.len()).find(|&i| !is_blank(lines[i]))?;
    let indent = indentation(lines[first]);
    if !lines[first][indent..].starts_with("- ") {
        return None;
    }
    let mut items: Vec<&str> = Vec::new();
    let mut start = first;
    let mut end = lines.len();
    // Where each line starts in `text` (and, last, where the text ends).
    let starts: Vec<usize> = std::iter::once(0)
        .chain(lines.iter().scan(0, |at, l| {
            *at += l.len();
            Some(*at)
        }))
        .collect();
    for (i, line) in lines.iter().enumerate().skip(first + 1) {
        if is_blank(line) {
            continue;
        }
        let column = indentation(line);
        if column > indent + 1 {
            continue;
        }
        if line[column..].starts_with('#') || line.starts_with('\t') {
            // A comment or a tab where an item boundary could be: not worth the doubt.
            return None;
        }
        if column == indent && line[column..].starts_with("- ") {
            items.push(&text[starts[start]..starts[i]]);
            start = i;
        } else if column <= indent {
            end = i;
            break;
        } else {
            return None;
        }
    }
    items.push(&text[starts[start]..starts[end]]);
    if !lines[..at]
        .iter()
        .chain(&lines[end..])
        .all(|l| is_simple(l))
    {
        return None;
    }
    let mut head: String = lines[..at].concat();
    head.push_str("items: []\n");
    head.push_str(&lines[end..].concat());
    Some(Cut {
        head,
        items,
        indent,
    })
}

/// An item's text as a document of its own: every line moved left past the dash's column and
/// the dash (`- `); None if a line is indented less than that.
pub(crate) fn item_document(item: &str, indent: usize) -> Option<String> {
    let shift = indent + 2;
    let mut out = String::with_capacity(item.len());
    for (n, line) in item.split_inclusive('\n').enumerate() {
        if n == 0 {
            out.push_str(&line[shift..]);
        } else if is_blank(line) {
            // Spaces past the shift are content in a block scalar: kept.
            out.push_str(&line[indentation(line).min(shift)..]);
        } else if indentation(line) >= shift {
            out.push_str(&line[shift..]);
        } else {
            return None;
        }
    }
    Some(out)
}

fn content(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r', ' '])
}

fn is_blank(line: &str) -> bool {
    content(line).trim_start_matches(' ').is_empty()
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A directive or a document start or end marker.
fn is_marker(line: &str) -> bool {
    line.starts_with('%') || line.starts_with("---") || line.starts_with("...")
}

/// A line outside the items that cannot start anything spanning lines, nor refer to the items:
/// `key: value` or `key:` with a plain or one-line quoted value.
fn is_simple(line: &str) -> bool {
    let line = content(line).trim_start_matches(' ');
    if line.is_empty() {
        return true;
    }
    let Some((key, value)) = line.split_once(':') else {
        return false;
    };
    let plain_key = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    let value = value.trim_start_matches(' ');
    let quoted_whole = |q: char| {
        value.len() >= 2
            && value.starts_with(q)
            && value.ends_with(q)
            && !value[1..value.len() - 1].contains([q, '\\'])
    };
    let plain = !value.starts_with(['"', '\'', '|', '>', '&', '*', '!', '{', '[', '#', '@', '`'])
        && !value.contains(" #");
    plain_key && (value.is_empty() || plain || quoted_whole('"') || quoted_whole('\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubectl_list_is_cut_at_its_items() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    c: |\n      - not an item\n\n- kind: Pod\n  a: [1, 2]\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let cut = cut(text).unwrap();
        assert_eq!(cut.indent, 0);
        assert_eq!(
            cut.items,
            [
                "- apiVersion: v1\n  kind: Pod\n  spec:\n    c: |\n      - not an item\n\n",
                "- kind: Pod\n  a: [1, 2]\n"
            ]
        );
        assert_eq!(
            cut.head,
            "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
        );
        assert_eq!(
            item_document(cut.items[0], 0).unwrap(),
            "apiVersion: v1\nkind: Pod\nspec:\n  c: |\n    - not an item\n\n"
        );
    }

    #[test]
    fn indented_items_are_cut_too() {
        let text = "items:\n  - a: 1\n    b: 2\n  - a: 3\nkind: List\n";
        let cut = cut(text).unwrap();
        assert_eq!(cut.items, ["  - a: 1\n    b: 2\n", "  - a: 3\n"]);
        assert_eq!(item_document(cut.items[0], 2).unwrap(), "a: 1\nb: 2\n");
    }

    #[test]
    fn what_lines_cannot_cut_surely_is_left_whole() {
        for text in [
            "--- \nitems:\n- a: 1\n",
            "%YAML 1.2\n---\nitems:\n- a: 1\n",
            "items:\n- a: 1\n# a comment at the dash's column\n- a: 2\n",
            "items:\n- a: 1\n b: 2\n",
            "items:\n-\n  a: 1\n",
            "items: []\n",
            "x: \"open\nitems:\n- a: 1\n",
            "x: &anchor 1\nitems:\n- a: *anchor\n",
            "x: |\n  text\nitems:\n- a: 1\n",
            "items:\n- a: 1\n---\nitems:\n- a: 2\n",
        ] {
            assert!(cut(text).is_none(), "{text:?}");
        }
        assert_eq!(item_document("- a:\n    b\n c\n", 0), None);
    }
}
