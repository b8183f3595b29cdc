//! The editing loop's editor, as kubectl's (pkg/cmd/util/editor): KUBE_EDITOR, then EDITOR, then
//! vi; the same argument splitting and shell fallback; the same header and `#` comments; temp
//! files named after the binary.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

pub(super) const HEADER: &str =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

/// The editor command line, resolved from KUBE_EDITOR / EDITOR as kubectl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Editor {
    argv: Vec<String>,
    /// Run through a shell: the file path is appended, quoted, to the last argument.
    shell: bool,
}

/// The platform's defaults, as kubectl's `platformize`: vi and /bin/bash, or notepad and cmd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Platform {
    Unix,
    Windows,
}

impl Platform {
    pub(super) const CURRENT: Platform = if cfg!(windows) {
        Platform::Windows
    } else {
        Platform::Unix
    };

    fn default_editor(self) -> &'static str {
        match self {
            Platform::Unix => "vi",
            Platform::Windows => "notepad",
        }
    }

    fn default_shell(self) -> &'static str {
        match self {
            Platform::Unix => "/bin/bash",
            Platform::Windows => "cmd",
        }
    }
}

impl Editor {
    /// `value` is the first non-empty of KUBE_EDITOR and EDITOR; `shell` is $SHELL.
    pub(super) fn resolve(value: Option<&str>, shell: Option<&str>) -> Editor {
        Editor::resolve_on(Platform::CURRENT, value, shell)
    }

    fn resolve_on(platform: Platform, value: Option<&str>, shell: Option<&str>) -> Editor {
        let editor = value
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(platform.default_editor());
        if !editor.contains(' ') {
            return Editor {
                argv: vec![editor.to_string()],
                shell: false,
            };
        }
        if !editor.contains(['"', '\'', '\\']) {
            return Editor {
                argv: editor.split(' ').map(str::to_string).collect(),
                shell: false,
            };
        }
        let shell = shell
            .filter(|s| !s.is_empty())
            .unwrap_or(platform.default_shell());
        // kubectl passes the command to cmd with /C, to every other shell with -c.
        let flag = if shell == "cmd" { "/C" } else { "-c" };
        Editor {
            argv: vec![shell.to_string(), flag.to_string(), editor.to_string()],
            shell: true,
        }
    }

    fn command_for(&self, path: &Path) -> Vec<String> {
        let mut argv = self.argv.clone();
        if self.shell {
            if let Some(last) = argv.last_mut() {
                *last = format!("{last} {}", go_quote(&path.to_string_lossy()));
            }
        } else {
            argv.push(path.to_string_lossy().into_owned());
        }
        argv
    }

    /// Runs the editor on `path` with the terminal attached, and waits for it.
    pub(super) fn edit(&self, path: &Path) -> Result<()> {
        let argv = self.command_for(path);
        let shown = self.argv.join(" ");
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .status()
            .map_err(|e| Error::Input(format!("unable to launch the editor {shown:?}: {e}")))?;
        if !status.success() {
            return Err(Error::Input(format!(
                "there was a problem with the editor {shown:?}"
            )));
        }
        Ok(())
    }
}

/// Go's %q for a path: double quotes, with backslashes and quotes escaped.
fn go_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A new temp file `kubectl-initctl-edit-*.yaml` (or `.json`) holding `text`.
pub(super) fn temp_file(text: &str, json: bool) -> Result<PathBuf> {
    let dir = std::env::temp_dir();
    let suffix = if json { "json" } else { "yaml" };
    for attempt in 0..1000u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = dir.join(format!(
            "kubectl-initctl-edit-{}{:09}{attempt}.{suffix}",
            std::process::id(),
            nanos
        ));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(text.as_bytes())
                    .map_err(|source| Error::WriteFile {
                        path: path.clone(),
                        source,
                    })?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(Error::WriteFile { path, source }),
        }
    }
    Err(Error::Input(format!(
        "cannot create a temp file in {}",
        dir.display()
    )))
}

/// The text as written for the editor: with `--windows-line-endings` every line ends in CRLF
/// (kubectl's crlf writer); reading back accepts either.
pub(super) fn with_line_endings(text: String, windows: bool) -> String {
    if windows {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

/// kubectl's ManualStrip: drops lines whose trimmed text starts with `#` (but not `#!`).
pub(super) fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with('#') || t.starts_with("#!")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The header, then `reasons` as comments (kubectl's `# pods "x" was not valid:` block).
pub(super) fn header_with(reasons: &[(String, Vec<String>)]) -> String {
    let mut out = HEADER.to_string();
    for (head, items) in reasons {
        let colon = if items.is_empty() { "" } else { ":" };
        out.push_str(&hash_lines(&format!("{head}{colon}")));
        for item in items {
            out.push_str(&hash_lines(&format!("* {item}")));
        }
        out.push_str("#\n");
    }
    out
}

/// Comments out every line of a possibly multi-line text.
fn hash_lines(text: &str) -> String {
    text.lines().map(|l| format!("# {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_kubectl() {
        assert_eq!(Editor::resolve(None, None).argv, ["vi"]);
        assert_eq!(
            Editor::resolve(Some("code --wait"), None).argv,
            ["code", "--wait"]
        );
        let quoted = Editor::resolve(Some("'my editor' -f"), Some("/bin/sh"));
        assert_eq!(quoted.argv, ["/bin/sh", "-c", "'my editor' -f"]);
        assert_eq!(
            quoted.command_for(Path::new("/tmp/a b.yaml")),
            ["/bin/sh", "-c", "'my editor' -f \"/tmp/a b.yaml\""]
        );
        assert_eq!(
            Editor::resolve(Some("nano"), None).command_for(Path::new("/t.yaml")),
            ["nano", "/t.yaml"]
        );
    }

    #[test]
    fn windows_defaults_to_notepad_and_cmd_like_kubectl() {
        let windows = Platform::Windows;
        assert_eq!(Editor::resolve_on(windows, None, None).argv, ["notepad"]);
        let quoted = Editor::resolve_on(windows, Some("\"C:\\Program Files\\ed.exe\" -w"), None);
        assert_eq!(
            quoted.argv,
            ["cmd", "/C", "\"C:\\Program Files\\ed.exe\" -w"]
        );
        // A $SHELL set on Windows (Git Bash, MSYS) is used with -c, as kubectl does.
        let bash = Editor::resolve_on(windows, Some("'ed' -w"), Some("/usr/bin/bash"));
        assert_eq!(bash.argv, ["/usr/bin/bash", "-c", "'ed' -w"]);
        assert_eq!(Editor::resolve_on(Platform::Unix, None, None).argv, ["vi"]);
    }

    #[test]
    fn windows_line_endings_are_crlf_once() {
        assert_eq!(with_line_endings("a\nb\r\n".into(), true), "a\r\nb\r\n");
        assert_eq!(with_line_endings("a\nb\n".into(), false), "a\nb\n");
        assert_eq!(strip_comments("# h\r\nkind: Pod\r\n"), "kind: Pod");
    }

    #[test]
    fn strips_comments_but_not_shebangs() {
        assert_eq!(
            strip_comments("# a\nkind: Pod\n  # b\n#!keep"),
            "kind: Pod\n#!keep"
        );
    }

    #[test]
    fn reasons_become_comments() {
        let text = header_with(&[(
            "pods \"x\" was not valid".into(),
            vec!["spec.initContainers[a].command: Forbidden".into()],
        )]);
        assert!(
            text.ends_with(
                "#\n# pods \"x\" was not valid:\n# * spec.initContainers[a].command: Forbidden\n#\n"
            ),
            "{text}"
        );
    }
}
