//! The audit log in the operator area: filters by actor (email), organization, integration,
//! action and time; pages; exports as JSON lines and CSV with the same filters.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::op_world;
use crate::console::helpers::api;

fn actions(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_as_json_lines_and_csv() {
    let o = op_world().await;
    let (w, c) = (&o.w, &o.op.client);
    // The admin creates an organization integration; the outsider a personal one.
    let org_owned = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Acme backend", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let org_integration = org_owned["integration"]["id"].as_str().unwrap().to_owned();
    let client_id = org_owned["integration"]["client_id"].as_str().unwrap().to_owned();
    api(
        &w.outsider.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Side project", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;

    // By actor's email: only what the admin did.
    let by_admin = api(
        c,
        Method::GET,
        "/api/v1/operator/audit?actor=admin@acme.test",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(
        actions(&by_admin).contains(&"integration.created".to_owned()),
        "{by_admin}"
    );
    assert!(
        by_admin["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == format!("account:{}", w.admin.account.id))
    );
    // An unknown email matches nothing rather than everything.
    let nobody = api(
        c,
        Method::GET,
        "/api/v1/operator/audit?actor=nobody@x.test",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(nobody["entries"].as_array().unwrap().is_empty());
    // By organization, by integration (its ID or its client ID), by action family.
    let of_org = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/audit?org={}&action=integration", w.org_id),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(actions(&of_org), ["integration.created"]);
    for key in [&org_integration, &client_id] {
        let of_i = api(
            c,
            Method::GET,
            &format!("/api/v1/operator/audit?integration={key}"),
            None,
            StatusCode::OK,
        )
        .await;
        assert_eq!(actions(&of_i), ["integration.created"], "{key}");
        assert_eq!(of_i["entries"][0]["target"], format!("integration:{org_integration}"));
    }
    let family = api(
        c,
        Method::GET,
        "/api/v1/operator/audit?action=integration.created",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(family["entries"].as_array().unwrap().len(), 2);
    // By time: everything happened at or after the first entry's second; nothing before it.
    let first_at = family["entries"][1]["at"].as_i64().unwrap();
    let before = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/audit?until={first_at}&action=integration"),
        None,
        StatusCode::OK,
    )
    .await;
    assert!(before["entries"].as_array().unwrap().is_empty());
    let since = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/audit?since={first_at}&action=integration"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(since["entries"].as_array().unwrap().len(), 2);
    let bad = api(
        c,
        Method::GET,
        "/api/v1/operator/audit?since=last+tuesday",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["code"], "invalid_filter");

    // Pages: a limit and next_before.
    let p1 = api(c, Method::GET, "/api/v1/operator/audit?limit=1", None, StatusCode::OK).await;
    let next = p1["next_before"].as_i64().expect("more pages");
    let p2 = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/audit?limit=1&before={next}"),
        None,
        StatusCode::OK,
    )
    .await;
    assert!(p2["entries"][0]["id"].as_i64().unwrap() < next);

    // Exports, with the same filter.
    let jsonl = c
        .get(
            "/api/v1/operator/audit/export?format=jsonl&action=integration.created",
            StatusCode::OK,
        )
        .await;
    assert!(jsonl.header("content-type").unwrap().starts_with("application/jsonl"));
    assert!(
        jsonl
            .header("content-disposition")
            .unwrap()
            .contains("gatehouse-audit.jsonl")
    );
    let lines: Vec<Value> = jsonl.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l["action"] == "integration.created" && l["time"].as_str().unwrap().ends_with('Z'))
    );
    let csv = c
        .get(
            &format!("/operator/audit/export?format=csv&org={}", w.org_id),
            StatusCode::OK,
        )
        .await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("id,time,actor,action,target,org_id,ip,user_agent,details")
    );
    let body: Vec<&str> = rows.collect();
    assert!(body.iter().all(|r| r.contains(&w.org_id)), "{text}");
    assert!(body.iter().any(|r| r.contains("integration.created")), "{text}");
    c.get(
        "/api/v1/operator/audit/export?format=xml",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // The page: filters kept in the form, entries with their details, export links carrying the filter.
    let page = c
        .get(
            "/operator/audit?actor=admin%40acme.test&action=integration",
            StatusCode::OK,
        )
        .await
        .text();
    assert!(page.contains("value=\"admin@acme.test\""), "{page}");
    assert!(
        page.contains("integration.created") && page.contains("Acme backend"),
        "{page}"
    );
    assert!(
        page.contains("/operator/audit/export?format=csv&#38;actor=admin%40acme.test&#38;action=integration"),
        "{page}"
    );
    assert!(!page.contains("Side project"));
    c.get("/operator/audit?until=soon", StatusCode::UNPROCESSABLE_ENTITY)
        .await;
}

#[tokio::test]
async fn a_role_change_shows_before_and_after_on_the_audit_page() {
    let o = op_world().await;
    let (w, c) = (&o.w, &o.op.client);
    api(
        &w.admin.client,
        Method::PATCH,
        &format!("/api/v1/orgs/{}/members/{}", w.org_id, w.member.account.id),
        Some(json!({"role": "developer"})),
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = c
        .get("/operator/audit?action=member.role_changed", StatusCode::OK)
        .await
        .text()
        .replace("&#34;", "\"");
    assert!(
        page.contains("<h3>Before</h3>") && page.contains("<h3>After</h3>"),
        "{page}"
    );
    let before = page.find("\"member\"").expect("the old role");
    let after = page.find("\"developer\"").expect("the new role");
    assert!(before < after, "{page}");
}
