//! The backend conformance suite: every storage operation of every aggregate, run on whichever
//! backend `GATEHOUSE_TEST_BACKEND` selects (scripts/test runs the binary once per backend), so
//! SQLite and PostgreSQL are held to the same contract, the one written in `traits.rs`.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod backend;
pub(crate) mod fixtures;
mod integrations;
mod one_time;
mod orgs;
mod services;
