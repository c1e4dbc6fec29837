//! Interoperability: the token service driven by clients nobody on the project wrote, against the
//! real server on 127.0.0.1 — `@adobe/jwt-auth`, `@adobe/aio-lib-ims` and `openid-client` (npm,
//! with a real sign-in in headless Chromium through playwright-core), Python's `authlib`, and
//! IdentityPython's `idpyoidc` running the OpenID Connect Basic and Config profile checks. The
//! scripts live in `interop/token/`; each prints `ok - …` per step and `N passed, N failed`.
//!
//! A test fails, saying what is missing, when its runtime is absent (node, Chromium, the npm or PyPI
//! packages); `scripts/test` installs all of them, and `GATEHOUSE_TEST_ALLOW_SKIP=1` skips instead.

use std::time::Duration;

use gatehouse_domain::{integration::Platform, token::keys::SigningAlg};
use gatehouse_store::{AuditStore, IntegrationStore};
use serde_json::{Value, json};

use super::{
    flow::{PASSWORD, REDIRECT, account, oauth_app},
    server_to_server, service_account,
};
use crate::harness::{
    browser::{chromium, node, python, repo},
    require_tool,
    server::TestServer,
};

/// Runs `program script` with the configuration in `GH_INTEROP`; asserts every step passed.
async fn run(program: &str, script: &str, config: &Value, steps: usize) {
    let run = tokio::process::Command::new(program)
        .arg(repo().join("interop/token").join(script))
        .env("GH_INTEROP", config.to_string())
        .env("CHROMIUM", chromium())
        .env("ARTIFACTS_DIR", repo().join("artifacts"))
        .current_dir(repo().join("interop"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(150), run)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within 150 s"))
        .unwrap_or_else(|e| panic!("{program} {script} could not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = format!("{steps} passed, 0 failed");
    assert!(
        out.status.success() && stdout.contains(&summary),
        "{script} failed (expected \"{summary}\"):\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn adobe_jwt_auth_exchanges_a_service_account_jwt() {
    let Some(()) = require_tool(node(&["@adobe/jwt-auth"], false)) else {
        return;
    };
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let config = json!({
        "base": server.base_url(),
        "client_id": sa.client_id,
        "client_secret": sa.secret,
        "org_id": sa.org_id,
        "technical_account_id": sa.technical_account_id,
        "private_key": sa.private_key_pem,
        "metascope": "ent_documentcloud_sdk",
    });
    run("node", "jwt_auth.mjs", &config, 3).await;
}

#[tokio::test]
async fn adobe_aio_lib_ims_client_credentials_validation_organizations_and_a_browser_code() {
    let Some(()) = require_tool(node(&["@adobe/aio-lib-ims", "playwright-core"], true)) else {
        return;
    };
    let server = TestServer::start().await;
    // Client credentials are the OAuth Server-to-Server kind's.
    let sa = server_to_server(&server).await;
    let web = oauth_app(&server, Platform::Web).await;
    account(&server, "ada@example.com").await;
    let config = json!({
        "base": server.base_url(),
        "sa": {
            "client_id": sa.client_id,
            "client_secret": sa.secret,
            "org_id": sa.org_id,
            "scope": "pdf_read",
        },
        "web": {
            "client_id": web.client_id,
            "client_secret": web.secret,
            "redirect_uri": REDIRECT,
        },
        "email": "ada@example.com",
        "password": PASSWORD,
    });
    run("node", "aio_lib_ims.mjs", &config, 6).await;
}

#[tokio::test]
async fn openid_client_runs_the_code_flow_with_pkce_in_a_real_browser() {
    let Some(()) = require_tool(node(&["openid-client", "playwright-core"], true)) else {
        return;
    };
    let server = TestServer::start().await;
    let web = oauth_app(&server, Platform::Web).await;
    account(&server, "ada@example.com").await;
    let config = json!({
        "base": server.base_url(),
        "client_id": web.client_id,
        "client_secret": web.secret,
        "redirect_uri": REDIRECT,
        "email": "ada@example.com",
        "password": PASSWORD,
        "alg": "ES256",
        "scope": "pdf_read",
    });
    run("node", "openid_client.mjs", &config, 6).await;
}

#[tokio::test]
async fn openid_client_runs_pkce_as_a_single_page_and_a_native_app_with_no_secret() {
    let Some(()) = require_tool(node(&["openid-client", "playwright-core"], true)) else {
        return;
    };
    let server = TestServer::start().await;
    let spa = oauth_app(&server, Platform::Spa).await;
    let native = oauth_app(&server, Platform::Native).await;
    assert!(spa.secret.is_none() && native.secret.is_none());
    account(&server, "ada@example.com").await;
    let config = json!({
        "base": server.base_url(),
        "clients": [
            {"kind": "single-page app", "client_id": spa.client_id},
            {"kind": "native app", "client_id": native.client_id},
        ],
        "redirect_uri": REDIRECT,
        "email": "ada@example.com",
        "password": PASSWORD,
    });
    run("node", "openid_public_client.mjs", &config, 6).await;
}

#[tokio::test]
async fn authlib_uses_private_key_jwt_and_the_jwt_bearer_grant_and_is_refused_client_credentials() {
    let Some(python) = require_tool(python(&["authlib", "joserfc", "requests"])) else {
        return;
    };
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let config = json!({
        "base": server.base_url(),
        "client_id": sa.client_id,
        "technical_account_id": sa.technical_account_id,
        "private_key": sa.private_key_pem,
        "scope": "pdf_read",
    });
    run(&python.to_string_lossy(), "authlib_client.py", &config, 3).await;
}

/// idpyoidc as the relying party of an OAuth integration that expects `alg` ID tokens; with
/// `register`, the integration registered that algorithm (as the console would record it).
async fn idpyoidc(server: &TestServer, alg: SigningAlg, register: bool) {
    let Some(python) = require_tool(python(&["idpyoidc", "requests"])) else {
        return;
    };
    let web = oauth_app(server, Platform::Web).await;
    if register {
        let mut i = web.integration.clone();
        i.id_token_signed_response_alg = Some(alg);
        let mut tx = server.store().begin().await.unwrap();
        tx.update_integration(&i).await.unwrap();
        tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
            server.state().now(),
            &gatehouse_domain::audit::Actor::System,
            "integration.updated",
            format!("integration:{}", i.id),
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let email = format!("{}@example.com", alg.as_str().to_lowercase());
    account(server, &email).await;
    let config = json!({
        "base": server.base_url(),
        "client_id": web.client_id,
        "client_secret": web.secret,
        "redirect_uri": REDIRECT,
        "email": email,
        "password": PASSWORD,
        "alg": alg.as_str(),
    });
    run(&python.to_string_lossy(), "idpyoidc_client.py", &config, 6).await;
}

#[tokio::test]
async fn idpyoidc_runs_the_basic_and_config_checks_against_the_default_es256_provider() {
    let server = TestServer::start().await;
    // A relying party that expects ES256 needs nothing registered; one that expects RS256 (the
    // OpenID Connect default, idpyoidc's too) registers it.
    idpyoidc(&server, SigningAlg::ES256, false).await;
    idpyoidc(&server, SigningAlg::RS256, true).await;
}

#[tokio::test]
async fn idpyoidc_runs_the_basic_and_config_checks_against_an_rs256_provider() {
    let server = TestServer::start_with(|c| c.tokens.signing_algorithm = "RS256".into()).await;
    idpyoidc(&server, SigningAlg::RS256, false).await;
}
