//! README.md's quickstart, kept true: its commands are taken out of README.md and run exactly as
//! written — the sample webhook receiver, `gatehouse apply` and the `curl` calls — against the
//! real `gatehouse serve` on its default address, `http://127.0.0.1:8080`. They must print an
//! access token, and the receiver must print the delivered event.
//!
//! The server and the commands share a data directory of the test's own (or, on PostgreSQL, a
//! fresh database) through `GATEHOUSE_DATA_DIR` and `GATEHOUSE_DATABASE_URL`, which stand for the
//! reader's `./gatehouse-data`. The ports are the README's: 8080 and 9000 must be free.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{io::AsyncReadExt, process::Command};

use crate::harness::{browser::repo, db::TestDatabase};

/// The `sh` code blocks of README.md's "Quickstart" section, in order.
fn quickstart_blocks(readme: &str) -> Vec<String> {
    let start = readme
        .find("\n## Quickstart\n")
        .expect("README.md has a Quickstart section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b[..b.find("\n```").expect("a closed code block")].to_owned())
        .collect()
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A command with none of the test's own GATEHOUSE_* variables, and the data directory and
/// database given.
fn with_env(mut cmd: Command, data_dir: &Path, db: &TestDatabase) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("GATEHOUSE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("GATEHOUSE_DATA_DIR", data_dir);
    if db.url.starts_with("postgres") {
        cmd.env("GATEHOUSE_DATABASE_URL", &db.url);
    }
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    cmd
}

async fn read_all(mut r: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut s = String::new();
    r.read_to_string(&mut s).await.unwrap();
    s
}

#[tokio::test]
async fn the_readme_quickstart_gets_a_token_and_delivers_a_webhook() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = quickstart_blocks(&readme);
    assert_eq!(blocks.len(), 2, "the receiver, then the commands: {blocks:?}");
    let (receiver_block, commands) = (&blocks[0], &blocks[1]);
    assert!(
        commands.lines().any(|l| l.starts_with("gatehouse apply ")),
        "{commands}"
    );
    assert!(commands.contains("curl "), "{commands}");
    for port in [8080, 9000] {
        assert!(
            port_free(port),
            "the quickstart uses 127.0.0.1:{port}, which something else holds; stop it and run this test again"
        );
    }

    let db = TestDatabase::fresh().await;
    let data = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_gatehouse"));
    let mut serve = Command::new(bin);
    serve.arg("serve").stdout(Stdio::null()).stderr(Stdio::piped());
    let mut server = with_env(serve, data.path(), &db).spawn().unwrap();
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if http
            .get("http://127.0.0.1:8080/readyz")
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ready {
        server.start_kill().unwrap();
        let err = read_all(server.stderr.take().unwrap()).await;
        panic!("gatehouse serve did not become ready on 127.0.0.1:8080: {err}");
    }

    let mut receive = Command::new("bash");
    receive
        .args(["-c", receiver_block])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut receiver = receive.spawn().unwrap();
    for _ in 0..100 {
        if !port_free(9000) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut run = Command::new("bash");
    run.args(["-euo", "pipefail", "-c", commands])
        .current_dir(repo())
        .env("PATH", path);
    let out = with_env(run, data.path(), &db).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the quickstart's commands failed:\n{commands}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"access_token\":\"ey"),
        "a first access token: {stdout}"
    );
    assert!(stdout.contains("\"token_type\":\"Bearer\""), "{stdout}");

    let delivered = tokio::time::timeout(Duration::from_secs(30), receiver.wait()).await;
    let printed = read_all(receiver.stdout.take().unwrap()).await;
    server.start_kill().unwrap();
    assert!(
        delivered.is_ok_and(|s| s.is_ok_and(|s| s.success())),
        "the receiver got no delivery within 30 s; it printed: {printed}"
    );
    assert!(printed.starts_with("webhook msg_"), "{printed}");
    assert!(
        printed.contains("\"id\":\"order-1\""),
        "the published event, delivered: {printed}"
    );
    assert!(printed.contains("\"type\":\"com.example.order.created\""), "{printed}");
}
