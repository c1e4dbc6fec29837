//! Declarative provisioning (`gatehouse apply` / `gatehouse export`) on the backend under test:
//! the library function directly (round trip, idempotency, declarative lists, errors, atomicity)
//! and the real binary end to end (`apply`, `export`, `keys generate`).

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod consequences;
mod declarative;
mod errors;
mod events;
mod projects;
mod round_trip;
mod tokens;

use std::path::{Path, PathBuf};

use gatehouse_app::provision::{self, Counts, Kind, ProvisionError, ProvisionFile, Report, Settings};
use gatehouse_store::{AuditStore, Store};
use rand::{SeedableRng, rngs::StdRng};

/// The repository root (where `examples/` and `tests/fixtures/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example() -> PathBuf {
    repo().join("examples/adobe-like.toml")
}

/// Where test files' certificate paths are resolved: `tests/fixtures/provision`.
pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/provision")
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses a test file named `test.toml` whose certificate paths are relative to the fixtures.
pub fn parse(text: &str) -> Result<ProvisionFile, ProvisionError> {
    ProvisionFile::parse("test.toml", text, &fixtures())
}

/// Settings with a master key, for files that create event registrations.
pub fn settings() -> Settings {
    let (key, _) = gatehouse_domain::crypto::MasterKey::generate(&mut rand::rngs::OsRng);
    Settings {
        master_key: Some(std::sync::Arc::new(key)),
        ..Settings::default()
    }
}

pub async fn apply_file(store: &Store, file: &ProvisionFile) -> Result<Report, ProvisionError> {
    provision::apply(store, file, now(), &mut StdRng::from_entropy(), &settings()).await
}

/// Parses and applies `text`.
pub async fn apply_text(store: &Store, text: &str) -> Result<Report, ProvisionError> {
    let file = parse(text)?;
    apply_file(store, &file).await
}

pub async fn apply_example(store: &Store) -> Report {
    let file = ProvisionFile::load(&example()).unwrap();
    apply_file(store, &file).await.unwrap()
}

pub async fn audit_count(store: &Store) -> usize {
    store
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 1_000_000)
        .await
        .unwrap()
        .len()
}

pub fn counts(created: usize, updated: usize, unchanged: usize) -> Counts {
    Counts {
        created,
        updated,
        unchanged,
    }
}

/// Asserts the report's counts for each kind, in the order organizations, accounts, services, integrations.
#[track_caller]
pub fn assert_counts(report: &Report, expected: [Counts; 4]) {
    let got: Vec<Counts> = Kind::ALL.iter().map(|k| report.counts(*k)).collect();
    assert_eq!(got, expected, "{}", report.summary());
}

/// The error text of a failed apply or parse.
#[track_caller]
pub fn error_text(r: Result<impl std::fmt::Debug, ProvisionError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
