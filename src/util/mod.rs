//! Small, general pieces with no knowledge of pods: durations, quantities, terminal
//! sanitizing, signal handling, version strings.

pub mod duration;
pub mod interrupt;
pub mod quantity;
pub mod sanitize;
pub mod version;
