//! The user's edited text on disk. Whatever stops an edit from being applied leaves the copy
//! where it is, so the work is never lost; only `discard` (the edit was applied, or there was
//! nothing to apply) removes it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::change::editor;
use crate::error::{Error, Result};

pub(super) struct EditCopy {
    path: PathBuf,
}

impl EditCopy {
    /// A new temp file holding `text`, for the editor.
    pub(super) fn write(text: &str, json: bool) -> Result<EditCopy> {
        editor::temp_file(text, json).map(|path| EditCopy { path })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// What the user saved.
    pub(super) fn read(&self) -> Result<String> {
        std::fs::read_to_string(&self.path).map_err(|source| Error::ReadFile {
            path: self.path.display().to_string(),
            source,
        })
    }

    /// On an error, tells the user where the copy stays, and passes the error on.
    pub(super) fn or_keep<T>(&self, err: &mut dyn Write, result: Result<T>) -> Result<T> {
        if result.is_err() {
            let _ = writeln!(
                err,
                "A copy of your changes has been stored to \"{}\"",
                self.path.display()
            );
        }
        result
    }

    /// Removes the copy: the edit was applied, or there was nothing to apply.
    pub(super) fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Removes the copy and says why nothing more happens; the edit ends without an error.
    pub(super) fn discard_saying(self, err: &mut dyn Write, why: &str) -> Result<()> {
        self.discard();
        let _ = writeln!(err, "{why}");
        Ok(())
    }
}
