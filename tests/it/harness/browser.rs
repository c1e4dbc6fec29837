//! What the interop and browser tests need from the machine: the repository (for `interop/`),
//! Chromium, node, the npm packages of `interop/package.json` and a Python with the packages of
//! `interop/requirements.txt`. Each function here says what is missing and how to install it;
//! tests hand that to [`super::require_tool`], which fails the test (or, with
//! `GATEHOUSE_TEST_ALLOW_SKIP=1`, skips it).

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

/// Whether a node script using the npm `packages` of `interop/` (and Chromium, with `browser`)
/// can run here; if not, what is missing and how to install it.
pub fn node(packages: &[&str], browser: bool) -> Result<(), String> {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Err("node is not installed (Debian: apt-get install nodejs npm)".into());
    }
    for p in packages {
        if !repo().join("interop/node_modules").join(p).is_dir() {
            return Err(format!(
                "interop/node_modules/{p} is missing (run `npm ci` in interop/)"
            ));
        }
    }
    if browser && !chromium().exists() {
        return Err(format!(
            "Chromium is missing: {} does not exist (Debian: apt-get install chromium chromium-driver, \
             or point GATEHOUSE_TEST_CHROMIUM at a Chromium binary)",
            chromium().display()
        ));
    }
    Ok(())
}

/// Whether a browser test (playwright-core driving Chromium) can run here.
pub fn playwright() -> Result<(), String> {
    node(&["playwright-core"], true)
}

/// The Python that can import `modules`: `interop/.venv`'s (where scripts/test installs
/// `interop/requirements.txt`), else the `python3` on `PATH`.
pub fn python(modules: &[&str]) -> Result<PathBuf, String> {
    let venv = repo().join("interop/.venv/bin/python3");
    let candidate = if venv.exists() { venv } else { PathBuf::from("python3") };
    let ok = std::process::Command::new(&candidate)
        .args(["-c", &format!("import {}", modules.join(", "))])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(candidate)
    } else {
        Err(format!(
            "{} cannot import {} (python3 -m venv interop/.venv && \
             interop/.venv/bin/pip install -r interop/requirements.txt)",
            candidate.display(),
            modules.join(", ")
        ))
    }
}
