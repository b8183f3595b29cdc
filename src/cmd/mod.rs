//! One module per subcommand; `dispatch` is the only place that matches on the command.

pub mod explain;
pub mod status;
