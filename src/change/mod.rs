//! Changing pods, shared by `edit`, `restart` and `check`: the guard (what the API server would
//! refuse), the plan (what must happen for a change to run), the steps that carry it out
//! (patch, editor, backup, recreate, follow), what edit and restart work with (context), and
//! the two commands' sessions (edit, restart).

mod backup;
pub(crate) mod context;
pub(crate) mod edit;
mod editor;
pub(crate) mod follow;
pub mod guard;
mod patch;
pub(crate) mod plan;
mod recreate;
pub(crate) mod restart;
