//! Client secrets (rotation keeps at most two, never zero; expiry; when each was last used),
//! certificates (upload, duplicates, limits, bad input of every kind, generation with the private
//! key returned once) and the credentials file (never a secret).

use axum::http::{Method, StatusCode};
use gatehouse_app::{cli::KeyAlgorithm, keys};
use serde_json::{Value, json};

use super::helpers::*;

async fn service_account(w: &World) -> (String, String) {
    technical(w, "service_account").await
}

/// An integration of a technical-account `kind` made by the org's admin: (ID, first secret).
async fn technical(w: &World, kind: &str) -> (String, String) {
    let sa = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly export", "integration_type": kind, "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    (
        sa["integration"]["id"].as_str().unwrap().to_owned(),
        sa["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn certificates(w: &World, id: &str) -> Vec<Value> {
    let list = api(
        &w.admin.client,
        Method::GET,
        &format!("/api/v1/integrations/{id}/certificates"),
        None,
        StatusCode::OK,
    )
    .await;
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn console_secret_rotation_keeps_at_most_two_and_never_zero() {
    let w = world().await;
    let (id, first) = technical(&w, "server_to_server").await;
    let path = format!("/api/v1/integrations/{id}/secrets");
    let c = &w.admin.client;
    let list = api(c, Method::GET, &path, None, StatusCode::OK).await;
    let first_id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["hint"], &first[first.len() - 4..]);
    assert!(!list.to_string().contains(&first), "the secret itself is never listed");

    let e = api(
        c,
        Method::DELETE,
        &format!("{path}/{first_id}"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "last_secret");
    let added = api(c, Method::POST, &path, None, StatusCode::CREATED).await;
    let second = added["client_secret"].as_str().unwrap();
    assert!(second.starts_with("ghs_") && second != first);
    let e = api(c, Method::POST, &path, None, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "too_many_secrets");
    api(
        c,
        Method::DELETE,
        &format!("{path}/{first_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        c,
        Method::DELETE,
        &format!("{path}/{first_id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list = api(c, Method::GET, &path, None, StatusCode::OK).await;
    for s in list.as_array().unwrap() {
        assert_eq!(s["revoked_at"].is_i64(), s["id"] == first_id.as_str(), "{s}");
    }
    // The old secret no longer gets tokens; the new one does.
    let details = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}"),
        None,
        StatusCode::OK,
    )
    .await;
    let client_id = details["integration"]["client_id"].as_str().unwrap();
    let form = |secret: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), client_id.to_owned()),
            ("client_secret".to_owned(), secret.to_owned()),
        ]
    };
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::POST, "/oauth/token").form(&form(&first)),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    anon.send(
        anon.request(Method::POST, "/oauth/token").form(&form(second)),
        StatusCode::OK,
    )
    .await;
    let actions = audit_actions(&w.server, &id).await;
    assert_eq!(actions.iter().filter(|a| *a == "client_secret.displayed").count(), 2);
    assert!(actions.contains(&"client_secret.revoked".to_owned()));
}

/// A client-credentials token request with `secret`; the answer's status.
async fn token_with(w: &World, client_id: &str, secret: &str) -> StatusCode {
    let anon = w.server.new_client();
    anon.request(Method::POST, "/ims/token/v3")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn console_secrets_expire_and_show_when_they_and_their_integration_were_last_used() {
    let start = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = gatehouse_web::Clock::manual(start);
    let w = world_on(crate::harness::server::TestServer::start_with_clock(clock.clone(), |_| {}).await).await;
    let (id, first) = technical(&w, "server_to_server").await;
    let c = &w.admin.client;
    let path = format!("/api/v1/integrations/{id}/secrets");
    let detail = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}"),
        None,
        StatusCode::OK,
    )
    .await;
    let client_id = detail["integration"]["client_id"].as_str().unwrap().to_owned();
    assert_eq!(detail["integration"]["last_used_at"], Value::Null, "never used yet");
    assert_eq!(detail["secrets"][0]["expires_at"], Value::Null);
    assert_eq!(detail["secrets"][0]["last_used_at"], Value::Null);

    // An expiry in the past, or further than ten years, is refused on the field.
    for at in [start - 1, start, start + 11 * 366 * 86_400] {
        let e = api(
            c,
            Method::POST,
            &path,
            Some(json!({ "expires_at": at })),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["errors"][0]["field"], "expires_at", "{e}");
    }
    let e = api(
        c,
        Method::POST,
        &path,
        Some(json!({"expires": 1})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "invalid_json");

    let added = api(
        c,
        Method::POST,
        &path,
        Some(json!({ "expires_at": start + 3_600 })),
        StatusCode::CREATED,
    )
    .await;
    let short = added["client_secret"].as_str().unwrap().to_owned();
    let short_id = added["secret"]["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&short_id).is_ok(), "secrets are listed by UUID");
    assert_eq!(added["secret"]["expires_at"], start + 3_600);
    assert_eq!(token_with(&w, &client_id, &short).await, StatusCode::OK);

    // Last use: recorded in memory, written by the background flush (called here).
    gatehouse_core::tokens::last_used::flush(&w.server.state().tokens)
        .await
        .unwrap();
    let list = api(c, Method::GET, &path, None, StatusCode::OK).await;
    let by_id = |id: &str| list.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(by_id(&short_id)["last_used_at"], start);
    // Both were made in the same second (a manual clock): oldest first, then by ID.
    let first_id = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .find(|id| *id != short_id)
        .unwrap();
    assert_eq!(
        by_id(&first_id)["last_used_at"],
        Value::Null,
        "only the secret that authenticated"
    );
    assert!(!list.to_string().contains(&short) && !list.to_string().contains(&first));
    let detail = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["integration"]["last_used_at"], start);
    let listed = api(c, Method::GET, "/api/v1/integrations", None, StatusCode::OK).await;
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap();
    assert_eq!(mine["last_used_at"], start);
    // The pages show it too.
    let page = c
        .get(&format!("/console/integrations/{id}/credentials"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains(&short_id) && page.contains("Expires"), "{page}");

    // Two are active: no third.
    let e = api(c, Method::POST, &path, None, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "too_many_secrets");
    // Once it has expired it authenticates no more, and no longer counts among the two.
    clock.advance(3_600);
    assert_eq!(token_with(&w, &client_id, &short).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token_with(&w, &client_id, &first).await, StatusCode::OK);
    let e = api(
        c,
        Method::DELETE,
        &format!("{path}/{first_id}"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "last_secret", "the expired one does not count");
    let third = api(c, Method::POST, &path, Some(json!({})), StatusCode::CREATED).await;
    assert_eq!(third["secret"]["expires_at"], Value::Null);
    // The expired one can be tidied away.
    api(
        c,
        Method::DELETE,
        &format!("{path}/{short_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = c
        .get(&format!("/console/integrations/{id}/credentials"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("Last used"), "{page}");
    let file = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}/credentials"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file["grant_types"], json!(["client_credentials"]));
    assert_eq!(file["client_secret_hints"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn console_certificates_upload_with_limits_and_precise_refusals() {
    let w = world().await;
    let (id, _) = service_account(&w).await;
    let path = format!("/api/v1/integrations/{id}/certificates");
    let c = &w.admin.client;
    let uploaded = api(
        c,
        Method::POST,
        &path,
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(uploaded["fingerprint_sha256"].as_str().unwrap().len(), 64);
    let e = api(
        c,
        Method::POST,
        &path,
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "certificate_duplicate");

    // Raw PEM works too.
    let token = csrf(c).await;
    c.send(
        c.request(Method::POST, &path)
            .header("x-csrf-token", token)
            .header("content-type", "application/x-pem-file")
            .body(fixture("p256.crt")),
        StatusCode::CREATED,
    )
    .await;

    let now = w.server.state().now();
    let expired = keys::generate(
        KeyAlgorithm::EcP256,
        "old",
        1,
        time::OffsetDateTime::from_unix_timestamp(now - 3 * 86_400).unwrap(),
        &mut rand::thread_rng(),
    );
    let expired_pem = match expired {
        Ok(k) => k.certificate.pem,
        Err(e) => panic!("{e}"),
    };
    for (pem, code) in [
        ("not a certificate at all".to_owned(), "certificate_not_pem"),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n".to_owned(),
            "certificate_malformed",
        ),
        (fixture("private-pkcs8.key"), "certificate_is_private_key"),
        (fixture("request.csr"), "certificate_is_csr"),
        (fixture("rsa1024.crt"), "certificate_weak_key"),
        (fixture("p384.crt"), "certificate_unsupported_key"),
        (expired_pem, "certificate_expired"),
    ] {
        let e = api(
            c,
            Method::POST,
            &path,
            Some(json!({ "pem": pem })),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["code"], code, "{e}");
        assert_eq!(e["errors"][0]["field"], "certificate");
    }
    // A 10 MB upload is refused before it is read.
    let token = csrf(c).await;
    let big = "A".repeat(10 * 1024 * 1024);
    let res = c
        .send(
            c.request(Method::POST, &path)
                .header("x-csrf-token", token)
                .header("content-type", "application/x-pem-file")
                .body(big),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
    let e = res.json_value();
    assert_eq!(e["code"], "payload_too_large");
    assert!(e["detail"].as_str().unwrap().contains("certificate"), "{e}");
    assert_eq!(certificates(&w, &id).await.len(), 2, "refused uploads wrote nothing");

    // Up to five active at once.
    api(
        c,
        Method::POST,
        &path,
        Some(json!({"pem": fixture("rsa2048-second.crt")})),
        StatusCode::CREATED,
    )
    .await;
    for _ in 0..2 {
        api(c, Method::POST, &format!("{path}/generate"), None, StatusCode::CREATED).await;
    }
    let e = api(c, Method::POST, &format!("{path}/generate"), None, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "too_many_certificates");
    let first_id = uploaded["id"].as_str().unwrap().to_owned();
    api(
        c,
        Method::DELETE,
        &format!("{path}/{first_id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    // A removed certificate cannot come back.
    let e = api(
        c,
        Method::POST,
        &path,
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "certificate_duplicate");
    assert!(e["detail"].as_str().unwrap().contains("removed"), "{e}");
    let actions = audit_actions(&w.server, &id).await;
    assert_eq!(actions.iter().filter(|a| *a == "certificate.uploaded").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "certificate.generated").count(), 2);
    assert!(actions.contains(&"certificate.removed".to_owned()));
}

#[tokio::test]
async fn console_generated_key_pairs_sign_assertions_and_only_service_accounts_have_certificates() {
    let w = world().await;
    let (id, _) = service_account(&w).await;
    let c = &w.admin.client;
    let pair = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/certificates/generate"),
        None,
        StatusCode::CREATED,
    )
    .await;
    let key = pair["private_key_pem"].as_str().unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let cert = &pair["certificate"];
    let year = cert["not_after"].as_i64().unwrap() - cert["not_before"].as_i64().unwrap();
    assert_eq!(year, 365 * 86_400);
    // The private key is kept nowhere: not in the certificate listing, not in the audit log.
    let listed = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}"),
        None,
        StatusCode::OK,
    )
    .await;
    assert!(!listed.to_string().contains("PRIVATE KEY"));
    let mut audit = w.server.store().conn().await.unwrap();
    let all = gatehouse_store::AuditStore::recent_audit(&mut audit, None, 1000)
        .await
        .unwrap();
    assert!(!format!("{all:?}").contains("PRIVATE KEY"));

    let key_int = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let kid = key_int["integration"]["id"].as_str().unwrap();
    let e = api(
        &w.dev.client,
        Method::POST,
        &format!("/api/v1/integrations/{kid}/certificates"),
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "no_certificates");
    let e = api(
        &w.dev.client,
        Method::POST,
        &format!("/api/v1/integrations/{kid}/secrets"),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "no_client_secret");
}

#[tokio::test]
async fn console_the_credentials_file_has_everything_but_the_secret() {
    let w = world().await;
    let (id, secret) = service_account(&w).await;
    let c = &w.admin.client;
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/certificates"),
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::CREATED,
    )
    .await;
    let res = c
        .get(&format!("/api/v1/integrations/{id}/credentials"), StatusCode::OK)
        .await;
    assert!(res.header("content-disposition").unwrap().starts_with("attachment"));
    let text = res.text();
    assert!(!text.contains(&secret) && !text.contains("ghs_"), "{text}");
    let f: Value = res.json();
    assert_eq!(f["integration_type"], "service_account");
    assert_eq!(f["ims_org_id"], w.org_id.as_str());
    assert!(
        f["technical_account_id"]
            .as_str()
            .unwrap()
            .ends_with("@techacct.gatehouse")
    );
    assert_eq!(f["meta_scopes"], json!(["ent_documentcloud_sdk"]));
    assert_eq!(f["services"], json!(["pdf_services"]));
    assert_eq!(f["uses_client_secret"], true);
    assert_eq!(f["client_secret_hints"][0], &secret[secret.len() - 4..]);
    let base = w.server.base_url();
    assert_eq!(f["endpoints"]["token"], format!("{base}/oauth/token"));
    assert_eq!(f["endpoints"]["ims_jwt_exchange"], format!("{base}/ims/exchange/jwt"));
    assert_eq!(
        f["endpoints"]["jwt_audience"],
        format!("{base}/c/{}", f["client_id"].as_str().unwrap())
    );
    assert_eq!(f["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(f["grant_types"], json!(["urn:ietf:params:oauth:grant-type:jwt-bearer"]));
    assert!(
        audit_actions(&w.server, &id)
            .await
            .contains(&"credentials.downloaded".to_owned())
    );

    // OAuth Server-to-Server: a technical account and a secret, no JWT and no certificate.
    let (s2s, _) = technical(&w, "server_to_server").await;
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{s2s}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    let f: Value = c
        .get(&format!("/api/v1/integrations/{s2s}/credentials"), StatusCode::OK)
        .await
        .json();
    assert_eq!(f["integration_type"], "server_to_server");
    assert_eq!(f["grant_types"], json!(["client_credentials"]));
    assert_eq!(f["ims_org_id"], w.org_id.as_str());
    assert!(f["technical_account_id"].is_string() && f["technical_account_email"].is_string());
    assert_eq!(f["scopes"], json!(["ent_documentcloud_sdk"]));
    assert!(f.get("meta_scopes").is_none() && f.get("certificates").is_none());
    assert_eq!(f["endpoints"]["ims_token"], format!("{base}/ims/token/v3"));
    for absent in ["ims_jwt_exchange", "jwt_audience", "authorize", "ims_authorize"] {
        assert!(f["endpoints"].get(absent).is_none(), "{absent}: {f}");
    }
    let e = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{s2s}/certificates"),
        Some(json!({"pem": fixture("rsa2048.crt")})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "no_certificates");
}
