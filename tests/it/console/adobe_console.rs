//! Adobe's Console API (`/console/organizations/…`): driven by Adobe's own client,
//! `@adobe/aio-lib-console`, unmodified, through a local TLS-terminating proxy for its fixed host;
//! and the rules it must keep: a bearer token whose client is the `x-api-key`, organizations and
//! projects of others "not found", a bad certificate creating nothing, client errors never 5xx.

use std::{process::Stdio, time::Duration};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::helpers::*;
use crate::harness::{
    browser::{node, repo},
    require_tool,
};

/// An OAuth Server-to-Server credential of the organization with the console scope, and a token of it.
struct Automation {
    client_id: String,
    token: String,
}

async fn automation(w: &World) -> Automation {
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Automation", "integration_type": "server_to_server", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "gatehouse_management"})),
        StatusCode::CREATED,
    )
    .await;
    let client_id = created["integration"]["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let token = s2s_token(w, &client_id, &secret, "gatehouse.console", StatusCode::OK).await;
    Automation {
        client_id,
        token: token["access_token"].as_str().unwrap().to_owned(),
    }
}

/// Adobe's Server-to-Server token request: `/ims/token/v3`, form-encoded, comma-separated scopes.
async fn s2s_token(w: &World, client_id: &str, secret: &str, scope: &str, expected: StatusCode) -> Value {
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::POST, "/ims/token/v3").form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ]),
        expected,
    )
    .await
    .json_value()
}

fn console_call(
    w: &World,
    a: &Automation,
    method: Method,
    path: &str,
    api_key: Option<&str>,
) -> reqwest::RequestBuilder {
    let c = w.server.new_client();
    let mut req = c.request(method, path).bearer_auth(&a.token);
    if let Some(k) = api_key {
        req = req.header("x-api-key", k);
    }
    req
}

async fn send(w: &World, req: reqwest::RequestBuilder, expected: StatusCode) -> Value {
    let res = w.server.new_client().send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

fn certificate_pem(now: i64) -> String {
    gatehouse_domain::console::keypair::generate("Interop JWT", now, &mut rand::rngs::OsRng)
        .unwrap()
        .certificate
        .pem
}

#[tokio::test]
async fn adobe_console_api_driven_by_aio_lib_console() {
    let Some(()) = require_tool(node(&["@adobe/aio-lib-console", "undici"], false)) else {
        return;
    };
    let w = world().await;
    let a = automation(&w).await;
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(repo().join("interop/adobe/console.mjs"))
        .current_dir(repo())
        .env("GATEHOUSE_URL", w.server.base_url())
        .env("TOKEN", &a.token)
        .env("CLIENT_ID", &a.client_id)
        .env("ORG", &w.org_id)
        .env("SERVICE", "stock_search")
        .env("CERT_PEM", certificate_pem(w.server.state().now()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the client finished within two minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "console.mjs failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["ok"], true, "{seen}");
    // Every call reached Gatehouse under Adobe's host names: the Console API, then IMS.
    let requests = seen["requests"].as_array().unwrap();
    assert!(
        requests.iter().all(|r| {
            let r = r.as_str().unwrap();
            r.contains("developers.adobe.io/console/") || r.contains("ims-na1.adobelogin.com/ims/token/")
        }),
        "{requests:?}"
    );
    // The token aio-lib-ims got is the credential's own, for the subscribed service.
    let ims_token = seen["ims_token"].as_str().unwrap();
    let anon = w.server.new_client();
    let inspected = anon
        .post_form(
            "/ims/validate_token/v1",
            &[
                ("type", "access_token"),
                ("client_id", seen["client_id"].as_str().unwrap()),
                ("token", ims_token),
            ],
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(inspected["valid"], true, "{inspected}");

    // What the library made is Gatehouse's: the project with Production and Stage, the Stage
    // workspace holding the Server-to-Server credential and the JWT one.
    let project = seen["project_id"].as_str().unwrap();
    let detail = api(
        &w.admin.client,
        Method::GET,
        &format!("/api/v1/projects/{project}"),
        None,
        StatusCode::OK,
    )
    .await;
    let stage = &detail["workspaces"][1];
    assert_eq!(stage["workspace"]["id"], seen["workspace_id"]);
    let mut kinds: Vec<&str> = stage["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["integration_type"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["server_to_server", "service_account"], "{detail}");
    let jwt = seen["jwt_id"].as_str().unwrap();
    let certs = api(
        &w.admin.client,
        Method::GET,
        &format!("/api/v1/integrations/{jwt}/certificates"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(certs[0]["fingerprint_sha256"], seen["fingerprint"]);

    // The rotation took: the new secret gets a token the way Adobe's clients ask, the old one not.
    let client_id = seen["client_id"].as_str().unwrap();
    let t = s2s_token(
        &w,
        client_id,
        seen["second_secret"].as_str().unwrap(),
        "stock_search",
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["token_type"], "bearer");
    assert!(t.get("refresh_token").is_none(), "{t}");
    let refused = s2s_token(
        &w,
        client_id,
        seen["first_secret"].as_str().unwrap(),
        "stock_search",
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused["error"], "invalid_client");
}

#[tokio::test]
async fn adobe_console_api_needs_a_token_whose_client_is_the_api_key() {
    let w = world().await;
    let a = automation(&w).await;
    let path = "/console/organizations";
    // A console session is not enough: the API takes tokens.
    w.admin
        .client
        .send(w.admin.client.request(Method::GET, path), StatusCode::UNAUTHORIZED)
        .await;
    let missing = send(&w, console_call(&w, &a, Method::GET, path, None), StatusCode::FORBIDDEN).await;
    assert_eq!(missing["code"], "api_key_mismatch");
    let other = send(
        &w,
        console_call(&w, &a, Method::GET, path, Some("00000000000000000000000000000000")),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(other["code"], "api_key_mismatch");
    let orgs = send(
        &w,
        console_call(&w, &a, Method::GET, path, Some(&a.client_id)),
        StatusCode::OK,
    )
    .await;
    assert_eq!(orgs[0]["id"], w.org_id.as_str());
    assert_eq!(orgs[0]["roles"], json!(["ADMIN"]));
    // A token without the console scope is refused.
    let anon = w.server.new_client();
    let c = anon
        .send(
            anon.request(Method::GET, path)
                .bearer_auth("not-a-token")
                .header("x-api-key", &a.client_id),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert!(!c.body.is_empty());
}

#[tokio::test]
async fn adobe_console_api_keeps_other_organizations_and_bad_input_out() {
    let w = world().await;
    let a = automation(&w).await;
    let key = Some(a.client_id.as_str());
    let org = w.org_id.clone();
    // Another organization, or one that does not exist, is "not found".
    let elsewhere = "fedcba9876543210fedcba98@GatehouseOrg";
    send(
        &w,
        console_call(
            &w,
            &a,
            Method::GET,
            &format!("/console/organizations/{elsewhere}/services"),
            key,
        ),
        StatusCode::NOT_FOUND,
    )
    .await;
    send(
        &w,
        console_call(
            &w,
            &a,
            Method::POST,
            &format!("/console/organizations/{elsewhere}/projects"),
            key,
        )
        .json(&json!({"name": "Theirs", "title": "Theirs", "type": "default"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    // A project of a person (not of this organization) is not reachable through this organization.
    let personal = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "Mine"})),
        StatusCode::CREATED,
    )
    .await;
    let pid = personal["id"].as_str().unwrap();
    send(
        &w,
        console_call(
            &w,
            &a,
            Method::GET,
            &format!("/console/organizations/{org}/projects/{pid}"),
            key,
        ),
        StatusCode::NOT_FOUND,
    )
    .await;

    let created = send(
        &w,
        console_call(
            &w,
            &a,
            Method::POST,
            &format!("/console/organizations/{org}/projects"),
            key,
        )
        .json(&json!({"name": "Shop", "title": "Shop", "type": "default"})),
        StatusCode::CREATED,
    )
    .await;
    let (project, workspace) = (
        created["projectId"].as_str().unwrap(),
        created["workspaceId"].as_str().unwrap(),
    );
    let ws = format!("/console/organizations/{org}/projects/{project}/workspaces/{workspace}");
    // A certificate that is not one: refused with a 4xx, and no credential is left behind.
    let boundary = "----gatehouse-console-api-test";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nBroken\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"certificate\"; filename=\"certificate\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n-----BEGIN CERTIFICATE-----\nbm90\n-----END CERTIFICATE-----\n\r\n\
         --{boundary}--\r\n"
    );
    let bad = send(
        &w,
        console_call(&w, &a, Method::POST, &format!("{ws}/credentials/entp"), key)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(form),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"].to_string().contains("certificate"), "{bad}");
    let creds = send(
        &w,
        console_call(&w, &a, Method::GET, &format!("{ws}/credentials"), key),
        StatusCode::OK,
    )
    .await;
    assert_eq!(creds, json!([]));
    // What aio-lib-console 5.x sends for uploadAndBindCertificate: text, not a form. A 4xx, never a
    // 5xx its retries would repeat.
    let sent = send(
        &w,
        console_call(&w, &a, Method::POST, &format!("{ws}/credentials/entp"), key)
            .header("content-type", "text/plain;charset=UTF-8")
            .body("[object FormData]"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(sent["code"], "multipart_required");
    // An unknown OAuth platform names the field.
    let platform = send(
        &w,
        console_call(&w, &a, Method::POST, &format!("{ws}/credentials/adobeId"), key)
            .json(&json!({"name": "Web", "platform": "Fridge"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(platform["code"], "invalid_platform");
    // App Builder projects are not Gatehouse's.
    send(
        &w,
        console_call(
            &w,
            &a,
            Method::POST,
            &format!("/console/organizations/{org}/projects"),
            key,
        )
        .json(&json!({"name": "App", "title": "App", "type": "jaeger"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn adobe_console_api_generates_and_assigns_a_key_pair_as_a_zip() {
    let w = world().await;
    let a = automation(&w).await;
    let key = Some(a.client_id.as_str());
    let org = w.org_id.clone();
    let created = send(
        &w,
        console_call(
            &w,
            &a,
            Method::POST,
            &format!("/console/organizations/{org}/projects"),
            key,
        )
        .json(&json!({"name": "Keys", "title": "Keys", "type": "default"})),
        StatusCode::CREATED,
    )
    .await;
    let (project, workspace) = (
        created["projectId"].as_str().unwrap(),
        created["workspaceId"].as_str().unwrap(),
    );
    let ws = format!("/console/organizations/{org}/projects/{project}/workspaces/{workspace}");
    let boundary = "----gatehouse-console-api-keys";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nJWT\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"certificate\"; filename=\"certificate\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        certificate_pem(w.server.state().now())
    );
    let jwt = send(
        &w,
        console_call(&w, &a, Method::POST, &format!("{ws}/credentials/entp"), key)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(form),
        StatusCode::OK,
    )
    .await;
    let id = jwt["id"].as_str().unwrap();
    let res = w
        .server
        .new_client()
        .send(
            console_call(
                &w,
                &a,
                Method::POST,
                &format!("{ws}/credentials/entp/{id}/certificate/generateAndAssign"),
                key,
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(res.headers["content-type"], "application/zip");
    assert!(res.body.starts_with(b"PK\x03\x04"), "a zip file");
    let text = String::from_utf8_lossy(&res.body);
    for part in [
        "certificate_pub.crt",
        "private.key",
        "-----BEGIN CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----",
    ] {
        assert!(text.contains(part), "the zip holds {part}");
    }
    // The generated certificate is bound beside the uploaded one; the private key is not kept.
    let bindings = send(
        &w,
        console_call(
            &w,
            &a,
            Method::GET,
            &format!("/console/organizations/{org}/integrations/entp/{id}/bindings"),
            key,
        ),
        StatusCode::OK,
    )
    .await;
    assert_eq!(bindings.as_array().unwrap().len(), 2, "{bindings}");
}
