//! One module per subcommand, each thin: parse its arguments, call the layer below, render.
//! `crate::run` is the only place that matches on the command; no module here imports another.

pub mod check;
pub mod edit;
pub mod explain;
pub mod logs;
pub mod restart;
pub mod status;
pub mod timeline;
