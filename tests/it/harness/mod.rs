//! Test harness: fresh databases on either backend, the real server in-process, a webhook receiver.

pub mod db;
pub mod receiver;
pub mod server;
