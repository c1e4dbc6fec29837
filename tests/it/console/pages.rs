//! The console's pages without a browser: forms with the CSRF token, errors shown next to their
//! fields with the right status, the multipart certificate upload (a 10 MB file gets 413 with a
//! clear message), the private key downloadable exactly once, subscriptions refused by type, the
//! services catalog for operators, delete with confirmation.

use axum::http::{Method, StatusCode};

use super::helpers::*;
use crate::harness::server::{TestClient, TestResponse};

/// Posts a multipart/form-data body (with the CSRF field first unless `with_csrf` is false).
async fn multipart_with(
    c: &TestClient,
    path: &str,
    parts: &[(&str, Option<&str>, Vec<u8>)],
    with_csrf: bool,
    expected: StatusCode,
) -> TestResponse {
    let boundary = "----gatehouse-console-test-2f1c";
    let mut body: Vec<u8> = Vec::new();
    let mut add = |name: &str, file: Option<&str>, bytes: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = file {
            body.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    };
    if with_csrf {
        let token = csrf(c).await;
        add("csrf_token", None, token.as_bytes());
    }
    for (name, file, bytes) in parts {
        add(name, *file, bytes);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let req = c
        .request(Method::POST, path)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    c.send(req, expected).await
}

async fn multipart(
    c: &TestClient,
    path: &str,
    parts: &[(&str, Option<&str>, Vec<u8>)],
    expected: StatusCode,
) -> TestResponse {
    multipart_with(c, path, parts, true, expected).await
}

fn location(res: &TestResponse) -> String {
    res.header("location").unwrap().to_owned()
}

#[tokio::test]
async fn console_pages_create_each_type_with_errors_next_to_their_fields() {
    let w = world().await;
    let member = &w.member.client;
    let page = member.get("/console/integrations", StatusCode::OK).await.text();
    assert!(page.contains("You have no integrations yet"), "{page}");
    let choose = member.get("/console/integrations/new", StatusCode::OK).await.text();
    assert!(
        choose.contains("value=\"service_account\"") && choose.contains("disabled"),
        "members cannot pick service accounts"
    );
    let admin_choose = w
        .admin
        .client
        .get("/console/integrations/new", StatusCode::OK)
        .await
        .text();
    assert!(admin_choose.contains("You can create one because you are an admin"));
    let form = w
        .admin
        .client
        .get("/console/integrations/new?type=oauth", StatusCode::OK)
        .await
        .text();
    assert!(form.contains("Default redirect URI") && form.contains("name=\"csrf_token\""));

    let c = &w.admin.client;
    let bad = post(
        c,
        "/console/integrations",
        &[
            ("integration_type", "oauth"),
            ("name", ""),
            ("platform", "web"),
            ("redirect_uri", "https://a.example/cb"),
            ("redirect_patterns", "https://a\\.example/ok\nhttps://.*"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(
        bad.contains("There is a problem") && bad.contains("href=\"#redirect_patterns\""),
        "{bad}"
    );
    assert!(bad.contains("aria-invalid=\"true\""));
    assert!(bad.contains("https://.*"), "the submitted values are kept");
    let created = post(
        c,
        "/console/integrations",
        &[
            ("integration_type", "oauth"),
            ("name", "Web"),
            ("platform", "web"),
            ("redirect_uri", "https://a.example/cb"),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let created = c.get(&location(&created), StatusCode::OK).await.text();
    assert!(created.contains("ghs_") && created.contains("only time it is shown"));
    let key = post(
        c,
        "/console/integrations",
        &[("integration_type", "api_key"), ("name", "Key"), ("owner", &w.org_id)],
        StatusCode::SEE_OTHER,
    )
    .await;
    let key = c.get(&location(&key), StatusCode::OK).await.text();
    assert!(key.contains("is ready") && !key.contains("Client secret"), "{key}");
    let sa = post(
        c,
        "/console/integrations",
        &[
            ("integration_type", "service_account"),
            ("name", "SA"),
            ("owner", &w.org_id),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let sa = c.get(&location(&sa), StatusCode::OK).await.text();
    assert!(sa.contains("@techacct.gatehouse"));
    let refused = post(
        &w.dev.client,
        "/console/integrations",
        &[
            ("integration_type", "service_account"),
            ("name", "SA"),
            ("owner", &w.org_id),
        ],
        StatusCode::FORBIDDEN,
    )
    .await
    .text();
    assert!(refused.contains("Only an admin of this organization"), "{refused}");
    // Without the CSRF token nothing happens.
    c.post_form(
        "/console/integrations",
        &[("integration_type", "api_key"), ("name", "X")],
        StatusCode::FORBIDDEN,
    )
    .await;
    let dash = c.get("/console/integrations", StatusCode::OK).await.text();
    for s in ["Web", "Key", "SA", "Service Account", "API Key"] {
        assert!(dash.contains(s), "{s} missing from the dashboard");
    }
    // Signed-out visitors are sent to sign in.
    w.server
        .new_client()
        .get("/console/integrations", StatusCode::SEE_OTHER)
        .await;
}

async fn new_service_account(w: &World) -> String {
    let res = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(serde_json::json!({"name": "Export", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    res["integration"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn console_pages_upload_certificates_and_hand_out_a_private_key_once() {
    let w = world().await;
    let id = new_service_account(&w).await;
    let c = &w.admin.client;
    let path = format!("/console/integrations/{id}/certificates");
    let res = multipart(
        c,
        &path,
        &[(
            "certificate_file",
            Some("cert.crt"),
            fixture("rsa2048.crt").into_bytes(),
        )],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(location(&res).ends_with("done=certificate_added"));
    let page = multipart(
        c,
        &path,
        &[("certificate_pem", None, fixture("private-rsa.key").into_bytes())],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(page.contains("never the private key"), "{page}");
    let page = multipart(
        c,
        &path,
        &[("certificate_file", Some("x.crt"), b"garbage".to_vec())],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(page.contains("not a PEM certificate"), "{page}");
    let page = multipart(c, &path, &[], StatusCode::UNPROCESSABLE_ENTITY).await.text();
    assert!(page.contains("Choose a certificate file"));
    let big = vec![b'A'; 10 * 1024 * 1024];
    let page = multipart(
        c,
        &path,
        &[("certificate_file", Some("big.crt"), big)],
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await
    .text();
    assert!(page.contains("larger than 256 KB"), "{page}");
    // A multipart form without the CSRF field is refused.
    multipart_with(
        c,
        &path,
        &[("certificate_pem", None, fixture("p256.crt").into_bytes())],
        false,
        StatusCode::FORBIDDEN,
    )
    .await;

    let res = post(
        c,
        &format!("/console/integrations/{id}/certificates/generate"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = location(&res);
    let token = to.split("key=").nth(1).unwrap().to_owned();
    let page = c.get(&to, StatusCode::OK).await.text();
    assert!(page.contains("Download your private key now"));
    let key_path = format!("/console/integrations/{id}/private-key/{token}");
    // Someone else cannot take it.
    w.dev.client.get(&key_path, StatusCode::NOT_FOUND).await;
    let key = c.get(&key_path, StatusCode::OK).await;
    assert_eq!(
        key.header("content-disposition"),
        Some("attachment; filename=\"private.key\"")
    );
    assert!(key.text().starts_with("-----BEGIN PRIVATE KEY-----"));
    let gone = c.get(&key_path, StatusCode::GONE).await.text();
    assert!(gone.contains("downloaded once"), "{gone}");
    let creds = c
        .get(&format!("/console/integrations/{id}/credentials"), StatusCode::OK)
        .await
        .text();
    assert_eq!(creds.matches("class=\"small fingerprint\"").count(), 2);
    let file = c
        .get(&format!("/console/integrations/{id}/credentials.json"), StatusCode::OK)
        .await;
    assert!(!file.text().contains("PRIVATE KEY") && !file.text().contains("ghs_"));
    assert!(
        audit_actions(&w.server, &id)
            .await
            .contains(&"private_key.downloaded".to_owned())
    );
}

#[tokio::test]
async fn console_pages_rotate_secrets_subscribe_and_delete() {
    let w = world().await;
    let id = new_service_account(&w).await;
    let c = &w.admin.client;
    let res = post(
        c,
        &format!("/console/integrations/{id}/secrets"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let page = c.get(&location(&res), StatusCode::OK).await.text();
    assert!(page.contains("New client secret") && page.contains("ghs_"));
    let page = post(
        c,
        &format!("/console/integrations/{id}/secrets"),
        &[],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(page.contains("at most 2 active client secrets"), "{page}");

    let subs = format!("/console/integrations/{id}/subscriptions");
    let res = post(c, &subs, &[("service", "pdf_services")], StatusCode::SEE_OTHER).await;
    assert!(location(&res).ends_with("done=subscribed"));
    let page = post(
        c,
        &subs,
        &[("service", "creative_sdk")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(
        page.contains("Creative SDK allows OAuth integrations only; this is a Service Account integration."),
        "{page}"
    );
    let page = c.get(&subs, StatusCode::OK).await.text();
    // Services it cannot use are listed apart, collapsed, and offer no button.
    let apart = &page[page
        .find("<details class=\"unavailable\"")
        .expect("the services listed apart")..];
    assert!(apart.contains("Not available for Service Account integrations"));
    assert!(
        apart.contains("<strong>Creative SDK</strong>")
            && apart.contains("Creative SDK allows OAuth integrations only.")
    );
    assert!(
        !page.contains("Subscribe to Creative SDK"),
        "no button for a service it cannot use"
    );
    let res = post(c, &format!("{subs}/pdf_services/remove"), &[], StatusCode::SEE_OTHER).await;
    assert!(location(&res).ends_with("done=unsubscribed"));

    let test = post(
        c,
        &format!("/console/integrations/{id}/redirect-test"),
        &[("uri", "https://x.example/")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(test.contains("Only OAuth integrations have redirect URIs"));

    let page = post(
        c,
        &format!("/console/integrations/{id}/delete"),
        &[("confirm_name", "Wrong")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(page.contains("Type the integration"));
    let res = post(
        c,
        &format!("/console/integrations/{id}/delete"),
        &[("confirm_name", "Export")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(location(&res).starts_with("/console/integrations?deleted="));
    c.get(&format!("/console/integrations/{id}"), StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn console_pages_test_urls_against_redirect_patterns_and_edit_them() {
    let w = world().await;
    let c = &w.dev.client;
    let res = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(
            serde_json::json!({"name": "Web", "integration_type": "oauth", "platform": "web",
            "redirect_uri": "https://app.example.com/cb", "redirect_patterns": ["https://app\\.example\\.com/cb/.*"]}),
        ),
        StatusCode::CREATED,
    )
    .await;
    let id = res["integration"]["id"].as_str().unwrap();
    let test = |uri: &'static str, status| {
        let path = format!("/console/integrations/{id}/redirect-test");
        async move { post(c, &path, &[("uri", uri)], status).await.text() }
    };
    assert!(
        test("https://app.example.com/cb/next", StatusCode::OK)
            .await
            .contains("Allowed.")
    );
    assert!(
        test("https://app.example.com.evil.com/cb/x", StatusCode::OK)
            .await
            .contains("Not allowed.")
    );
    assert!(
        test(
            "https://app.example.com@evil.com/cb/x",
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await
        .contains("user information")
    );
    let page = post(
        c,
        &format!("/console/integrations/{id}/edit"),
        &[
            ("name", "Web"),
            ("description", ""),
            ("redirect_uri", "https://app.example.com/cb"),
            ("redirect_patterns", "https://app.example.com/.*"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(page.contains("unescaped"), "{page}");
    let res = post(
        c,
        &format!("/console/integrations/{id}/edit"),
        &[
            ("name", "Web app"),
            ("description", "x"),
            ("redirect_uri", "https://app.example.com/cb"),
            ("redirect_patterns", ""),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(location(&res).ends_with("done=saved"));
    let res = post(
        c,
        &format!("/console/integrations/{id}/status"),
        &[("status", "disabled")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(location(&res).ends_with("done=disabled"));
    let page = c.get(&location(&res), StatusCode::OK).await.text();
    assert!(page.contains("Enable integration") && page.contains("Web app"));
}

#[tokio::test]
async fn console_pages_let_operators_edit_the_catalog() {
    let w = world().await;
    w.admin.client.get("/console/services/new", StatusCode::FORBIDDEN).await;
    let list = w.admin.client.get("/console/services", StatusCode::OK).await.text();
    assert!(list.contains("PDF Services") && !list.contains("Add a service"));
    make_operator(&w.server, &w.outsider.account).await;
    let op = &w.outsider.client;
    op.get("/console/services/new", StatusCode::OK).await;
    let page = post(
        op,
        "/console/services",
        &[
            ("code", "launch"),
            ("name", "Launch"),
            ("acts_for", "organization"),
            ("scopes", "ent_reactor_sdk"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(page.contains("Choose at least one integration type"), "{page}");
    let res = post(
        op,
        "/console/services",
        &[
            ("code", "launch"),
            ("name", "Launch"),
            ("allowed_types", "service_account"),
            ("acts_for", "organization"),
            ("scopes", "ent_reactor_sdk\nent_reactor_admin_sdk"),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(location(&res).ends_with("done=created"));
    let page = op.get("/console/services/launch", StatusCode::OK).await.text();
    assert!(page.contains("ent_reactor_admin_sdk"));
    post(
        op,
        "/console/services/launch",
        &[
            ("name", "Adobe Launch"),
            ("allowed_types", "service_account"),
            ("allowed_types", "oauth"),
            ("acts_for", "organization"),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let list = op.get("/console/services", StatusCode::OK).await.text();
    assert!(list.contains("Adobe Launch"));
    post(
        &w.admin.client,
        "/console/services/launch",
        &[("name", "Hijack"), ("allowed_types", "oauth"), ("acts_for", "user")],
        StatusCode::FORBIDDEN,
    )
    .await;
}
