//! The `gatehouse apply` provisioning file: `provision::ProvisionFile::parse`, which parses the
//! TOML (`file::parse`, shape errors with key path and line) and checks every value
//! (`validate::validate`: organizations, accounts, services, integrations, redirect URIs and
//! patterns, client secret digests, certificates, event registrations). Nothing touches a
//! database. Certificate paths resolve against examples/, as for the example files there.
//!
//! Invariants: a refused file names at least one problem, and a file is judged the same way
//! twice.
#![no_main]

use std::path::Path;

use gatehouse_app::provision::{ProvisionError, ProvisionFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let base = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"));
    let first = ProvisionFile::parse("fuzz.toml", text, base);
    match &first {
        Ok(file) => {
            let _ = file.declares_registrations();
        }
        Err(ProvisionError::Invalid { problems, .. }) => {
            assert!(!problems.is_empty(), "a refused file names its problems");
            let rendered = first.as_ref().err().map(ToString::to_string).unwrap_or_default();
            assert!(rendered.starts_with("fuzz.toml"), "{rendered}");
        }
        Err(other) => panic!("parsing alone failed with {other}"),
    }
    let second = ProvisionFile::parse("fuzz.toml", text, base);
    assert_eq!(first.is_ok(), second.is_ok());
});
