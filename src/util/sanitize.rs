//! Text that came from the cluster (reasons, messages, log lines, even names in offline files)
//! is escaped before it reaches a terminal, so it cannot move the cursor, recolour or retitle it.

/// Control characters (including ESC, CR, TAB and newlines) become visible escapes.
pub fn for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(super::for_terminal("ok"), "ok");
        assert_eq!(super::for_terminal("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(super::for_terminal("\u{9b}2J"), "\\u{9b}2J");
    }
}
