//! Events: the dispatcher driven explicitly, the HTTP APIs, and interop with third-party clients.
//! The conformance suite of [`gatehouse_store::EventStore`] is in `store::events` and
//! `store::events_dispatch`, built from this module's `fixtures`.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_delivery;
mod api_journal;
mod api_registry;
mod browser;
pub(crate) mod client;
mod config;
mod console;
mod debugging;
pub(crate) mod durability;
pub(crate) mod fixtures;
mod interop;
mod ssrf;
mod tour;
