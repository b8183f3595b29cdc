//! What the user hands the tool: offline files (`-f`), the YAML engine behind them, command-line
//! targets and selectors. Parsing only; nothing here talks to a cluster.

mod json_cursor;
mod json_pieces;
mod json_split;
mod json_stream;
mod json_walk;
pub(crate) mod managed_fields;
pub mod manifest;
pub(crate) mod newest;
pub(crate) mod pod_json;
mod pod_walk;
mod row_pod;
pub(crate) mod row_read;
pub mod selector;
pub mod target;
pub mod yaml;
mod yaml_split;
