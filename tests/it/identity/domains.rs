//! Email domains: an organization creates enterprise accounts only in domains it has verified —
//! by a TXT record (looked up through a DNS server the test runs on 127.0.0.1) or by an
//! operator's approval — and a refusal never tells whether the address has an account.

use axum::http::{Method, StatusCode};
use gatehouse_store::AccountStore;
use serde_json::json;

use super::{
    enterprise::{admin_with_org, api},
    helpers::*,
};
use crate::harness::{dns::DnsServer, server::TestServer};

async fn server_with_dns() -> (TestServer, DnsServer) {
    let dns = DnsServer::start().await;
    let addr = dns.addr.to_string();
    let server = TestServer::start_with(|c| c.domains.resolver = addr).await;
    (server, dns)
}

#[tokio::test]
async fn an_organization_cannot_squat_enterprise_accounts_in_a_domain_it_has_not_verified() {
    let (server, _dns) = server_with_dns().await;
    // The address's real owner has an account; another does not.
    account(&server, "ceo@bigcorp.example").await;
    let (squatter, _, org) = admin_with_org(&server, "mallory@evil.example", "Squatters").await;
    let path = format!("/api/v1/orgs/{org}/accounts");
    let mut refusals = Vec::new();
    for email in ["ceo@bigcorp.example", "cfo@bigcorp.example"] {
        let body = json!({"email": email, "display_name": "X", "role": "member"});
        let mut p = api(&squatter, Method::POST, &path, Some(body), StatusCode::FORBIDDEN).await;
        assert_eq!(p["code"], "domain_not_verified");
        p["detail"] = p["detail"].as_str().unwrap().replace(email, "<address>").into();
        refusals.push(p);
    }
    assert_eq!(refusals[0], refusals[1], "the refusal tells nothing of the account");
    // A claim that is not verified does not open the domain either.
    api(
        &squatter,
        Method::POST,
        &format!("/api/v1/orgs/{org}/domains"),
        Some(json!({"domain": "BigCorp.example"})),
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"email": "cfo@bigcorp.example", "display_name": "X", "role": "member"});
    api(&squatter, Method::POST, &path, Some(body), StatusCode::FORBIDDEN).await;
    let verify = format!("/api/v1/orgs/{org}/domains/bigcorp.example/verify");
    let p = api(&squatter, Method::POST, &verify, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["code"], "txt_record_not_found");
    // Nothing was created: the real owner's account is untouched and the other address is free.
    let mut conn = server.store().conn().await.unwrap();
    let accounts = conn.list_accounts().await.unwrap();
    assert!(accounts.iter().all(|a| a.email.as_str() != "cfo@bigcorp.example"));
    assert!(
        accounts
            .iter()
            .any(|a| a.email.as_str() == "ceo@bigcorp.example" && a.owner_org_id.is_none())
    );
}

#[tokio::test]
async fn a_txt_record_verifies_a_domain_for_one_organization_only() {
    let (server, dns) = server_with_dns().await;
    let (admin, _, org) = admin_with_org(&server, "boss@bigcorp.example", "BigCorp").await;
    let domains = format!("/api/v1/orgs/{org}/domains");
    let claim = api(
        &admin,
        Method::POST,
        &domains,
        Some(json!({"domain": "bigcorp.example"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(claim["verified"], false);
    assert_eq!(claim["txt_name"], "_gatehouse.bigcorp.example");
    let value = claim["txt_value"].as_str().unwrap().to_owned();
    assert!(value.starts_with("gatehouse-verification="));
    api(
        &admin,
        Method::POST,
        &domains,
        Some(json!({"domain": "bigcorp.example"})),
        StatusCode::CONFLICT,
    )
    .await;
    api(
        &admin,
        Method::POST,
        &domains,
        Some(json!({"domain": "not a domain"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // A record with another value does not count; the right one does.
    dns.add_txt("_gatehouse.bigcorp.example", "gatehouse-verification=0000");
    let verify = format!("{domains}/bigcorp.example/verify");
    api(&admin, Method::POST, &verify, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    dns.add_txt("_gatehouse.bigcorp.example", &value);
    let verified = api(&admin, Method::POST, &verify, None, StatusCode::OK).await;
    assert_eq!(
        (verified["verified"].clone(), verified["verified_by"].clone()),
        (json!(true), json!("dns"))
    );
    let listed = api(&admin, Method::GET, &domains, None, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let body = json!({"email": "worker@bigcorp.example", "display_name": "W", "role": "member"});
    api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts"),
        Some(body),
        StatusCode::CREATED,
    )
    .await;
    latest_link(&server, "worker@bigcorp.example", "/password-reset/").await;

    // Another organization may claim the domain but not verify it while BigCorp holds it.
    let (other, _, other_org) = admin_with_org(&server, "eve@elsewhere.example", "Elsewhere").await;
    let other_domains = format!("/api/v1/orgs/{other_org}/domains");
    let theirs = api(
        &other,
        Method::POST,
        &other_domains,
        Some(json!({"domain": "bigcorp.example"})),
        StatusCode::CREATED,
    )
    .await;
    dns.add_txt("_gatehouse.bigcorp.example", theirs["txt_value"].as_str().unwrap());
    let p = api(
        &other,
        Method::POST,
        &format!("{other_domains}/bigcorp.example/verify"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "domain_verified_elsewhere");
    // Only admins manage domains; outsiders do not see the organization.
    api(&other, Method::GET, &domains, None, StatusCode::NOT_FOUND).await;
    // Released, the domain is closed to new accounts again.
    api(
        &admin,
        Method::DELETE,
        &format!("{domains}/bigcorp.example"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let body = json!({"email": "late@bigcorp.example", "display_name": "L", "role": "member"});
    api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts"),
        Some(body),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn only_an_operator_approves_a_claim_without_dns() {
    let (server, _dns) = server_with_dns().await;
    let (admin, _, org) = admin_with_org(&server, "boss@bigcorp.example", "BigCorp").await;
    let domains = format!("/api/v1/orgs/{org}/domains");
    api(
        &admin,
        Method::POST,
        &domains,
        Some(json!({"domain": "bigcorp.example"})),
        StatusCode::CREATED,
    )
    .await;
    let approve = format!("{domains}/bigcorp.example/approve");
    let p = api(&admin, Method::POST, &approve, None, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "operator_required");

    let mut op = account(&server, "op@gatehouse.example").await;
    op.operator = true;
    server.store().conn().await.unwrap().update_account(&op).await.unwrap();
    let c = server.new_client();
    sign_in(&c, "op@gatehouse.example", PASSWORD).await;
    let approved = api(&c, Method::POST, &approve, None, StatusCode::OK).await;
    assert_eq!(approved["verified_by"], "operator");
    let body = json!({"email": "worker@bigcorp.example", "display_name": "W", "role": "member"});
    api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts"),
        Some(body),
        StatusCode::CREATED,
    )
    .await;
}
