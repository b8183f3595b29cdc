//! The command line: its clap definition, and everything derived from it rather than written by
//! hand (shell completion scripts, kubectl's plugin completion, man pages).

pub mod completion;
mod definition;
pub mod man;
pub mod scripts;

pub use definition::*;
