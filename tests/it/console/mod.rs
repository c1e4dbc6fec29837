//! The developer console: its JSON API and its pages end to end (projects and workspaces,
//! integrations of the three types, credentials, certificates, services and subscriptions). Its storage is tested in
//! `store::console`.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adobe_console;
mod browser;
mod catalog_delete;
mod contract;
mod copy;
mod credentials;
mod expiry;
pub(crate) mod get_a_token;
pub(crate) mod helpers;
mod integrations;
mod journey;
mod migration;
mod openapi;
mod pages;
mod project_pages;
mod projects;
mod reveal;
mod revocation;
mod subscriptions;
mod validation;
