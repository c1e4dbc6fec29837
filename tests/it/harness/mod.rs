//! Test harness: fresh databases on either backend, the real server in-process, a webhook receiver.

pub mod browser;
pub mod db;
pub mod receiver;
pub mod server;
