//! Interop with software nobody on the project wrote: Adobe's `@adobe/aio-lib-events` drives the
//! compatible surface (providers, registrations, publishing, the journal); the Python reference
//! library `standardwebhooks` verifies every delivered webhook's signature; Node's `crypto`
//! verifies the Adobe-style RSA signatures against the keys Gatehouse serves.
//! Scripts live in `interop/`; `scripts/test` installs their dependencies. Without them the test
//! fails, saying what is missing (`GATEHOUSE_TEST_ALLOW_SKIP=1` skips instead).

use std::{path::PathBuf, process::Stdio, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::client::*;
use crate::harness::{
    browser::{node, python, repo},
    receiver::{ReceivedRequest, TestReceiver},
    require_tool,
};

/// Runs a program with `env` and `stdin`, returning its standard output; panics with its
/// standard error when it fails.
async fn run(program: &str, args: &[PathBuf], env: &[(&str, String)], stdin: Option<String>) -> String {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {program}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).await.unwrap();
    }
    drop(child.stdin.take());
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the interop script finished within two minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn as_json(d: &ReceivedRequest) -> Value {
    let headers: serde_json::Map<String, Value> = d
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.to_str().unwrap_or_default())))
        .collect();
    json!({ "body_b64": STANDARD.encode(&d.body), "headers": headers })
}

#[tokio::test]
async fn adobe_client_python_standard_webhooks_and_node_crypto_agree_with_gatehouse() {
    let Some(()) = require_tool(node(&["@adobe/aio-lib-events"], false)) else {
        return;
    };
    let Some(python) = require_tool(python(&["standardwebhooks"])) else {
        return;
    };
    let server = server().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    // The project and workspace the credential lives in, as its workspace file names them.
    let (project, workspace) = {
        use gatehouse_store::{IntegrationStore, ProjectStore};
        let mut c = server.store().conn().await.unwrap();
        let i = c.integration_by_id(&a.integration_id).await.unwrap().unwrap();
        let w = c.workspace_by_id(&i.workspace_id).await.unwrap().unwrap();
        (w.project_id, w.id)
    };

    // 1. Adobe's client: providers, metadata, registrations, publishing, the journal.
    let out = run(
        "node",
        &[repo().join("interop/events/aio.mjs")],
        &[
            ("GATEHOUSE_URL", server.base_url().to_owned()),
            ("ORG", a.org.clone()),
            ("PROJECT", project.clone()),
            ("WORKSPACE", workspace.clone()),
            ("CLIENT_ID", a.client_id.clone()),
            ("TOKEN", a.token.clone()),
            ("WEBHOOK_URL", receiver.url("/adobe-hook")),
        ],
        None,
    )
    .await;
    let seen: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("aio.mjs printed {out:?}: {e}"));
    assert_eq!(seen["ok"], true, "{seen}");

    // 2. The event it published reaches the webhook registration it made.
    let d = dispatcher(&server, |_| {});
    let report = dispatch(&d, server.state().now()).await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let delivered = posts(&receiver);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json()["id"], seen["event_id"]);

    // 3. More deliveries, so the verifiers see several (and a batch-free mix of events).
    let provider = seen["provider_id"].as_str().unwrap();
    let code = seen["event_code"].as_str().unwrap();
    for i in 0..3 {
        let e = json!({"id": format!("more-{i}"), "source": format!("urn:uuid:{provider}"), "type": code, "data": {"i": i}});
        a.post_raw(
            "/events/ingress",
            "application/cloudevents+json",
            &e.to_string(),
            axum::http::StatusCode::OK,
        )
        .await;
    }
    dispatch(&d, server.state().now()).await;
    let delivered: Vec<Value> = posts(&receiver).iter().map(as_json).collect();
    assert_eq!(delivered.len(), 4);

    // 4. Python's reference Standard Webhooks library verifies every delivery.
    let spec = json!({ "secret": seen["webhook_secret"], "deliveries": delivered });
    let out = run(
        &python.to_string_lossy(),
        &[repo().join("interop/verify_webhooks.py")],
        &[],
        Some(spec.to_string()),
    )
    .await;
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verified"], 4, "{out}");

    // 5. Node's crypto verifies the Adobe-style signatures with the keys Gatehouse serves.
    let out = run(
        "node",
        &[repo().join("interop/events/verify_adobe.mjs")],
        &[("GATEHOUSE_URL", server.base_url().to_owned())],
        Some(Value::from(delivered).to_string()),
    )
    .await;
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verified"], 4, "{out}");
    assert_eq!(v["both"], 4, "both signatures verify, each with its own key");
}
