//! I/O against the API server (or the offline files standing in for it): the client, the pod
//! queries behind every command, the related objects a diagnosis asks for, and pod owners.
//! Named `cluster` rather than `kube` so it never shadows the kube crate.

pub mod client;
pub(crate) mod connect;
pub(crate) mod events;
pub(crate) mod failure;
pub(crate) mod gzip;
pub(crate) mod logs;
pub(crate) mod overrides;
pub mod owner;
pub(crate) mod pod_pages;
pub mod pod_query;
pub mod related;
pub(crate) mod request_log;
pub(crate) mod throttle;

pub use client::{Cluster, ConnectOptions, Kind};
pub use overrides::Overrides;
