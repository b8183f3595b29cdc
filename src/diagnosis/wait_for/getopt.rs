//! Command-line options read the way getopt-style tools read them.

/// Arguments split the way getopt-style tools read them.
pub(super) struct ParsedArgs<'a> {
    /// Options in order, e.g. `("-h", "db")`, `("--spider", "")`.
    pub(super) options: Vec<(String, &'a str)>,
    pub(super) positionals: Vec<&'a str>,
    /// What follows `--`.
    pub(super) after_dashdash: &'a [String],
}

impl<'a> ParsedArgs<'a> {
    pub(super) fn value(&self, names: &[&str]) -> Option<&'a str> {
        self.options
            .iter()
            .rev()
            .find(|(name, _)| names.contains(&name.as_str()))
            .map(|(_, value)| *value)
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }
}

/// `value_shorts`: short options that take a value (attached or next); `value_longs`: long options
/// that take the next argument when not written `--name=value`. `+opts` (dig) are flags.
pub(super) fn getopt<'a>(
    args: &'a [String],
    value_shorts: &str,
    value_longs: &[&str],
) -> ParsedArgs<'a> {
    let mut parsed = ParsedArgs {
        options: Vec::new(),
        positionals: Vec::new(),
        after_dashdash: &[],
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if arg == "--" {
            parsed.after_dashdash = &args[i..];
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => parsed.options.push((format!("--{name}"), value)),
                None if value_longs.contains(&arg) => {
                    let value = args.get(i).map_or("", String::as_str);
                    i += 1;
                    parsed.options.push((arg.to_string(), value));
                }
                None => parsed.options.push((arg.to_string(), "")),
            }
        } else if arg.len() > 1 && arg.starts_with('+') {
            parsed.options.push((arg.to_string(), ""));
        } else if arg.len() > 1 && arg.starts_with('-') {
            for (at, c) in arg.char_indices().skip(1) {
                if value_shorts.contains(c) {
                    let attached = &arg[at + c.len_utf8()..];
                    let value = if attached.is_empty() {
                        i += 1;
                        args.get(i - 1).map_or("", String::as_str)
                    } else {
                        attached
                    };
                    parsed.options.push((format!("-{c}"), value));
                    break;
                }
                parsed.options.push((format!("-{c}"), ""));
            }
        } else {
            parsed.positionals.push(arg);
        }
    }
    parsed
}
