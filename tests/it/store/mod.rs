//! The backend conformance suite: every storage operation of every aggregate, run on whichever
//! backend `GATEHOUSE_TEST_BACKEND` selects (scripts/test runs the binary once per backend), so
//! SQLite and PostgreSQL are held to the same contract, the one written in `traits.rs`. One file
//! per aggregate; every storage-level test of the suite lives here.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod backend;
mod console;
mod domains;
mod events;
mod events_dispatch;
pub(crate) mod fixtures;
mod gateway;
mod identity;
mod integrations;
mod one_time;
mod ops;
mod orgs;
mod passkeys;
mod projects;
mod services;
mod throttles;
mod tokens;
