//! The integration suite: one binary, so the stand-in API server is compiled once.
//! Every test runs the real `kubectl-initctl` binary (and, where installed, real `kubectl`)
//! against the stand-in server on loopback. No cluster is needed.

mod apiserver;
mod apiserver_selftest;
mod completion;
mod edit;
mod explain;
mod faults;
mod fuzz;
mod guard_props;
mod harness;
mod hostile;
mod krew;
mod kubectl_compat;
mod kubectl_table;
mod offline_input;
mod readme_images;
mod status;
mod tls;
