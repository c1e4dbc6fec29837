//! Operators find accounts and organizations, and disable, re-enable, reset and sign out
//! accounts; each action is audited with the account's state before and after.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::op_world;
use crate::{
    console::helpers::api,
    identity::helpers::{PASSWORD, outbox, post, sign_in},
};

fn emails(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn operators_find_accounts_by_email_name_type_and_organization() {
    let o = op_world().await;
    let c = &o.op.client;
    let all = api(c, Method::GET, "/api/v1/operator/accounts", None, StatusCode::OK).await;
    assert_eq!(
        emails(&all),
        [
            "admin@acme.test",
            "dev@acme.test",
            "member@acme.test",
            "operator@gatehouse.test",
            "outsider@other.test"
        ]
    );
    let acme = format!("/api/v1/operator/accounts?org={}", o.w.org_id);
    assert_eq!(
        emails(&api(c, Method::GET, &acme, None, StatusCode::OK).await),
        ["admin@acme.test", "dev@acme.test", "member@acme.test"]
    );
    let by_text = api(
        c,
        Method::GET,
        "/api/v1/operator/accounts?q=OUTSIDER",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&by_text), ["outsider@other.test"]);
    let admin = &by_text[0];
    assert_eq!(admin["account_type"], "personal");
    let none = api(
        c,
        Method::GET,
        "/api/v1/operator/accounts?type=enterprise",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(none.as_array().unwrap().is_empty());
    let bad = api(
        c,
        Method::GET,
        "/api/v1/operator/accounts?type=robot",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["code"], "invalid_account_type");

    let one = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/accounts/{}", o.w.admin.account.id),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["orgs"][0]["org_name"], "Acme");
    assert_eq!(one["orgs"][0]["role"], "admin");
    assert_eq!(one["sessions"], 1);

    // The page: the same search, by name, with the organization shown.
    let page = c
        .get(&format!("/operator/accounts?q=dev&org={}", o.w.org_id), StatusCode::OK)
        .await
        .text();
    assert!(
        page.contains("dev@acme.test") && !page.contains("member@acme.test"),
        "{page}"
    );
    assert!(page.contains("1 account<"), "{page}");
    let detail = c
        .get(&format!("/operator/accounts/{}", o.w.dev.account.id), StatusCode::OK)
        .await
        .text();
    assert!(detail.contains("Disable account") && detail.contains("Sign out everywhere"));

    // Organizations: the list and one with its members.
    let orgs = api(c, Method::GET, "/api/v1/operator/orgs", None, StatusCode::OK).await;
    assert_eq!(orgs[0]["name"], "Acme");
    assert_eq!(orgs[0]["members"], 3);
    let org = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/orgs/{}", o.w.org_id),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(org["members"].as_array().unwrap().len(), 3);
    assert!(org["integrations"].as_array().unwrap().is_empty());
    api(
        c,
        Method::GET,
        "/api/v1/operator/orgs/nope",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let org_page = c
        .get(&format!("/operator/orgs/{}", o.w.org_id), StatusCode::OK)
        .await
        .text();
    assert!(org_page.contains("member@acme.test") && org_page.contains("Claimed email domains"));
    let services = c.get("/operator/services", StatusCode::OK).await.text();
    assert!(services.contains("PDF Services") && services.contains("Stock Search"));
}

/// The details of the newest audit entry with `action` on `account:<id>`.
async fn last_entry(c: &crate::harness::server::TestClient, action: &str, id: &str) -> Value {
    let page = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/audit?action={action}"),
        None,
        StatusCode::OK,
    )
    .await;
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"] == format!("account:{id}"))
        .cloned()
        .unwrap_or_else(|| panic!("no {action} entry for {id}: {page}"))
}

#[tokio::test]
async fn operators_disable_enable_reset_and_sign_out_accounts_and_each_is_audited_before_and_after() {
    let o = op_world().await;
    let c = &o.op.client;
    let member = &o.w.member;
    let path = |action: &str| format!("/api/v1/operator/accounts/{}/{action}", member.account.id);

    // Disable: the member's session ends at once; the entry records before and after.
    let out = api(c, Method::POST, &path("disable"), None, StatusCode::OK).await;
    assert_eq!(out["disabled"], true);
    member.client.get("/console/account", StatusCode::SEE_OTHER).await;
    let e = last_entry(c, "account.disabled", &member.account.id).await;
    assert_eq!(e["actor"], format!("account:{}", o.op.account.id));
    assert_eq!(e["details"]["before"]["disabled"], false);
    assert_eq!(e["details"]["after"]["disabled"], true);
    assert_eq!(e["details"]["sessions_ended"], 1);
    assert_eq!(
        api(c, Method::POST, &path("disable"), None, StatusCode::CONFLICT).await["code"],
        "already_disabled"
    );

    // Enable: the person signs in again.
    api(c, Method::POST, &path("enable"), None, StatusCode::OK).await;
    assert_eq!(sign_in(&member.client, "member@acme.test", PASSWORD).await, "/console");
    let e = last_entry(c, "account.enabled", &member.account.id).await;
    assert_eq!(
        (
            e["details"]["before"]["disabled"].clone(),
            e["details"]["after"]["disabled"].clone()
        ),
        (true.into(), false.into())
    );

    // Sign out everywhere: the session ends, the account stays enabled.
    api(c, Method::POST, &path("sign-out"), None, StatusCode::OK).await;
    member.client.get("/console/account", StatusCode::SEE_OTHER).await;
    assert_eq!(
        last_entry(c, "account.signed_out_by_operator", &member.account.id).await["details"]["sessions_ended"],
        1
    );

    // Reset the password: the old one stops working and a link goes out.
    let out = api(c, Method::POST, &path("password-reset"), None, StatusCode::OK).await;
    assert_eq!(out["has_password"], false);
    let res = post(
        &member.client,
        "/signin",
        &[("email", "member@acme.test"), ("password", PASSWORD)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("password"), "the old password no longer signs in");
    let mail = outbox(&o.w.server).await;
    assert!(
        mail.iter()
            .any(|m| m.contains("To: member@acme.test") && m.contains("/password-reset/")),
        "{mail:#?}"
    );
    let e = last_entry(c, "account.password_reset_by_operator", &member.account.id).await;
    assert_eq!(e["details"]["before"]["has_password"], true);
    assert_eq!(e["details"]["after"]["has_password"], false);

    // Reset two-step verification: audited, with what it removed.
    api(c, Method::POST, &path("mfa-reset"), None, StatusCode::OK).await;
    assert_eq!(
        last_entry(c, "account.mfa_reset_by_operator", &member.account.id).await["details"]["factors_removed"],
        0
    );

    // An operator cannot disable themselves; an unknown action and account are refused.
    let own = format!("/api/v1/operator/accounts/{}/disable", o.op.account.id);
    assert_eq!(
        api(c, Method::POST, &own, None, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "cannot_disable_yourself"
    );
    api(c, Method::POST, &path("delete"), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    api(
        c,
        Method::POST,
        "/api/v1/operator/accounts/nobody/disable",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The page's form does the same, then shows what happened.
    let res = post(
        c,
        &format!("/operator/accounts/{}/disable", o.w.dev.account.id),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = res.header("location").unwrap().to_owned();
    assert_eq!(to, format!("/operator/accounts/{}?done=disable", o.w.dev.account.id));
    let page = c.get(&to, StatusCode::OK).await.text();
    assert!(
        page.contains("The account is disabled") && page.contains("Enable account"),
        "{page}"
    );
    let refused = post(
        c,
        &format!("/operator/accounts/{}/disable", o.w.dev.account.id),
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused.text().contains("is disabled already"));
}
