//! Small, general pieces with no knowledge of pods: durations, quantities, terminal
//! sanitizing, signal handling, version strings, platform directories, work split over cores.

pub(crate) mod duration;
pub mod interrupt;
pub(crate) mod jsonpath;
pub(crate) mod parallel;
pub mod platform;
pub(crate) mod quantity;
pub mod sanitize;
pub(crate) mod version;
