//! Deleting a service from the catalog: operators only (API and pages, with a confirmation on the
//! pages), every subscription to it removed and the scopes it granted revoked from issued tokens
//! exactly as an unsubscribe does, audited.

use axum::http::{Method, StatusCode};
use gatehouse_store::AuditStore;
use serde_json::{Value, json};

use super::helpers::*;

struct Automation {
    id: String,
    client_id: String,
    secret: String,
}

/// An OAuth Server-to-Server integration of the org subscribed to the console API and PDF Services.
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
    let a = Automation {
        id: created["integration"]["id"].as_str().unwrap().to_owned(),
        client_id: created["integration"]["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().unwrap().to_owned(),
    };
    for service in ["gatehouse_management", "pdf_services"] {
        api(
            c,
            Method::POST,
            &format!("/api/v1/integrations/{}/subscriptions", a.id),
            Some(json!({ "service": service })),
            StatusCode::CREATED,
        )
        .await;
    }
    a
}

async fn token(w: &World, a: &Automation, scope: &str, expected: StatusCode) -> Value {
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::POST, "/oauth/token").form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a.client_id.as_str()),
            ("client_secret", a.secret.as_str()),
            ("scope", scope),
        ]),
        expected,
    )
    .await
    .json_value()
}

async fn introspect(w: &World, a: &Automation, t: &str) -> Value {
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::POST, "/oauth/introspect")
            .basic_auth(&a.client_id, Some(&a.secret))
            .form(&[("token", t)]),
        StatusCode::OK,
    )
    .await
    .json_value()
}

async fn bearer(w: &World, method: Method, path: &str, t: &str, expected: StatusCode) -> Value {
    let anon = w.server.new_client();
    let res = anon.send(anon.request(method, path).bearer_auth(t), expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

#[tokio::test]
async fn console_deleting_a_service_unsubscribes_everyone_and_revokes_its_scopes() {
    let w = world().await;
    let a = automation(&w).await;
    let both = token(&w, &a, "gatehouse.console ent_documentcloud_sdk", StatusCode::OK).await;
    let both = both["access_token"].as_str().unwrap().to_owned();
    let console_only = token(&w, &a, "gatehouse.console", StatusCode::OK).await;
    let console_only = console_only["access_token"].as_str().unwrap().to_owned();

    // Refused to everyone but operators: a developer, an org admin, an org's service account token.
    for c in [&w.dev.client, &w.admin.client] {
        let e = api(
            c,
            Method::DELETE,
            "/api/v1/services/pdf_services",
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["code"], "operator_required");
    }
    let e = bearer(
        &w,
        Method::DELETE,
        "/api/v1/services/pdf_services",
        &both,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "operator_required");
    api(
        &w.dev.client,
        Method::GET,
        "/api/v1/services/pdf_services",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(introspect(&w, &a, &both).await["active"], true);

    make_operator(&w.server, &w.member.account).await;
    let op = &w.member.client;
    api(
        op,
        Method::DELETE,
        "/api/v1/services/pdf_services",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        op,
        Method::GET,
        "/api/v1/services/pdf_services",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    api(
        op,
        Method::DELETE,
        "/api/v1/services/pdf_services",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let subs = api(
        &w.admin.client,
        Method::GET,
        &format!("/api/v1/integrations/{}/subscriptions", a.id),
        None,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = subs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().or(s["service_code"].as_str()).unwrap())
        .collect();
    assert_eq!(codes, vec!["gatehouse_management"]);

    // Tokens carrying the service's scope are revoked, as on unsubscribe; others are not.
    let e = bearer(&w, Method::GET, "/api/v1/integrations", &both, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "invalid_token");
    bearer(&w, Method::GET, "/api/v1/integrations", &console_only, StatusCode::OK).await;
    // One token verifier per node: introspection agrees with the console API at once.
    assert_eq!(introspect(&w, &a, &both).await["active"], false);
    assert_eq!(introspect(&w, &a, &console_only).await["active"], true);
    let e = token(&w, &a, "ent_documentcloud_sdk", StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_scope");

    // Audited: the service's deletion, and the unsubscribe on the integration.
    assert!(
        audit_actions(&w.server, &a.id)
            .await
            .ends_with(&["subscription.deleted".to_owned()])
    );
    let entries = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 50)
        .await
        .unwrap();
    let gone = entries.iter().find(|r| r.entry.action == "service.deleted").unwrap();
    assert_eq!(gone.entry.target, "service:pdf_services");
    assert_eq!(gone.entry.details["affected_integrations"], json!([a.id]));
    assert!(
        gone.entry.actor.contains(&w.member.account.id),
        "{:?}",
        gone.entry.actor
    );
}

#[tokio::test]
async fn console_pages_delete_a_service_after_confirmation_for_operators_only() {
    let w = world().await;
    let a = automation(&w).await;
    let path = "/console/services/pdf_services/delete";
    // Not for an org admin who is no operator: no confirmation page, no deletion.
    w.admin.client.get(path, StatusCode::FORBIDDEN).await;
    post(
        &w.admin.client,
        path,
        &[("confirm_code", "pdf_services")],
        StatusCode::FORBIDDEN,
    )
    .await;

    make_operator(&w.server, &w.member.account).await;
    let op = &w.member.client;
    let edit = op.get("/console/services/pdf_services", StatusCode::OK).await.text();
    assert!(
        edit.contains("href=\"/console/services/pdf_services/delete\""),
        "{edit}"
    );
    let confirm = op.get(path, StatusCode::OK).await.text();
    assert!(
        confirm.contains("Delete PDF Services?") && confirm.contains("1 subscription"),
        "{confirm}"
    );
    // A wrong confirmation, or none, or no CSRF token: nothing is deleted.
    let wrong = post(op, path, &[("confirm_code", "pdf")], StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .text();
    assert!(
        wrong.contains("There is a problem") && wrong.contains("Type the service"),
        "{wrong}"
    );
    post(op, path, &[], StatusCode::UNPROCESSABLE_ENTITY).await;
    op.post_form(path, &[("confirm_code", "pdf_services")], StatusCode::FORBIDDEN)
        .await;
    api(op, Method::GET, "/api/v1/services/pdf_services", None, StatusCode::OK).await;

    let res = post(op, path, &[("confirm_code", "pdf_services")], StatusCode::SEE_OTHER).await;
    assert_eq!(res.header("location"), Some("/console/services?done=deleted"));
    let list = op.get("/console/services?done=deleted", StatusCode::OK).await.text();
    assert!(
        list.contains("The service was deleted") && !list.contains("pdf_services"),
        "{list}"
    );
    assert!(
        audit_actions(&w.server, &a.id)
            .await
            .contains(&"subscription.deleted".to_owned())
    );
    op.get(path, StatusCode::NOT_FOUND).await;
}
