//! The operator area is for operators only, on the pages and the API alike: an organization's
//! admin, developer and member, an outsider and a signed-out caller are refused, and a refused
//! action changes nothing.

use axum::http::{Method, StatusCode};
use gatehouse_store::AccountStore;

use super::op_world;
use crate::console::helpers::api;

const PAGES: [&str; 7] = [
    "/operator/accounts",
    "/operator/orgs",
    "/operator/services",
    "/operator/audit",
    "/operator/audit/export?format=csv",
    "/operator/status",
    "/operator/outbox",
];

const CALLS: [&str; 6] = [
    "/api/v1/operator/accounts",
    "/api/v1/operator/orgs",
    "/api/v1/operator/audit",
    "/api/v1/operator/audit/export",
    "/api/v1/operator/status",
    "/api/v1/operator/outbox",
];

#[tokio::test]
async fn the_operator_area_is_refused_to_everyone_but_operators() {
    let o = op_world().await;
    let w = &o.w;
    let target = &w.member.account;
    for p in [&w.admin, &w.dev, &w.member, &w.outsider] {
        let who = p.account.email.as_str();
        for path in PAGES {
            let res = p.client.get(path, StatusCode::FORBIDDEN).await;
            assert!(res.text().contains("Only a Gatehouse operator"), "{who} {path}");
        }
        for path in CALLS {
            let body = api(&p.client, Method::GET, path, None, StatusCode::FORBIDDEN).await;
            assert_eq!(body["code"], "operator_required", "{who} {path}");
        }
        let org = format!("/api/v1/operator/orgs/{}", w.org_id);
        assert_eq!(
            api(&p.client, Method::GET, &org, None, StatusCode::FORBIDDEN).await["code"],
            "operator_required"
        );
        // The org's admin manages its members elsewhere, but not through the operator area.
        let disable = format!("/api/v1/operator/accounts/{}/disable", target.id);
        api(&p.client, Method::POST, &disable, None, StatusCode::FORBIDDEN).await;
        crate::identity::helpers::post(
            &p.client,
            &format!("/operator/accounts/{}/disable", target.id),
            &[],
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let after = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .account_by_id(&target.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!after.disabled, "a refused action changed nothing");
    // The member is still signed in.
    w.member.client.get("/console/account", StatusCode::OK).await;

    // Signed out: the API answers 401, the pages send the browser to sign in.
    let anon = w.server.new_client();
    for path in CALLS {
        anon.get(path, StatusCode::UNAUTHORIZED).await;
    }
    let res = anon.get("/operator/accounts", StatusCode::SEE_OTHER).await;
    assert!(res.header("location").unwrap().starts_with("/signin"));

    // The operator reaches every page, and sees the area in the navigation; others do not.
    for path in PAGES {
        o.op.client.get(path, StatusCode::OK).await;
    }
    assert!(
        o.op.client
            .get("/", StatusCode::OK)
            .await
            .text()
            .contains("href=\"/operator\"")
    );
    assert!(
        !w.admin
            .client
            .get("/", StatusCode::OK)
            .await
            .text()
            .contains("href=\"/operator\"")
    );
}
