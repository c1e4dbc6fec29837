//! Migrating a Service Account (JWT) credential to OAuth Server-to-Server under load, through the
//! API behind the console's guided flow: JWT exchanges run while the migration starts, the client
//! switches to `client_credentials` with the same client ID and secret, the JWT credential is
//! deleted — and no request fails. Afterwards JWTs are refused and the credential keeps its
//! technical account and subscriptions.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use axum::http::{Method, StatusCode};
use base64::Engine;
use gatehouse_domain::token::keys::{SigningAlg, SigningKey};
use serde_json::json;

use super::helpers::*;

fn der_of(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

/// The credential's entry in its workspace file.
async fn file_entry(w: &World, integration: &serde_json::Value) -> serde_json::Value {
    let c = &w.admin.client;
    let workspace = integration["workspace_id"].as_str().unwrap();
    let projects = api(c, Method::GET, "/api/v1/projects", None, StatusCode::OK).await;
    let project = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["workspaces"].as_array().unwrap().iter().any(|x| x["id"] == workspace))
        .unwrap();
    let pid = project["id"].as_str().unwrap();
    let file = api(
        c,
        Method::GET,
        &format!("/api/v1/projects/{pid}/workspaces/{workspace}/download"),
        None,
        StatusCode::OK,
    )
    .await;
    file["project"]["workspace"]["details"]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == integration["id"])
        .unwrap()
        .clone()
}

#[tokio::test]
async fn console_a_jwt_credential_migrates_to_server_to_server_without_a_failed_request() {
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
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    let client_id = created["integration"]["client_id"].as_str().unwrap().to_owned();
    let technical = created["integration"]["technical_account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "stock_search"})),
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
    let key = SigningKey::load(
        SigningAlg::RS256,
        &der_of(pair["private_key_pem"].as_str().unwrap()),
        "client-key",
    )
    .unwrap();
    let key = Arc::new(key);
    let base = w.server.base_url().to_owned();

    // The application: JWT exchanges until told to switch, then client credentials.
    let switched = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (jwt_ok, s2s_ok, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let load = {
        let (switched, stop) = (switched.clone(), stop.clone());
        let (jwt_ok, s2s_ok, failed) = (jwt_ok.clone(), s2s_ok.clone(), failed.clone());
        let (client_id, secret, org, technical) =
            (client_id.clone(), secret.clone(), w.org_id.clone(), technical.clone());
        let http = reqwest::Client::new();
        let key = key.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let res = if switched.load(Ordering::SeqCst) {
                    let form = [
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", secret.as_str()),
                        ("scope", "stock_search"),
                    ];
                    http.post(format!("{base}/ims/token/v3")).form(&form).send().await
                } else {
                    let claims = json!({
                        "iss": org, "sub": technical, "aud": format!("{base}/c/{client_id}"), "exp": now + 300,
                        "https://ims-na1.adobelogin.com/s/stock_search": true,
                    });
                    let jwt = key.sign("JWT", &claims).unwrap();
                    let form = [
                        ("client_id", client_id.as_str()),
                        ("client_secret", secret.as_str()),
                        ("jwt_token", jwt.as_str()),
                    ];
                    http.post(format!("{base}/ims/exchange/jwt")).form(&form).send().await
                };
                let ok = res.is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
                let counter = match (ok, switched.load(Ordering::SeqCst)) {
                    (false, _) => &failed,
                    (true, true) => &s2s_ok,
                    (true, false) => &jwt_ok,
                };
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let wait_for = |counter: Arc<AtomicU64>, n: u64| async move {
        while counter.load(Ordering::SeqCst) < n {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    wait_for(jwt_ok.clone(), 20).await;

    // A developer may not migrate it (it would become a credential acting as an admin).
    api(
        &w.dev.client,
        Method::POST,
        &format!("/api/v1/integrations/{id}/migrate-to-server-to-server"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let migrated = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/migrate-to-server-to-server"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(migrated["integration_type"], "server_to_server");
    assert_eq!(migrated["client_id"], client_id.as_str());
    assert_eq!(migrated["technical_account_id"], technical.as_str());
    assert_eq!(migrated["services"], json!(["stock_search"]));
    // Its workspace file lists it as Adobe lists a credential in mid-migration: both blocks.
    let entry = file_entry(&w, &migrated).await;
    assert_eq!(entry["integration_type"], "oauth_server_to_server_migrate", "{entry}");
    assert_eq!(entry["jwt"]["technical_account_id"], technical.as_str());
    assert_eq!(entry["oauth_server_to_server"]["client_id"], client_id.as_str());
    // JWTs keep working after the migration started …
    let at = jwt_ok.load(Ordering::SeqCst);
    wait_for(jwt_ok.clone(), at + 20).await;
    // … the application switches …
    switched.store(true, Ordering::SeqCst);
    wait_for(s2s_ok.clone(), 20).await;
    // … and the JWT credential is deleted while it runs.
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/delete-jwt-credential"),
        None,
        StatusCode::OK,
    )
    .await;
    let at = s2s_ok.load(Ordering::SeqCst);
    wait_for(s2s_ok.clone(), at + 20).await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "no request failed during the migration"
    );

    // The JWT is refused now; deleting it again is refused too.
    let now = w.server.state().now();
    let claims = json!({
        "iss": w.org_id, "sub": technical, "aud": format!("{}/c/{client_id}", w.server.base_url()),
        "exp": now + 300, "https://ims-na1.adobelogin.com/s/stock_search": true,
    });
    let anon = w.server.new_client();
    let jwt = key.sign("JWT", &claims).unwrap();
    let refused = anon
        .post_form(
            "/ims/exchange/jwt",
            &[
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("jwt_token", jwt.as_str()),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    assert!(refused["error"].is_string(), "{refused}");
    let again = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/delete-jwt-credential"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "not_migrating");
    // A credential that is not a Service Account is not migrated.
    let again = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/migrate-to-server-to-server"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "not_a_service_account");
}

#[tokio::test]
async fn console_pages_guide_the_migration_from_jwt_to_server_to_server() {
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
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/certificates/generate"),
        None,
        StatusCode::CREATED,
    )
    .await;
    let overview = format!("/console/integrations/{id}");
    let page = c.get(&overview, StatusCode::OK).await.text();
    assert!(page.contains("Migrate to OAuth Server-to-Server"), "{page}");
    assert!(!page.contains("Delete the JWT credential"));

    post(c, &format!("{overview}/migrate"), &[], StatusCode::SEE_OTHER).await;
    let page = c
        .get(&format!("{overview}?done=migration_started"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("is now OAuth Server-to-Server"), "{page}");
    assert!(page.contains("Delete the JWT credential"));
    assert!(!page.contains(">Migrate to OAuth Server-to-Server</button>"));

    post(c, &format!("{overview}/delete-jwt"), &[], StatusCode::SEE_OTHER).await;
    let page = c.get(&overview, StatusCode::OK).await.text();
    assert!(!page.contains("Delete the JWT credential"), "finished: {page}");
    // A form without the CSRF token changes nothing.
    c.post_form(&format!("{overview}/migrate"), &[("x", "y")], StatusCode::FORBIDDEN)
        .await;
}
