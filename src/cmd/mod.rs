//! One module per subcommand; `dispatch` is the only place that matches on the command.

pub mod check;
pub mod edit;
pub mod explain;
pub mod restart;
pub mod status;
