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

/// `bytes` as text, if they are UTF-8. Every LIST page and offline list item is checked whole
/// before it is read as a str, and only whether it is valid matters there (an invalid one is
/// read again as bytes, which places the error): simdutf8 checks several times as fast as std.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}
