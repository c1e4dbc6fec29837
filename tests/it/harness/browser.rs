//! What the interop and browser tests need from the machine: the repository (for `interop/`),
//! Chromium, node and the npm packages. A test that cannot run here says why and is skipped.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Chromium binary: `GATEHOUSE_TEST_CHROMIUM`, else Debian's.
pub fn chromium() -> PathBuf {
    std::env::var_os("GATEHOUSE_TEST_CHROMIUM")
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why a node script using `packages` (and Chromium, with `browser`) cannot run here, if it cannot.
pub fn node_missing(packages: &[&str], browser: bool) -> Option<String> {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    for p in packages {
        if !repo().join("interop/node_modules").join(p).is_dir() {
            return Some(format!("interop/node_modules/{p} is missing (npm ci in interop/)"));
        }
    }
    if browser && !chromium().exists() {
        return Some(format!("{} does not exist", chromium().display()));
    }
    None
}

/// Why a browser test (playwright-core driving Chromium) cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    node_missing(&["playwright-core"], true)
}
