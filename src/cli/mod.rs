//! The command line: its clap definition, and everything derived from it rather than written by
//! hand (shell completion scripts, kubectl's plugin completion, man pages).

pub(crate) mod completion;
mod definition;
mod flags;
pub(crate) mod hoist;
pub(crate) mod man;
pub(crate) mod scripts;

pub use definition::*;
pub use flags::*;
