//! The API contract, tried by a fuzzer nobody on the project wrote: Schemathesis (PyPI) reads
//! `/api/v1/openapi.json` and sends every operation examples, boundary values and generated and
//! mutated requests (a bounded number per operation, fixed seed), with every check — no server
//! error, only documented status codes and media types, answers that match their schemas, invalid
//! data refused, authentication not ignored, unsupported methods answered 405 — as an
//! organization's admin with an access token. When the fuzzer ends that token's life, the hooks
//! (`interop/contract/hooks.py`) fetch a fresh one from the provisioning endpoint this test serves,
//! which signs the admin in again and runs the authorization-code flow.
//! Fails, saying what is missing, when Python or schemathesis is absent.

use std::{sync::Arc, time::Duration};

use axum::{Router, extract::State, routing::get};

use super::helpers::world;
use crate::{
    harness::{
        browser::{python, repo},
        fixtures::Fixtures,
        require_tool,
        server::TestClient,
    },
    identity::{api_tokens::console_app, helpers::sign_in},
    token::flow::{OAuthApp, PASSWORD, VERIFIER, authorize, authorize_url, redeem},
};

struct Provisioner {
    base: String,
    email: String,
    app: OAuthApp,
    store: gatehouse_store::Store,
    org_id: String,
    /// The OAuth Server-to-Server integration the events API is called with: client ID and secret.
    integration: tokio::sync::Mutex<Option<(String, String)>>,
}

/// A fresh access token of the integration (client credentials), for the events API. When the
/// fuzzer deleted or disabled the integration, or revoked its secret, a new one is provisioned in
/// the admin's organization.
async fn provision_integration(State(p): State<Arc<Provisioner>>) -> axum::Json<serde_json::Value> {
    let mut held = p.integration.lock().await;
    for _ in 0..2 {
        if held.is_none() {
            let i = Fixtures::new(&p.store)
                .server_to_server("Contract")
                .org(&p.org_id)
                .secret()
                .insert()
                .await;
            *held = Some((i.client_id.clone(), i.secret().to_owned()));
        }
        let (client_id, secret) = held.clone().unwrap();
        let answer = reqwest::Client::new()
            .post(format!("{}/oauth/token", p.base))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        if answer.status().is_success() {
            let tokens: serde_json::Value = answer.json().await.unwrap();
            return axum::Json(serde_json::json!({ "client_id": client_id, "token": tokens["access_token"] }));
        }
        *held = None;
    }
    panic!("a new integration could not get a token");
}

/// A fresh access token of the admin: a new sign-in, the consent given again, the code redeemed.
async fn provision(State(p): State<Arc<Provisioner>>) -> String {
    let c = TestClient::new(&p.base);
    sign_in(&c, &p.email, PASSWORD).await;
    let url = authorize_url(
        "/oauth/authorize",
        &p.app,
        &[("scope", "openid gatehouse.console"), ("prompt", "consent")],
    );
    let reply = authorize(&c, &url).await;
    let tokens = redeem(
        &c,
        "/oauth/token",
        &p.app,
        &reply["code"],
        Some(VERIFIER),
        axum::http::StatusCode::OK,
    )
    .await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn schemathesis_finds_no_departure_from_the_openapi_document() {
    let Some(python) = require_tool(python(&["schemathesis", "requests"])) else {
        return;
    };
    let w = world().await;
    let app = console_app(&w.server).await;
    let provisioner = Arc::new(Provisioner {
        base: w.server.base_url().to_owned(),
        email: w.admin.account.email.as_str().to_owned(),
        app,
        store: w.server.store().clone(),
        org_id: w.org_id.clone(),
        integration: tokio::sync::Mutex::new(None),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let provision_url = format!("http://{}", listener.local_addr().unwrap());
    let serve = tokio::spawn(async move {
        axum::serve(
            listener,
            Router::new()
                .route("/token", get(provision))
                .route("/integration", get(provision_integration))
                .with_state(provisioner),
        )
        .await
        .unwrap();
    });
    let report = repo().join("artifacts/schemathesis");
    let run = tokio::process::Command::new(&python)
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("{}/api/v1/openapi.json", w.server.base_url()))
        .args([
            "--checks",
            "all",
            // Every other check runs. This one expects any request that fits the schemas to be
            // accepted, but the rules of a valid name, URL or email address (and that the
            // address's domain is verified) are the domain's, stated in the descriptions, and
            // answered 422 with the field named: not a departure from the document.
            "--exclude-checks",
            "positive_data_acceptance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "20",
            "--seed",
            "20261208",
            "--workers",
            "2",
            // Every run starts from the same state: no examples kept from earlier runs.
            "--generation-database",
            "none",
            // The whole suite runs beside it on 2 cores: a slow answer is not a failure here.
            "--request-timeout",
            "60",
            "--report",
            "junit",
            "--report-dir",
        ])
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", repo().join("interop/contract"))
        .env("GH_CONTRACT_BASE", w.server.base_url())
        .env("GH_CONTRACT_PROVISION", &provision_url)
        .env("NO_COLOR", "1")
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("schemathesis finished within 15 minutes")
        .expect("python ran");
    serve.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found departures from the document:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("passed"), "{stdout}\n{stderr}");
    println!("{stdout}");
}
