//! Pod → what `status` shows: kubectl's READY/STATUS/RESTARTS (`print_pod`), the init sequence
//! (`init_timeline`), and the record both feed (`report`). Pure.

pub mod container_logs;
pub mod image_ref;
pub mod init_timeline;
pub mod print_pod;
pub mod report;
pub mod startup_aggregate;
pub mod startup_timeline;
