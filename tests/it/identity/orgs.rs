//! Organizations in the console: creating, inviting (one-time, expiring, for one address),
//! roles, the last-admin rule, and refusals that change nothing.

use axum::http::StatusCode;
use gatehouse_store::{AccountStore, AuditStore, OrgStore};
use gatehouse_web::Clock;

use super::helpers::*;
use crate::harness::server::{TestClient, TestServer};

async fn create_org(c: &TestClient, name: &str) -> String {
    let res = post(c, "/console/orgs", &[("name", name)], StatusCode::SEE_OTHER).await;
    res.header("location").unwrap().split('?').next().unwrap().to_owned()
}

fn org_id(path: &str) -> gatehouse_domain::ids::OrgId {
    gatehouse_domain::ids::OrgId::parse(path.trim_start_matches("/console/orgs/")).unwrap()
}

#[tokio::test]
async fn an_admin_invites_a_new_person_who_joins_with_an_enterprise_account() {
    let server = TestServer::start().await;
    let (admin, _) = signed_in(&server, "admin@example.com").await;
    let org = create_org(&admin, "Acme Corp").await;
    assert!(org_id(&org).as_str().ends_with("@GatehouseOrg"));
    let page = admin.get(&org, StatusCode::OK).await.text();
    assert!(page.contains("Acme Corp") && page.contains("Send invitation"), "{page}");

    let res = post(
        &admin,
        &format!("{org}/invitations"),
        &[("email", "not-an-email"), ("role", "member")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("Enter a valid email address"));
    let res = post(
        &admin,
        &format!("{org}/invitations"),
        &[("email", "new@example.com"), ("role", "owner")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("must be one of"));
    post(
        &admin,
        &format!("{org}/invitations"),
        &[("email", "New@Example.com"), ("role", "developer")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let page = admin.get(&org, StatusCode::OK).await.text();
    assert!(page.contains("Pending invitations") && page.contains("new@example.com"));

    let link = latest_link(&server, "new@example.com", "/invitations/").await;
    let guest = server.new_client();
    let page = guest.get(&link, StatusCode::OK).await.text();
    assert!(
        page.contains("Join Acme Corp") && page.contains("Create account and join"),
        "{page}"
    );
    let res = post(
        &guest,
        &format!("{link}/register"),
        &[
            ("display_name", "Newt"),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("at least 12 characters"));
    let res = post(
        &guest,
        &format!("{link}/register"),
        &[
            ("display_name", "Newt"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(res.header("location"), Some(org.as_str()));
    let page = guest.get(&org, StatusCode::OK).await.text();
    assert!(page.contains("developer"));

    let email = gatehouse_domain::account::Email::parse("new@example.com").unwrap();
    let mut conn = server.store().conn().await.unwrap();
    let acc = conn.account_by_email(&email).await.unwrap().unwrap();
    assert_eq!(acc.account_type, gatehouse_domain::account::AccountType::Enterprise);
    assert!(acc.email_verified);
    // The link works once.
    server.new_client().get(&link, StatusCode::GONE).await;
    post(
        &server.new_client(),
        &format!("{link}/register"),
        &[
            ("display_name", "X"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
        StatusCode::GONE,
    )
    .await;
    // Enterprise accounts cannot create organizations.
    let res = post(
        &guest,
        "/console/orgs",
        &[("name", "Side project")],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(res.text().contains("managed by an organization"));

    let log = conn.recent_audit(Some(org_id(&org).as_str()), 20).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    for a in ["org.created", "invitation.sent", "account.created"] {
        assert!(actions.contains(&a), "{a} missing in {actions:?}");
    }
}

#[tokio::test]
async fn an_existing_account_accepts_only_its_own_invitation() {
    let clock = Clock::manual(1_800_000_000);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (admin, _) = signed_in(&server, "admin@example.com").await;
    let org = create_org(&admin, "Acme").await;
    let (bob, _) = signed_in(&server, "bob@example.com").await;
    let (eve, _) = signed_in(&server, "eve@example.com").await;
    post(
        &admin,
        &format!("{org}/invitations"),
        &[("email", "bob@example.com"), ("role", "member")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let link = latest_link(&server, "bob@example.com", "/invitations/").await;

    let page = eve.get(&link, StatusCode::OK).await.text();
    assert!(page.contains("Sign in as a different user"), "{page}");
    let res = post(&eve, &format!("{link}/accept"), &[], StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        res.text().contains("This invitation was sent to bob@example.com"),
        "{}",
        res.text()
    );
    let anon = server.new_client().get(&link, StatusCode::OK).await.text();
    assert!(anon.contains("Sign in to accept"));

    post(&bob, &format!("{link}/accept"), &[], StatusCode::SEE_OTHER).await;
    bob.get(&org, StatusCode::OK).await;
    post(&bob, &format!("{link}/accept"), &[], StatusCode::GONE).await;

    // Invitations expire after a week.
    post(
        &admin,
        &format!("{org}/invitations"),
        &[("email", "eve@example.com"), ("role", "member")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let link = latest_link(&server, "eve@example.com", "/invitations/").await;
    clock.advance(7 * 24 * 3600 + 1);
    eve.get(&link, StatusCode::GONE).await;
    // (Eve's session ended with the week too; she signs in again.)
    sign_in(&eve, "eve@example.com", PASSWORD).await;
    post(&eve, &format!("{link}/accept"), &[], StatusCode::GONE).await;
    eve.get(&org, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn roles_change_and_an_org_always_keeps_an_admin() {
    let server = TestServer::start().await;
    let (admin, a) = signed_in(&server, "admin@example.com").await;
    let org = create_org(&admin, "Acme").await;
    let (dev, d) = signed_in(&server, "dev@example.com").await;
    let mut conn = server.store().conn().await.unwrap();
    conn.upsert_membership(&gatehouse_domain::org::Membership {
        org_id: org_id(&org),
        account_id: d.id.clone(),
        role: gatehouse_domain::org::Role::Developer,
        created_at: 0,
    })
    .await
    .unwrap();

    // The only admin can neither leave nor demote themselves.
    let res = post(&admin, &format!("{org}/leave"), &[], StatusCode::CONFLICT).await;
    assert!(res.text().contains("must keep at least one admin"), "{}", res.text());
    let res = post(
        &admin,
        &format!("{org}/members/{}/role", a.id),
        &[("role", "member")],
        StatusCode::CONFLICT,
    )
    .await;
    assert!(res.text().contains("must keep at least one admin"));
    // A developer cannot manage members.
    let res = post(
        &dev,
        &format!("{org}/members/{}/role", d.id),
        &[("role", "admin")],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(res.text().contains("Only an admin"), "{}", res.text());
    // Missing CSRF token: refused, nothing changes.
    dev.post_form(&format!("{org}/leave"), &[("x", "y")], StatusCode::FORBIDDEN)
        .await;
    assert!(conn.membership(&org_id(&org), &d.id).await.unwrap().is_some());

    // Transfer admin, then the former admin may leave.
    post(
        &admin,
        &format!("{org}/transfer"),
        &[("to", &d.id), ("my_role", "developer")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(
        conn.membership(&org_id(&org), &d.id)
            .await
            .unwrap()
            .unwrap()
            .role
            .as_str(),
        "admin"
    );
    post(&admin, &format!("{org}/leave"), &[], StatusCode::SEE_OTHER).await;
    assert!(conn.membership(&org_id(&org), &a.id).await.unwrap().is_none());
    admin.get(&org, StatusCode::NOT_FOUND).await;

    let log = conn.recent_audit(Some(org_id(&org).as_str()), 20).await.unwrap();
    let transfer = log.iter().find(|r| r.entry.action == "org.admin_transferred").unwrap();
    assert_eq!(transfer.entry.actor, format!("account:{}", a.id));
    assert!(transfer.entry.ip.is_some());
    assert!(log.iter().any(|r| r.entry.action == "member.left"));
}

#[tokio::test]
async fn bad_org_input_gets_specific_errors() {
    let server = TestServer::start().await;
    let (c, _) = signed_in(&server, "admin@example.com").await;
    let long = "n".repeat(101);
    let res = post(
        &c,
        "/console/orgs",
        &[("name", &long)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        res.text()
            .contains("organization name must be 1–100 printable characters"),
        "{}",
        res.text()
    );
    assert!(
        server
            .store()
            .conn()
            .await
            .unwrap()
            .list_orgs()
            .await
            .unwrap()
            .is_empty()
    );
    c.get("/console/orgs/not-an-org", StatusCode::NOT_FOUND).await;
}
