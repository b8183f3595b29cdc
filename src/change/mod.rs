//! Changing pods, shared by `edit`, `restart` and `check`: the guard (what the API server would
//! refuse), the plan (what must happen for a change to run), and the steps that carry it out
//! (patch, editor, backup, recreate, follow).

pub mod backup;
pub mod context;
pub mod edit;
pub mod editor;
pub mod follow;
pub mod guard;
pub mod patch;
pub mod plan;
pub mod recreate;
pub mod restart;
