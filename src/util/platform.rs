//! Where the tool keeps its files on each platform.

use std::path::PathBuf;

/// The directory for backups: `$XDG_STATE_HOME/kubectl-initctl`, else
/// `~/.local/state/kubectl-initctl` (the XDG default, also on macOS, where a shell user looks
/// for it), and `%LOCALAPPDATA%\kubectl-initctl` on Windows. None when the platform names no
/// such place (no home directory).
pub fn state_dir() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        dirs::data_local_dir()
    } else {
        dirs::state_dir().or_else(|| dirs::home_dir().map(|home| home.join(".local/state")))
    };
    base.map(|dir| dir.join("kubectl-initctl"))
}

/// What to set when [`state_dir`] finds nothing, for the error that says so.
pub(crate) fn state_dir_hint() -> &'static str {
    if cfg!(windows) {
        "LOCALAPPDATA"
    } else {
        "XDG_STATE_HOME or HOME"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn follows_the_xdg_default_on_unix() {
        // Whatever this process's environment, the answer ends in the tool's own directory and
        // is absolute (a relative XDG_STATE_HOME is ignored, as the XDG spec says).
        if let Some(dir) = state_dir() {
            assert!(dir.is_absolute(), "{}", dir.display());
            assert!(dir.ends_with("kubectl-initctl"));
        }
    }
}
