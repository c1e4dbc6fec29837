//! Gatehouse's own identity events: `gatehouse.member.added` / `.removed` on membership changes
//! and `gatehouse.signin.failed` on repeated failures, each visible only to registrations of the
//! organization concerned.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{events::model::GATEHOUSE_PROVIDER_ID, org::Role};
use serde_json::{Value, json};

use super::enterprise::{add_member, api, managed_account};
use super::helpers::*;
use crate::events::client::{Caller, caller, server};

const CODES: [&str; 3] = [
    "gatehouse.member.added",
    "gatehouse.member.removed",
    "gatehouse.signin.failed",
];

/// One journal registration per identity event code; returns their IDs by code.
async fn watch(c: &Caller) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for code in CODES {
        let r = c.register(code, "journal", None, GATEHOUSE_PROVIDER_ID, code).await;
        out.push((code.to_owned(), r["id"].as_str().unwrap().to_owned()));
    }
    out
}

/// The events in the journal of the registration watching `code`.
async fn journal(c: &Caller, regs: &[(String, String)], code: &str) -> Vec<Value> {
    let id = &regs.iter().find(|(k, _)| k == code).unwrap().1;
    let res = c
        .client
        .send(
            c.client
                .request(Method::GET, &format!("/api/v1/events/registrations/{id}/journal"))
                .bearer_auth(&c.token),
            StatusCode::OK,
        )
        .await;
    if res.status == StatusCode::NO_CONTENT {
        return Vec::new();
    }
    res.json_value()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].clone())
        .collect()
}

async fn journal_len(c: &Caller, regs: &[(String, String)], code: &str) -> usize {
    let id = &regs.iter().find(|(k, _)| k == code).unwrap().1;
    let res = c
        .client
        .request(Method::GET, &format!("/api/v1/events/registrations/{id}/journal"))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    if res.status() == StatusCode::NO_CONTENT {
        return 0;
    }
    let v: Value = res.json().await.unwrap();
    v["events"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn membership_changes_reach_only_the_organizations_registrations() {
    let server = server().await;
    let acme = caller(&server).await;
    let globex = caller(&server).await;
    let acme_regs = watch(&acme).await;
    let globex_regs = watch(&globex).await;
    let (admin, admin_acc) = signed_in(&server, "boss@acme.test").await;
    add_member(&server, &acme.org, &admin_acc.id, Role::Admin).await;
    super::enterprise::verified_domain(&server, &acme.org, "acme.test").await;

    let created = api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{}/accounts", acme.org),
        Some(json!({"email": "worker@acme.test", "display_name": "W", "role": "member"})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    api(
        &admin,
        Method::PATCH,
        &format!("/api/v1/orgs/{}/members/{id}", acme.org),
        Some(json!({"role": "developer"})),
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        &admin,
        Method::DELETE,
        &format!("/api/v1/orgs/{}/members/{id}", acme.org),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;

    let added = journal(&acme, &acme_regs, "gatehouse.member.added").await;
    assert_eq!(added.len(), 2, "{added:#?}");
    assert_eq!(added[0]["subject"], format!("account:{id}"));
    assert_eq!(added[0]["data"]["role"], "member");
    assert_eq!(added[0]["data"]["org_id"], acme.org.as_str());
    assert_eq!(added[1]["data"]["role"], "developer");
    assert_eq!(added[1]["data"]["previous_role"], "member");
    let removed = journal(&acme, &acme_regs, "gatehouse.member.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["data"]["email"], "worker@acme.test");
    assert_eq!(removed[0]["data"]["role"], "developer");

    for code in CODES {
        assert_eq!(
            journal_len(&globex, &globex_regs, code).await,
            0,
            "{code} leaked to another organization"
        );
    }
    // A refused change publishes nothing.
    api(
        &admin,
        Method::DELETE,
        &format!("/api/v1/orgs/{}/members/{}", acme.org, admin_acc.id),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(journal_len(&acme, &acme_regs, "gatehouse.member.removed").await, 1);
}

#[tokio::test]
async fn repeated_sign_in_failures_are_published_at_the_threshold_not_per_failure() {
    let server = server().await;
    let acme = caller(&server).await;
    let globex = caller(&server).await;
    let acme_regs = watch(&acme).await;
    let globex_regs = watch(&globex).await;
    let worker = managed_account(&server, &acme.org, "worker@acme.test").await;
    let c = server.new_client();
    for i in 1..=5 {
        post(
            &c,
            "/signin",
            &[("email", "worker@acme.test"), ("password", "wrong password entirely")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let n = journal_len(&acme, &acme_regs, "gatehouse.signin.failed").await;
        assert_eq!(n, usize::from(i == 5), "after {i} failures");
    }
    let events = journal(&acme, &acme_regs, "gatehouse.signin.failed").await;
    assert_eq!(events[0]["subject"], format!("account:{}", worker.id));
    assert_eq!(events[0]["data"]["consecutive_failures"], 5);
    assert_eq!(events[0]["data"]["org_id"], acme.org.as_str());
    assert_eq!(journal_len(&globex, &globex_regs, "gatehouse.signin.failed").await, 0);

    // Unknown addresses concern no organization.
    for _ in 0..5 {
        post(
            &c,
            "/signin",
            &[("email", "ghost@acme.test"), ("password", "wrong password entirely")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_eq!(journal_len(&acme, &acme_regs, "gatehouse.signin.failed").await, 1);
}

#[tokio::test]
async fn repeated_second_factor_failures_are_published_too() {
    let server = server().await;
    let acme = caller(&server).await;
    let regs = watch(&acme).await;
    managed_account(&server, &acme.org, "worker@acme.test").await;
    let first = server.new_client();
    assert_eq!(sign_in(&first, "worker@acme.test", PASSWORD).await, "/console");
    super::mfa::enrol(&first, server.state().now()).await;

    let c = server.new_client();
    let res = post(
        &c,
        "/signin",
        &[("email", "worker@acme.test"), ("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(res.header("location"), Some("/signin/mfa"));
    for i in 1..=5 {
        post(
            &c,
            "/signin/mfa",
            &[("code", "12345678")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let n = journal_len(&acme, &regs, "gatehouse.signin.failed").await;
        assert_eq!(n, usize::from(i == 5), "after {i} failures");
    }
    let events = journal(&acme, &regs, "gatehouse.signin.failed").await;
    assert_eq!(events[0]["data"]["step"], "second_factor");
}
