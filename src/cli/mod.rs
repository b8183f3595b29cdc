//! The command line: its clap definition, and everything derived from it rather than written by
//! hand (shell completion, kubectl's plugin completion, man pages).

pub mod completion;
mod definition;

pub use definition::*;
