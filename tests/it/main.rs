//! The integration suite: one binary, so the stand-in API server is compiled once.
//! Every test runs the real `kubectl-initctl` binary (and, where installed, real `kubectl`)
//! against the stand-in server on loopback. No cluster is needed.

mod apiserver;
mod apiserver_selftest;
mod check_output;
mod completion;
mod connection;
mod edit;
mod explain;
mod explain_groups;
mod explain_rows;
mod faults;
mod fuzz;
mod guard_props;
mod harness;
mod hostile;
mod krew;
mod kubectl_compat;
mod kubectl_table;
mod logs;
mod offline_clock;
mod offline_input;
mod pages;
mod readme_images;
mod status;
mod status_output;
mod timeline;
mod tls;
mod watch;
