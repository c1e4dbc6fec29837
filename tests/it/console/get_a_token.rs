//! From a credential to a token in one step: the commands the credentials page shows are taken
//! out of its HTML and run exactly as shown (with `bash`, `curl` and `openssl`) against the
//! server, and each gets a token; "Generate access token" mints a short-lived token, shows it
//! once and records it in the audit log.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::helpers::*;
use crate::harness::server::TestClient;

/// The text of the element `<code id="{id}">` of a page, with HTML entities decoded.
pub fn code_block(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("<code id=\"{id}\""))?;
    let body = &html[start..];
    let open_end = body.find('>')? + 1;
    let close = body.find("</code>")?;
    Some(unescape(&body[open_end..close]))
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Runs `script` with bash in `dir`, with `env`; returns its standard output, failing the test
/// with everything the script printed when it fails.
pub async fn run_shell(script: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("-euo").arg("pipefail").arg("-c").arg(script).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the command failed ({}):\n{script}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asks the token service about `token` as the client it was issued to.
async fn introspect(c: &TestClient, client_id: &str, secret: &str, token: &str) -> Value {
    let req = c
        .request(Method::POST, "/oauth/introspect")
        .basic_auth(client_id, Some(secret))
        .form(&[("token", token)]);
    c.send(req, StatusCode::OK).await.json_value()
}

async fn credentials_page(c: &TestClient, id: &str) -> String {
    c.get(&format!("/console/integrations/{id}/credentials"), StatusCode::OK)
        .await
        .text()
}

#[tokio::test]
async fn console_the_commands_on_a_service_accounts_credentials_page_get_tokens() {
    let w = world().await;
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly export", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    let client_id = created["integration"]["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    let pair = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/certificates/generate"),
        None,
        StatusCode::CREATED,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("private.key"),
        pair["private_key_pem"].as_str().unwrap(),
    )
    .unwrap();

    let html = credentials_page(c, id).await;
    let base = w.server.base_url();
    // The claims template names the exchange's claims exactly.
    let exchange = code_block(&html, "curl-jwt-exchange").expect("the JWT exchange command");
    assert!(
        exchange.contains(&format!("\"aud\": \"{base}/c/{client_id}\"")),
        "{exchange}"
    );
    assert!(exchange.contains(&format!("\"iss\": \"{}\"", w.org_id)), "{exchange}");
    assert!(
        exchange.contains(&format!("\"{base}/s/ent_documentcloud_sdk\": true")),
        "{exchange}"
    );
    assert!(exchange.contains(&format!("'{base}/ims/exchange/jwt'")), "{exchange}");
    assert!(!html.contains(secret), "the page never shows the client secret again");

    // A JWT credential gets tokens with its signed assertion only.
    assert!(code_block(&html, "curl-client-credentials").is_none());
    assert!(code_block(&html, "curl-ims-client-credentials").is_none());
    for (snippet, scope_key) in [("curl-jwt-exchange", None), ("curl-jwt-bearer", Some("scope"))] {
        let script = code_block(&html, snippet).unwrap_or_else(|| panic!("{snippet} on the page"));
        let out = run_shell(&script, dir.path(), &[("CLIENT_SECRET", secret)]).await;
        let answer: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{snippet}: {e}: {out}"));
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{snippet}: {answer}"));
        if let Some(k) = scope_key {
            assert_eq!(answer[k], "ent_documentcloud_sdk", "{snippet}");
        }
        let info = introspect(c, client_id, secret, token).await;
        assert_eq!(info["active"], true, "{snippet}: {info}");
        assert_eq!(info["client_id"], client_id, "{snippet}");
        assert_eq!(info["scope"], "ent_documentcloud_sdk", "{snippet}");
    }
}

#[tokio::test]
async fn console_the_commands_on_a_server_to_server_credentials_page_get_tokens() {
    let w = world().await;
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly export", "integration_type": "server_to_server", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    let client_id = created["integration"]["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    assert!(created["integration"]["technical_account_id"].is_string());
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    let html = credentials_page(c, id).await;
    assert!(!html.contains(secret), "the page never shows the client secret again");
    assert!(code_block(&html, "curl-jwt-exchange").is_none() && code_block(&html, "curl-authorization-code").is_none());
    assert!(!html.contains("certs-title"), "no certificates");
    let dir = tempfile::tempdir().unwrap();
    for snippet in ["curl-ims-client-credentials", "curl-client-credentials"] {
        let script = code_block(&html, snippet).unwrap_or_else(|| panic!("{snippet} on the page"));
        let out = run_shell(&script, dir.path(), &[("CLIENT_SECRET", secret)]).await;
        let answer: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{snippet}: {e}: {out}"));
        assert!(answer.get("refresh_token").is_none(), "{snippet}: {answer}");
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{snippet}: {answer}"));
        let info = introspect(c, client_id, secret, token).await;
        assert_eq!(info["active"], true, "{snippet}: {info}");
        assert_eq!(info["scope"], "ent_documentcloud_sdk", "{snippet}");
        assert_eq!(info["sub"], created["integration"]["technical_account_id"], "{snippet}");
    }
    assert!(html.contains("id=\"generate-token\""), "a token of its own");
}

#[tokio::test]
async fn console_an_oauth_web_app_shows_the_code_flow_only_and_a_spa_shows_pkce() {
    let w = world().await;
    let c = &w.dev.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Portal", "integration_type": "oauth", "platform": "web",
                    "redirect_uri": "https://portal.example/callback"})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "stock_search"})),
        StatusCode::CREATED,
    )
    .await;
    let html = credentials_page(c, id).await;
    // It acts for people: no token of its own, by command or by button.
    assert!(code_block(&html, "curl-client-credentials").is_none());
    assert!(!html.contains("id=\"generate-token\""));
    let code = code_block(&html, "curl-authorization-code").unwrap();
    assert!(
        code.contains("redirect_uri=https%3A%2F%2Fportal.example%2Fcallback"),
        "{code}"
    );
    assert!(code.contains("code_challenge_method=S256"), "{code}");
    assert!(code.contains("$CLIENT_SECRET"), "{code}");

    let spa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Widget", "integration_type": "oauth", "platform": "spa",
                    "redirect_uri": "https://widget.example/cb"})),
        StatusCode::CREATED,
    )
    .await;
    let html = credentials_page(c, spa["integration"]["id"].as_str().unwrap()).await;
    let code = code_block(&html, "curl-authorization-code").unwrap();
    assert!(!code.contains("CLIENT_SECRET"), "a public client has no secret");
    assert!(!html.contains("id=\"generate-token\""), "nor a token of its own");
}

#[tokio::test]
async fn console_generate_access_token_shows_a_short_lived_token_once_and_audits_it() {
    let w = world().await;
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly export", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    let client_id = created["integration"]["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    assert!(credentials_page(c, id).await.contains("id=\"generate-token\""));
    let res = post(
        c,
        &format!("/console/integrations/{id}/test-token"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let location = res.header("location").unwrap().to_owned();
    assert!(location.contains("?token="), "{location}");
    let html = c.get(&location, StatusCode::OK).await.text();
    let token = code_block(&html, "access-token").expect("the token, shown once");
    let info = introspect(c, client_id, secret, &token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], client_id);
    assert_eq!(info["scope"], "ent_documentcloud_sdk");
    let lifetime = info["exp"].as_i64().unwrap() - info["iat"].as_i64().unwrap();
    assert!(lifetime <= 300, "a test token is short-lived: {lifetime} s");
    // A reload shows it no more.
    let again = c.get(&location, StatusCode::OK).await.text();
    assert!(code_block(&again, "access-token").is_none());
    assert!(again.contains("The test token was shown once"));
    // Audited, without the token.
    assert!(
        audit_actions(&w.server, id)
            .await
            .contains(&"access_token.generated".to_owned())
    );
    let mut conn = w.server.store().conn().await.unwrap();
    let all = gatehouse_store::AuditStore::recent_audit(&mut conn, None, 1000)
        .await
        .unwrap();
    assert!(!format!("{all:?}").contains(&token));

    // An API Key has no token of its own: refused with the reason, nothing issued.
    let key = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let kid = key["integration"]["id"].as_str().unwrap();
    let refused = post(
        &w.dev.client,
        &format!("/console/integrations/{kid}/test-token"),
        &[],
        StatusCode::FORBIDDEN,
    )
    .await
    .text();
    assert!(
        refused.contains("Only OAuth Server-to-Server and Service Account integrations"),
        "{refused}"
    );
    assert!(
        !audit_actions(&w.server, kid)
            .await
            .contains(&"access_token.generated".to_owned())
    );
    // Someone who cannot see the service account cannot mint its token.
    post(
        &w.dev.client,
        &format!("/console/integrations/{id}/test-token"),
        &[],
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn console_the_credentials_file_lists_only_the_endpoints_and_scopes_its_type_uses() {
    let w = world().await;
    let c = &w.dev.client;
    let file = |id: String| async move {
        c.get(&format!("/api/v1/integrations/{id}/credentials"), StatusCode::OK)
            .await
            .json_value()
    };
    let key = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let kid = key["integration"]["id"].as_str().unwrap().to_owned();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{kid}/subscriptions"),
        Some(json!({"service": "stock_search"})),
        StatusCode::CREATED,
    )
    .await;
    let f = file(kid).await;
    let base = w.server.base_url();
    assert_eq!(
        f["endpoints"],
        json!({"issuer": base, "services": format!("{base}/services/")}),
        "an API key gets no token"
    );
    assert_eq!(f["scopes"], json!([]));
    assert_eq!(f["services"], json!(["stock_search"]));
    assert_eq!(f["grant_types"], json!([]));

    let spa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Widget", "integration_type": "oauth", "platform": "spa",
                    "redirect_uri": "https://widget.example/cb"})),
        StatusCode::CREATED,
    )
    .await;
    let f = file(spa["integration"]["id"].as_str().unwrap().to_owned()).await;
    let e = &f["endpoints"];
    assert_eq!(e["authorize"], format!("{base}/oauth/authorize"));
    assert_eq!(e["ims_authorize"], format!("{base}/ims/authorize/v2"));
    assert!(
        e.get("introspect").is_none(),
        "a public client cannot authenticate to introspect"
    );
    assert!(e.get("ims_jwt_exchange").is_none() && e.get("jwt_audience").is_none());
    assert_eq!(f["scopes"], json!(["openid", "email", "profile", "offline_access"]));
    assert_eq!(f["grant_types"], json!(["authorization_code", "refresh_token"]));
}
