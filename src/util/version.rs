//! Version strings, shared by `--version` and `kubectl initctl version`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = env!("INITCTL_GIT_COMMIT");
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("INITCTL_GIT_COMMIT"),
    ")"
);
