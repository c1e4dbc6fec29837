//! The real binary: `apply -f examples/adobe-like.toml`, `export`, `keys generate`.

use std::process::{Command, Output};

use gatehouse_domain::certificate;

use super::*;
use crate::harness::db::TestDatabase;

/// Runs the binary with only the flags given: no `GATEHOUSE_*` variable of the test run leaks in.
fn gatehouse(data_dir: &Path, db_url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GATEHOUSE_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(db_url)
        .args(args)
        .output()
        .unwrap()
}

#[track_caller]
fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn apply_and_export_through_the_binary() {
    let db = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let example = example();
    let example = example.to_str().unwrap();

    let dry = ok(&gatehouse(dir.path(), &db.url, &["apply", "-f", example, "--dry-run"]));
    assert!(dry.contains("Dry run: nothing was written."), "{dry}");
    assert!(!dry.contains("ghs_"), "a dry run shows no secret");

    let first = ok(&gatehouse(dir.path(), &db.url, &["apply", "-f", example]));
    assert!(
        first.contains(
            "organizations: 1 created, 0 updated, 0 unchanged; accounts: 2 created, 0 updated, 0 unchanged; \
                        services: 6 created, 0 updated, 0 unchanged; integrations: 4 created, 0 updated, 0 unchanged"
        ),
        "{first}"
    );
    assert_eq!(
        first.matches(": ghs_").count(),
        3,
        "generated secrets are printed once:\n{first}"
    );

    let second = ok(&gatehouse(dir.path(), &db.url, &["apply", "-f", example]));
    assert!(second.contains("Nothing to change"), "{second}");
    assert!(!second.contains("ghs_"));

    let exported = ok(&gatehouse(dir.path(), &db.url, &["export"]));
    assert!(exported.contains("client_id = \"e053e1a87cf74c68a6ec8e71d4a82662\""));
    let e1 = dir.path().join("e1.toml");
    ok(&gatehouse(dir.path(), &db.url, &["export", "-o", e1.to_str().unwrap()]));
    assert_eq!(read(&e1), exported);
    let again = ok(&gatehouse(dir.path(), &db.url, &["apply", "-f", e1.to_str().unwrap()]));
    assert!(again.contains("Nothing to change"), "{again}");

    // A bad file: the error names the file and the key, and the exit status is non-zero.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[services]]\ncode = \"x\"\nname = \"X\"\nallowed_types = [\"soap\"]\n",
    )
    .unwrap();
    let out = gatehouse(dir.path(), &db.url, &["apply", "-f", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml: services[0].allowed_types[0]: unknown variant `soap`"),
        "{stderr}"
    );
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn keys_generate_writes_a_key_and_a_certificate_openssl_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("private.key");
    let cert = dir.path().join("certificate_pub.crt");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["keys", "generate", "--key-out"])
            .arg(&key)
            .arg("--cert-out")
            .arg(&cert)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = ok(&run(&["--common-name", "it-test"]));
    let pem = read(&cert);
    let parsed = certificate::parse(&pem, now()).unwrap();
    assert_eq!(parsed.key, certificate::KeyKind::Rsa(2048));
    assert!(out.contains(&parsed.fingerprint), "the fingerprint is printed:\n{out}");
    assert!(parsed.not_after - parsed.not_before == 365 * 86_400);
    assert!(read(&key).starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // No overwriting without --force.
    let refused = run(&[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(read(&cert), pem, "nothing was overwritten");

    if openssl_available() {
        let x509 = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&cert)
            .output()
            .unwrap();
        let text = ok(&x509);
        assert!(text.contains("sha256WithRSAEncryption"), "{text}");
        assert!(text.contains("CN = it-test") || text.contains("CN=it-test"), "{text}");
        let rsa = Command::new("openssl")
            .args(["rsa", "-check", "-noout", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(ok(&rsa).contains("RSA key ok"));
    }

    // EC P-256 with --force.
    ok(&run(&["--algorithm", "ec-p256", "--force"]));
    assert_eq!(
        certificate::parse(&read(&cert), now()).unwrap().key,
        certificate::KeyKind::EcP256
    );
    if openssl_available() {
        let ec = Command::new("openssl")
            .args(["ec", "-check", "-noout", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(ec.status.success(), "{}", String::from_utf8_lossy(&ec.stderr));
    }
}
