//! Test harness: fresh databases on either backend, the real server in-process, a webhook receiver,
//! fixtures for integrations, and the tools interop and browser tests need.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::panic)]

pub mod browser;
pub mod db;
pub mod dns;
pub mod fixtures;
pub mod receiver;
pub mod server;

/// The variable with which a developer lets tests whose tool is missing skip instead of fail.
pub const ALLOW_SKIP: &str = "GATEHOUSE_TEST_ALLOW_SKIP";

/// Whether a test whose tool is missing may skip: only when the developer asked for it with
/// `GATEHOUSE_TEST_ALLOW_SKIP=1` (a quick local loop). scripts/test never sets it.
pub fn skip_allowed() -> bool {
    std::env::var(ALLOW_SKIP).is_ok_and(|v| v == "1")
}

/// The tool a test needs, as found by one of [`browser`]'s functions. When it is missing the test
/// fails with what is missing and how to install it; with `GATEHOUSE_TEST_ALLOW_SKIP=1` it prints
/// why and gets `None`, and returns early:
///
/// ```ignore
/// let Some(()) = require_tool(browser::playwright()) else { return };
/// ```
#[track_caller]
pub fn require_tool<T>(found: Result<T, String>) -> Option<T> {
    match found {
        Ok(tool) => Some(tool),
        Err(missing) if skip_allowed() => {
            eprintln!("SKIPPED ({ALLOW_SKIP}=1): {missing}");
            None
        }
        Err(missing) => panic!(
            "this test needs a tool that is missing: {missing}.\n\
             scripts/test installs everything the interop and browser tests need (docs/testing.md); \
             to skip such tests in a quick local loop instead, set {ALLOW_SKIP}=1."
        ),
    }
}
