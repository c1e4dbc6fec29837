//! Subscriptions (the seed's type rules as data, refusals naming service and type), the services
//! catalog edited by operators, and the console API used with an access token — which stops
//! working when its scopes are unsubscribed or its integration is disabled.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::helpers::*;

async fn create(w: &World, body: Value) -> String {
    let v = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(body),
        StatusCode::CREATED,
    )
    .await;
    v["integration"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn console_subscriptions_follow_the_services_type_rules() {
    let w = world().await;
    let c = &w.admin.client;
    let oauth = create(
        &w,
        json!({"name": "Web", "integration_type": "oauth", "platform": "web", "redirect_uri": "https://a.example/cb"}),
    )
    .await;
    let sa = create(
        &w,
        json!({"name": "SA", "integration_type": "service_account", "org_id": w.org_id}),
    )
    .await;
    let key = create(&w, json!({"name": "Key", "integration_type": "api_key"})).await;
    let subs = |id: &str| format!("/api/v1/integrations/{id}/subscriptions");

    let s = api(
        c,
        Method::POST,
        &subs(&oauth),
        Some(json!({"service": "creative_sdk", "scopes": ["cc_files"]})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["scopes"], json!(["cc_files"]));
    let s = api(
        c,
        Method::POST,
        &subs(&sa),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        s["scopes"],
        json!(["ent_documentcloud_sdk"]),
        "no choice means every scope"
    );
    for id in [&oauth, &sa, &key] {
        api(
            c,
            Method::POST,
            &subs(id),
            Some(json!({"service": "stock_search"})),
            StatusCode::CREATED,
        )
        .await;
    }
    // Refusals name services and types as people read them.
    for (id, service, detail_expected) in [
        (
            &oauth,
            "pdf_services",
            "PDF Services allows OAuth Server-to-Server and Service Account integrations only; this is an OAuth \
             integration",
        ),
        (
            &sa,
            "creative_sdk",
            "Creative SDK allows OAuth integrations only; this is a Service Account integration",
        ),
        (
            &key,
            "pdf_services",
            "PDF Services allows OAuth Server-to-Server and Service Account integrations only; this is an API Key \
             integration",
        ),
    ] {
        let e = api(
            c,
            Method::POST,
            &subs(id),
            Some(json!({ "service": service })),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["code"], "service_not_allowed_for_integration_type");
        assert_eq!(e["detail"], detail_expected);
    }
    let e = api(
        c,
        Method::POST,
        &subs(&sa),
        Some(json!({"service": "no_such_service"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (e["code"].clone(), e["errors"][0]["field"].clone()),
        (json!("unknown_service"), json!("service"))
    );
    assert!(e["detail"].as_str().unwrap().contains("no_such_service"));
    let e = api(
        c,
        Method::POST,
        &subs(&sa),
        Some(json!({"service": "Not A Code"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "invalid_service_code");
    let e = api(
        c,
        Method::POST,
        &subs(&oauth),
        Some(json!({"service": "creative_sdk"})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "already_subscribed");
    let e = api(
        c,
        Method::PUT,
        &format!("{}/creative_sdk", subs(&oauth)),
        Some(json!({"scopes": ["admin"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "scope_not_offered");
    let s = api(
        c,
        Method::PUT,
        &format!("{}/creative_sdk", subs(&oauth)),
        Some(json!({"scopes": ["creative_sdk", "cc_files"]})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["scopes"], json!(["cc_files", "creative_sdk"]));
    api(
        c,
        Method::DELETE,
        &format!("{}/creative_sdk", subs(&oauth)),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        c,
        Method::DELETE,
        &format!("{}/creative_sdk", subs(&oauth)),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let left = api(c, Method::GET, &subs(&oauth), None, StatusCode::OK).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    let actions = audit_actions(&w.server, &oauth).await;
    for a in ["subscription.created", "subscription.updated", "subscription.deleted"] {
        assert!(actions.contains(&a.to_owned()), "{actions:?}");
    }
}

#[tokio::test]
async fn console_operators_edit_the_catalog_and_changes_reach_subscriptions() {
    let w = world().await;
    let service = json!({"code": "target", "name": "Target", "allowed_types": ["service_account"],
        "scopes": ["ent_marketing_sdk", "ent_marketing_read"], "acts_for": "organization"});
    let e = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/services",
        Some(service.clone()),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "operator_required");
    make_operator(&w.server, &w.outsider.account).await;
    let op = &w.outsider.client;
    let created = api(
        op,
        Method::POST,
        "/api/v1/services",
        Some(service.clone()),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["allowed_types"], json!(["service_account"]));
    let e = api(
        op,
        Method::POST,
        "/api/v1/services",
        Some(service),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "service_exists");
    let e = api(
        op,
        Method::POST,
        "/api/v1/services",
        Some(
            json!({"code": "Bad Code", "name": "", "allowed_types": [], "scopes": ["a b"], "acts_for": "nobody",
            "upstream_url": "ftp://x"}),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["code", "name", "allowed_types", "scopes", "acts_for", "upstream_url"]
    );

    let sa = create(
        &w,
        json!({"name": "SA", "integration_type": "service_account", "org_id": w.org_id}),
    )
    .await;
    let subs = format!("/api/v1/integrations/{sa}/subscriptions");
    api(
        &w.admin.client,
        Method::POST,
        &subs,
        Some(json!({"service": "target"})),
        StatusCode::CREATED,
    )
    .await;
    // Dropping a scope narrows the subscription; dropping the type removes it.
    let narrower = json!({"name": "Target", "allowed_types": ["service_account"], "scopes": ["ent_marketing_sdk"],
        "acts_for": "organization"});
    api(
        op,
        Method::PUT,
        "/api/v1/services/target",
        Some(narrower),
        StatusCode::OK,
    )
    .await;
    let now = api(&w.admin.client, Method::GET, &subs, None, StatusCode::OK).await;
    assert_eq!(now[0]["scopes"], json!(["ent_marketing_sdk"]));
    let oauth_only =
        json!({"name": "Target", "allowed_types": ["oauth"], "scopes": ["ent_marketing_sdk"], "acts_for": "user"});
    api(
        op,
        Method::PUT,
        "/api/v1/services/target",
        Some(oauth_only),
        StatusCode::OK,
    )
    .await;
    assert!(
        api(&w.admin.client, Method::GET, &subs, None, StatusCode::OK)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    api(
        op,
        Method::PUT,
        "/api/v1/services/nope",
        Some(json!({"name": "x", "allowed_types": ["oauth"], "acts_for": "user"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    let list = api(&w.member.client, Method::GET, "/api/v1/services", None, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 5);
}

async fn token(w: &World, client_id: &str, secret: &str, scope: &str) -> String {
    let anon = w.server.new_client();
    let res = anon
        .send(
            anon.request(Method::POST, "/oauth/token").form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", scope),
            ]),
            StatusCode::OK,
        )
        .await;
    res.json_value()["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(w: &World, client_id: &str, secret: &str, token: &str) -> bool {
    let anon = w.server.new_client();
    let res = anon
        .send(
            anon.request(Method::POST, "/oauth/introspect")
                .basic_auth(client_id, Some(secret))
                .form(&[("token", token)]),
            StatusCode::OK,
        )
        .await;
    res.json_value()["active"].as_bool().unwrap()
}

async fn with_token(w: &World, token: &str, expected: StatusCode) -> Value {
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::GET, "/api/v1/integrations").bearer_auth(token),
        expected,
    )
    .await
    .json_value()
}

#[tokio::test]
async fn console_api_tokens_act_for_the_org_and_end_with_their_scopes() {
    let w = world().await;
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
    let client_id = created["integration"]["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let subs = format!("/api/v1/integrations/{id}/subscriptions");
    api(
        c,
        Method::POST,
        &subs,
        Some(json!({"service": "gatehouse_management"})),
        StatusCode::CREATED,
    )
    .await;
    api(
        c,
        Method::POST,
        &subs,
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;

    let t = token(&w, client_id, secret, "gatehouse.console ent_documentcloud_sdk").await;
    let seen = with_token(&w, &t, StatusCode::OK).await;
    assert_eq!(seen[0]["name"], "Automation");
    let narrow = token(&w, client_id, secret, "ent_documentcloud_sdk").await;
    assert_eq!(
        with_token(&w, &narrow, StatusCode::FORBIDDEN).await["code"],
        "insufficient_scope"
    );
    let e = with_token(&w, "not-a-token", StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "invalid_token");

    // The token acts as an admin of its organization: it may create a service account there.
    let anon = w.server.new_client();
    anon.send(
        anon.request(Method::POST, "/api/v1/integrations")
            .bearer_auth(&t)
            .json(&json!({"name": "Made by automation", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;

    // Unsubscribing revokes issued tokens carrying the service's scopes — for this API and for
    // introspection (once the token service's cache sees the change).
    assert!(introspect(&w, client_id, secret, &t).await);
    api(
        c,
        Method::DELETE,
        &format!("{subs}/pdf_services"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        with_token(&w, &t, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );
    // A cutoff revokes tokens issued up to its second; a new token must come from a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = token(&w, client_id, secret, "gatehouse.console").await;
    with_token(&w, &fresh, StatusCode::OK).await;

    assert!(
        !introspect(&w, client_id, secret, &t).await,
        "introspection sees the cutoff"
    );
    assert!(introspect(&w, client_id, secret, &fresh).await);
    // Disabling ends every token at once, and they stay ended when it is enabled again.
    let path = format!("/api/v1/integrations/{id}");
    api(
        c,
        Method::PATCH,
        &path,
        Some(json!({"status": "disabled"})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        with_token(&w, &fresh, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );
    api(
        c,
        Method::PATCH,
        &path,
        Some(json!({"status": "active"})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        with_token(&w, &fresh, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );
    assert!(!introspect(&w, client_id, secret, &fresh).await);
}
