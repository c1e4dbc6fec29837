//! Events: the store's conformance suite for [`gatehouse_store::EventStore`] on the selected
//! backend, the dispatcher driven explicitly, the HTTP APIs, and interop with third-party clients.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_delivery;
mod api_journal;
mod api_registry;
mod browser;
pub(crate) mod client;
mod config;
mod console;
mod durability;
pub(crate) mod fixtures;
mod interop;
mod ssrf;
mod store;
mod store_dispatch;
