//! The integrations API: who may create which type, what each type gets, who sees what, edits,
//! bad input refused with every field's problem and nothing written, delete with the audit kept.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn console_each_type_gets_its_credentials() {
    let w = world().await;
    let c = &w.admin.client;
    let web = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(
            json!({"name": "Web app", "integration_type": "oauth", "platform": "web",
            "redirect_uri": "https://app.example.com/callback",
            "redirect_patterns": ["https://app\\.example\\.com/callback/.*"]}),
        ),
        StatusCode::CREATED,
    )
    .await;
    let i = &web["integration"];
    assert_eq!(i["integration_type"], "oauth");
    assert_eq!(i["platform"], "web");
    assert_eq!(i["owner_account_id"], w.admin.account.id.as_str());
    assert_eq!(i["client_id"].as_str().unwrap().len(), 32);
    assert!(web["client_secret"].as_str().unwrap().starts_with("ghs_"));

    let spa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "SPA", "integration_type": "oauth", "platform": "spa",
            "redirect_uri": "http://localhost:3000/cb"})),
        StatusCode::CREATED,
    )
    .await;
    assert!(spa["client_secret"].is_null(), "public clients have no secret");

    let key = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    assert!(key["client_secret"].is_null());
    assert!(key["integration"]["technical_account_id"].is_null());

    let sa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let i = &sa["integration"];
    assert_eq!(i["org_id"], w.org_id.as_str());
    assert!(
        i["technical_account_id"]
            .as_str()
            .unwrap()
            .ends_with("@techacct.gatehouse")
    );
    assert!(
        i["technical_account_email"]
            .as_str()
            .unwrap()
            .ends_with("@techacct.gatehouse")
    );
    assert!(sa["client_secret"].as_str().unwrap().starts_with("ghs_"));
    let id = i["id"].as_str().unwrap();
    assert_eq!(
        audit_actions(&w.server, id).await,
        vec![
            "integration.created",
            "client_secret.created",
            "client_secret.displayed"
        ]
    );
}

#[tokio::test]
async fn console_only_org_admins_create_service_accounts() {
    let w = world().await;
    let body = json!({"name": "Nightly", "integration_type": "service_account", "org_id": w.org_id});
    for p in [&w.dev, &w.member, &w.outsider] {
        let e = api(
            &p.client,
            Method::POST,
            "/api/v1/integrations",
            Some(body.clone()),
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(
            [
                "service_account_requires_org_admin",
                "developer_role_required",
                "not_a_member"
            ]
            .contains(&e["code"].as_str().unwrap()),
            "{e}"
        );
    }
    let personal = json!({"name": "Nightly", "integration_type": "service_account"});
    let e = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(personal),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "service_account_requires_org_admin");
    // Developers may create OAuth and API Key integrations for the organization; members may not.
    let org_key = json!({"name": "Org key", "integration_type": "api_key", "org_id": w.org_id});
    api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(org_key.clone()),
        StatusCode::CREATED,
    )
    .await;
    let e = api(
        &w.member.client,
        Method::POST,
        "/api/v1/integrations",
        Some(org_key),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "developer_role_required");
    // Anyone signed in creates personal ones.
    let mine = json!({"name": "Mine", "integration_type": "api_key"});
    api(
        &w.outsider.client,
        Method::POST,
        "/api/v1/integrations",
        Some(mine),
        StatusCode::CREATED,
    )
    .await;
    // Without a session: 401.
    let anon = w.server.new_client();
    let res = anon.get("/api/v1/integrations", StatusCode::UNAUTHORIZED).await;
    assert_eq!(res.json_value()["code"], "not_signed_in");
    // With a session but without the CSRF header: 403.
    let res = w
        .dev
        .client
        .send(
            w.dev
                .client
                .request(Method::POST, "/api/v1/integrations")
                .json(&json!({"name": "x", "integration_type": "api_key"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(res.json_value()["code"], "csrf_failed");
}

#[tokio::test]
async fn console_admins_see_all_developers_their_own_members_none() {
    let w = world().await;
    let by_admin = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "SA", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let by_dev = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Dev key", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let personal = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Dev personal", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let admin_sees = names(
        api(
            &w.admin.client,
            Method::GET,
            "/api/v1/integrations",
            None,
            StatusCode::OK,
        )
        .await,
    );
    assert_eq!(admin_sees, vec!["Dev key", "SA"]);
    let dev_sees = names(api(&w.dev.client, Method::GET, "/api/v1/integrations", None, StatusCode::OK).await);
    assert_eq!(dev_sees, vec!["Dev key", "Dev personal"]);
    assert!(
        names(
            api(
                &w.member.client,
                Method::GET,
                "/api/v1/integrations",
                None,
                StatusCode::OK
            )
            .await
        )
        .is_empty()
    );
    // What one cannot see does not exist for them, whether it exists or not.
    let sa_id = by_admin["integration"]["id"].as_str().unwrap();
    for (c, id) in [
        (&w.dev.client, sa_id),
        (&w.member.client, sa_id),
        (&w.admin.client, personal["integration"]["id"].as_str().unwrap()),
    ] {
        let e = api(
            c,
            Method::GET,
            &format!("/api/v1/integrations/{id}"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(e["code"], "not_found");
    }
    api(
        &w.outsider.client,
        Method::GET,
        "/api/v1/integrations/no-such-id",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let dev_key = by_dev["integration"]["id"].as_str().unwrap();
    api(
        &w.admin.client,
        Method::GET,
        &format!("/api/v1/integrations/{dev_key}"),
        None,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn console_bad_input_names_every_field_and_writes_nothing() {
    let w = world().await;
    let c = &w.admin.client;
    let e = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "", "integration_type": "oauth", "platform": "web",
            "redirect_uri": "http://app.example.com/cb",
            "redirect_patterns": ["https://.*", "https://example.com/.*"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "invalid_name");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "redirect_uri", "redirect_patterns"]);
    let patterns = &e["errors"][2];
    assert_eq!(patterns["code"], "invalid_redirect_pattern");
    assert!(patterns["message"].as_str().unwrap().contains("wildcard"), "{patterns}");

    let e = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "x", "integration_type": "robot"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "invalid_integration_type");
    let e = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "x", "integration_type": "api_key", "colour": "blue"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "invalid_body");
    assert!(
        api(c, Method::GET, "/api/v1/integrations", None, StatusCode::OK)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn console_edits_redirect_tests_and_deletes_keep_the_audit() {
    let w = world().await;
    let c = &w.dev.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "App", "integration_type": "oauth", "platform": "native",
            "redirect_uri": "com.example.app:/callback"})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/integrations/{id}");
    let edited = api(
        c,
        Method::PATCH,
        &path,
        Some(json!({"description": "Desktop app", "redirect_patterns": ["http://127\\.0\\.0\\.1/cb"]})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["description"], "Desktop app");
    assert_eq!(edited["redirect_uri"], "com.example.app:/callback");
    let e = api(
        c,
        Method::PATCH,
        &path,
        Some(json!({"redirect_patterns": ["https://.*\\.example\\.com/"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["errors"][0]["field"], "redirect_patterns");

    let check = |uri: &str| json!({ "uri": uri });
    let r = api(
        c,
        Method::POST,
        &format!("{path}/redirect-check"),
        Some(check("http://127.0.0.1:49152/cb")),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["allowed"], true);
    let r = api(
        c,
        Method::POST,
        &format!("{path}/redirect-check"),
        Some(check("com.example.app:/callback")),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (r["allowed"].clone(), r["default_matches"].clone()),
        (json!(true), json!(true))
    );
    let r = api(
        c,
        Method::POST,
        &format!("{path}/redirect-check"),
        Some(check("http://evil.com/cb")),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(r["code"], "invalid_redirect_uri");

    let disabled = api(
        c,
        Method::PATCH,
        &path,
        Some(json!({"status": "disabled"})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(disabled["status"], "disabled");
    api(c, Method::DELETE, &path, None, StatusCode::NO_CONTENT).await;
    api(c, Method::GET, &path, None, StatusCode::NOT_FOUND).await;
    api(c, Method::DELETE, &path, None, StatusCode::NOT_FOUND).await;
    assert_eq!(
        audit_actions(&w.server, &id).await,
        vec![
            "integration.created",
            "integration.updated",
            "integration.disabled",
            "integration.deleted"
        ]
    );
}

#[tokio::test]
async fn console_integrations_register_an_id_token_algorithm_and_only_operators_allow_introspection() {
    let w = world().await;
    let c = &w.dev.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(
            json!({"name": "Web app", "integration_type": "oauth", "platform": "web",
            "redirect_uri": "https://app.example.com/callback", "org_id": w.org_id}),
        ),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["integration"]["id_token_signed_response_alg"], json!(null));
    assert_eq!(created["integration"]["may_introspect"], false);
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/integrations/{id}");
    let patch = |body: serde_json::Value, expected: StatusCode| api(c, Method::PATCH, &path, Some(body), expected);
    let edited = patch(json!({"id_token_signed_response_alg": "RS256"}), StatusCode::OK).await;
    assert_eq!(edited["id_token_signed_response_alg"], "RS256");
    let e = patch(
        json!({"id_token_signed_response_alg": "HS256"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["errors"][0]["field"], "id_token_signed_response_alg");
    // Letting an integration read other clients' tokens is an operator's call.
    let e = patch(json!({"may_introspect": true}), StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "operator_required");
    make_operator(&w.server, &w.dev.account).await;
    let edited = patch(json!({"may_introspect": true}), StatusCode::OK).await;
    assert_eq!(edited["may_introspect"], true);
    assert_eq!(edited["id_token_signed_response_alg"], "RS256");

    // The console's settings form sets it too; empty goes back to the server's default.
    let page = c
        .get(&format!("/console/integrations/{id}"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("ID token signing algorithm"), "{page}");
    let token = crate::identity::helpers::csrf(c).await;
    let form = [
        ("csrf_token", token.as_str()),
        ("name", "Web app"),
        ("description", ""),
        ("redirect_uri", "https://app.example.com/callback"),
        ("redirect_patterns", ""),
        ("id_token_signed_response_alg", "ES256"),
    ];
    c.post_form(
        &format!("/console/integrations/{id}/edit"),
        &form,
        StatusCode::SEE_OTHER,
    )
    .await;
    let read = api(c, Method::GET, &path, None, StatusCode::OK).await;
    assert_eq!(read["integration"]["id_token_signed_response_alg"], "ES256");

    // Only OAuth integrations receive ID tokens.
    let key = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let key_path = format!("/api/v1/integrations/{}", key["integration"]["id"].as_str().unwrap());
    let e = api(
        c,
        Method::PATCH,
        &key_path,
        Some(json!({"id_token_signed_response_alg": "RS256"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["errors"][0]["code"], "id_token_alg_not_applicable");
}
