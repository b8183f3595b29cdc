//! Pod → what `status` shows: kubectl's READY/STATUS/RESTARTS (`print_pod`), the init sequence
//! (`init_timeline`), and the record both feed (`report`). Pure.

pub mod image_ref;
pub mod init_timeline;
pub mod print_pod;
pub mod report;
