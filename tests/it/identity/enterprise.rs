//! Enterprise accounts managed by their organization: created by an admin (the person sets a
//! password by mail), disabled (sessions, refresh and access tokens end; sign-in refused with a
//! reason) and re-enabled, password and two-step verification reset — only by admins of the
//! owning organization, over the API and the console pages, with audit entries.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    account::{Account, AccountType, Email},
    audit::{Actor, AuditEntry},
    ids::{OrgId, new_row_id},
    org::{Membership, Role},
    password,
};
use gatehouse_store::{AccountStore, AuditStore, MfaFactor, MfaKind, MfaStore, OrgStore, SessionStore};
use serde_json::{Value, json};

use super::helpers::*;
use crate::harness::server::{TestClient, TestServer};

pub async fn api(c: &TestClient, method: Method, path: &str, body: Option<Value>, expected: StatusCode) -> Value {
    let token = csrf(c).await;
    let mut req = c
        .request(method, path)
        .header("x-csrf-token", token)
        .header("user-agent", "enterprise-test/1.0");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = c.send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

/// A signed-in admin of a new organization; returns the client, the account and the org ID.
pub async fn admin_with_org(server: &TestServer, email: &str, org_name: &str) -> (TestClient, Account, String) {
    let (c, a) = signed_in(server, email).await;
    let org = api(
        &c,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": org_name})),
        StatusCode::CREATED,
    )
    .await;
    (c, a, org["id"].as_str().unwrap().to_owned())
}

/// Marks `domain` verified for `org` (as an operator's approval would), directly in the store, so
/// that the organization may create enterprise accounts there.
pub async fn verified_domain(server: &TestServer, org: &str, domain: &str) {
    use gatehouse_domain::identity::email_domain::{DomainClaim, DomainName, VerifiedBy};
    let now = server.state().now();
    let mut claim = DomainClaim::new(org, DomainName::parse(domain).unwrap(), &mut rand::thread_rng(), now);
    claim.verified = Some((now, VerifiedBy::Operator));
    gatehouse_store::DomainStore::insert_domain_claim(&mut server.store().conn().await.unwrap(), &claim)
        .await
        .unwrap();
}

/// Adds `account_id` to `org` with `role`, directly in the store.
pub async fn add_member(server: &TestServer, org: &str, account_id: &str, role: Role) {
    let now = server.state().now();
    let mut tx = server.store().begin().await.unwrap();
    tx.upsert_membership(&Membership {
        org_id: OrgId::parse(org).unwrap(),
        account_id: account_id.to_owned(),
        role,
        created_at: now,
    })
    .await
    .unwrap();
    tx.append_audit(&AuditEntry::new(now, &Actor::System, "test.member", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// An enterprise account with the test password, managed by `org` and a member of it.
pub async fn managed_account(server: &TestServer, org: &str, email: &str) -> Account {
    let now = server.state().now();
    let a = Account {
        id: new_row_id(&mut rand::thread_rng()),
        email: Email::parse(email).unwrap(),
        account_type: AccountType::Enterprise,
        display_name: "Managed".into(),
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: true,
        password_hash: Some(password::hash(PASSWORD, &mut rand::thread_rng()).unwrap()),
        operator: false,
        disabled: false,
        owner_org_id: Some(org.to_owned()),
        created_at: now,
        updated_at: now,
    };
    server.store().conn().await.unwrap().insert_account(&a).await.unwrap();
    add_member(server, org, &a.id, Role::Member).await;
    a
}

async fn audit_entry(server: &TestServer, org: &str, action: &str) -> AuditEntry {
    let records = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(Some(org), 100)
        .await
        .unwrap();
    records
        .into_iter()
        .map(|r| r.entry)
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no audit entry {action}"))
}

#[tokio::test]
async fn an_admin_creates_an_enterprise_account_whose_holder_sets_a_password_by_mail() {
    let server = TestServer::start().await;
    let (admin, admin_acc, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    verified_domain(&server, &org, "acme.test").await;
    let path = format!("/api/v1/orgs/{org}/accounts");
    let created = api(
        &admin,
        Method::POST,
        &path,
        Some(json!({"email": "Worker@Acme.test", "display_name": "Wendy Worker", "role": "developer"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["email"], "worker@acme.test");
    assert_eq!(created["account_type"], "enterprise");
    assert_eq!(created["owner_org_id"], org.as_str());
    assert_eq!(created["disabled"], false);
    let members = admin
        .get(&format!("/api/v1/orgs/{org}/members"), StatusCode::OK)
        .await
        .json_value();
    let w = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "worker@acme.test")
        .unwrap();
    assert_eq!(
        (w["role"].as_str(), w["managed"].as_bool()),
        (Some("developer"), Some(true))
    );

    // Bad input is refused precisely and creates nothing.
    for (body, status, code) in [
        (
            json!({"email": "nope", "display_name": "X", "role": "member"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            json!({"email": "x@acme.test", "display_name": " ", "role": "member"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
        ),
        (
            json!({"email": "x@acme.test", "display_name": "X", "role": "owner"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_role",
        ),
        (
            json!({"email": "boss@acme.test", "display_name": "X", "role": "member"}),
            StatusCode::CONFLICT,
            "account_exists",
        ),
    ] {
        let p = api(&admin, Method::POST, &path, Some(body), status).await;
        assert_eq!(p["code"], code, "{p}");
    }
    let mut conn = server.store().conn().await.unwrap();
    assert!(
        conn.account_by_email(&Email::parse("x@acme.test").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // Only admins create them.
    let (dev, dev_acc) = signed_in(&server, "dev@acme.test").await;
    add_member(&server, &org, &dev_acc.id, Role::Developer).await;
    let p = api(
        &dev,
        Method::POST,
        &path,
        Some(json!({"email": "y@acme.test", "display_name": "Y", "role": "member"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "admin_required");

    // The audit log names the admin, the address and the client.
    let e = audit_entry(&server, &org, "account.created").await;
    assert_eq!(e.actor, Actor::Account(admin_acc.id.clone()).render());
    assert_eq!(e.details["via"], "admin");
    assert_eq!(e.user_agent.as_deref(), Some("enterprise-test/1.0"));
    assert!(e.ip.is_some());

    // The person opens the link, chooses a password and signs in.
    let link = latest_link(&server, "worker@acme.test", "/password-reset/").await;
    let person = server.new_client();
    person.get(&link, StatusCode::OK).await;
    post(
        &person,
        &link,
        &[
            ("password", "amber lantern meadow 7"),
            ("password_confirm", "amber lantern meadow 7"),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        sign_in(&person, "worker@acme.test", "amber lantern meadow 7").await,
        "/console"
    );
    person.get(&link, StatusCode::GONE).await;
}

#[tokio::test]
async fn only_admins_of_the_owning_organization_manage_an_account() {
    let server = TestServer::start().await;
    let (admin, admin_acc, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    let (other_admin, _, other_org) = admin_with_org(&server, "boss@globex.test", "Globex").await;
    let managed = managed_account(&server, &org, "worker@acme.test").await;
    let personal = account(&server, "free@agent.test").await;
    add_member(&server, &org, &personal.id, Role::Member).await;
    // The other organization's admin, even with the account as a member of their org too.
    add_member(&server, &other_org, &managed.id, Role::Member).await;
    let act = |o: &str, id: &str, action: &str| format!("/api/v1/orgs/{o}/accounts/{id}/{action}");

    let p = api(
        &other_admin,
        Method::POST,
        &act(&other_org, &managed.id, "disable"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "managed_by_another_organization");
    assert_eq!(p["status"], 403);
    let p = api(
        &admin,
        Method::POST,
        &act(&org, &personal.id, "password-reset"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "personal_account");
    let (dev, dev_acc) = signed_in(&server, "dev@acme.test").await;
    add_member(&server, &org, &dev_acc.id, Role::Developer).await;
    let p = api(
        &dev,
        Method::POST,
        &act(&org, &managed.id, "mfa-reset"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "admin_required");
    let p = api(
        &other_admin,
        Method::POST,
        &act(&org, &managed.id, "disable"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let p = api(
        &admin,
        Method::POST,
        &act(&org, &managed.id, "delete"),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_action");
    let p = api(
        &admin,
        Method::POST,
        &act(&org, "no-such-account", "disable"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let p = api(
        &admin,
        Method::POST,
        &act(&org, &managed.id, "enable"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "not_disabled");
    // Nothing changed, and the refusals wrote nothing.
    let mut conn = server.store().conn().await.unwrap();
    assert!(!conn.account_by_id(&managed.id).await.unwrap().unwrap().disabled);
    let personal_now = conn.account_by_id(&personal.id).await.unwrap().unwrap();
    assert!(personal_now.password_hash.is_some());
    let audit = conn.recent_audit(Some(&org), 100).await.unwrap();
    assert!(!audit.iter().any(|r| r.entry.action.starts_with("account.")));
    let _ = admin_acc;
}

#[tokio::test]
async fn disabling_ends_sessions_and_refuses_sign_in_until_re_enabled() {
    let server = TestServer::start().await;
    let (admin, admin_acc, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    let managed = managed_account(&server, &org, "worker@acme.test").await;
    let person = server.new_client();
    assert_eq!(sign_in(&person, "worker@acme.test", PASSWORD).await, "/console");
    person.get("/api/v1/account", StatusCode::OK).await;

    let path = format!("/api/v1/orgs/{org}/accounts/{}/disable", managed.id);
    let after = api(&admin, Method::POST, &path, None, StatusCode::OK).await;
    assert_eq!(after["disabled"], true);
    person.get("/api/v1/account", StatusCode::UNAUTHORIZED).await;
    let mut conn = server.store().conn().await.unwrap();
    assert!(conn.sessions_of_account(&managed.id).await.unwrap().is_empty());
    let e = audit_entry(&server, &org, "account.disabled").await;
    assert_eq!(e.actor, Actor::Account(admin_acc.id.clone()).render());
    assert_eq!(e.target, format!("account:{}", managed.id));
    assert!(e.ip.is_some() && e.user_agent.is_some());

    // The right password gets a clear refusal; a wrong one the usual message.
    let res = post(
        &person,
        "/signin",
        &[("email", "worker@acme.test"), ("password", PASSWORD)],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(res.text().contains("disabled by the organization"), "{}", res.text());
    api(&admin, Method::POST, &path, None, StatusCode::CONFLICT).await;
    // An admin cannot disable themselves (they manage nobody's account but the org's).
    let own = api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts/{}/disable", admin_acc.id),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(own["code"], "personal_account");

    let enable = format!("/api/v1/orgs/{org}/accounts/{}/enable", managed.id);
    assert_eq!(
        api(&admin, Method::POST, &enable, None, StatusCode::OK).await["disabled"],
        false
    );
    assert_eq!(sign_in(&person, "worker@acme.test", PASSWORD).await, "/console");
}

#[tokio::test]
async fn password_and_two_step_resets_end_sessions_and_mail_a_link() {
    let server = TestServer::start().await;
    let (admin, _, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    let managed = managed_account(&server, &org, "worker@acme.test").await;
    let person = server.new_client();
    assert_eq!(sign_in(&person, "worker@acme.test", PASSWORD).await, "/console");

    let reset = format!("/api/v1/orgs/{org}/accounts/{}/password-reset", managed.id);
    api(&admin, Method::POST, &reset, None, StatusCode::OK).await;
    person.get("/api/v1/account", StatusCode::UNAUTHORIZED).await;
    // The old password no longer works.
    post(
        &person,
        "/signin",
        &[("email", "worker@acme.test"), ("password", PASSWORD)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let link = latest_link(&server, "worker@acme.test", "/password-reset/").await;
    post(
        &person,
        &link,
        &[
            ("password", "amber lantern meadow 7"),
            ("password_confirm", "amber lantern meadow 7"),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        sign_in(&person, "worker@acme.test", "amber lantern meadow 7").await,
        "/console"
    );

    // Two-step verification: the factors go, and an org that requires it asks for enrolment again.
    let now = server.state().now();
    let mut conn = server.store().conn().await.unwrap();
    for kind in [MfaKind::Totp, MfaKind::RecoveryCode] {
        conn.insert_mfa_factor(&MfaFactor {
            id: new_row_id(&mut rand::thread_rng()),
            account_id: managed.id.clone(),
            kind,
            label: String::new(),
            secret: None,
            data: json!({}),
            last_used_at: None,
            created_at: now,
        })
        .await
        .unwrap();
    }
    let mfa_reset = format!("/api/v1/orgs/{org}/accounts/{}/mfa-reset", managed.id);
    api(&admin, Method::POST, &mfa_reset, None, StatusCode::OK).await;
    assert!(conn.mfa_factors_of(&managed.id).await.unwrap().is_empty());
    assert_eq!(
        audit_entry(&server, &org, "account.mfa_reset_by_admin").await.details["factors_removed"],
        2
    );
    let mut o = conn.org_by_id(&OrgId::parse(&org).unwrap()).await.unwrap().unwrap();
    o.require_mfa = true;
    conn.update_org(&o).await.unwrap();
    assert_eq!(
        sign_in(&person, "worker@acme.test", "amber lantern meadow 7").await,
        "/console/account/mfa?required=1"
    );
}

#[tokio::test]
async fn the_member_list_page_manages_enterprise_accounts_with_csrf() {
    let server = TestServer::start().await;
    let (admin, _, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    verified_domain(&server, &org, "acme.test").await;
    let managed = managed_account(&server, &org, "worker@acme.test").await;
    let page = admin.get(&format!("/console/orgs/{org}"), StatusCode::OK).await.text();
    let disable = format!("/console/orgs/{org}/accounts/{}/disable", managed.id);
    assert!(page.contains(&disable), "{page}");
    assert!(page.contains("Create an enterprise account"));

    // Without the CSRF token nothing happens.
    admin.post_form(&disable, &[("x", "y")], StatusCode::FORBIDDEN).await;
    let mut conn = server.store().conn().await.unwrap();
    assert!(!conn.account_by_id(&managed.id).await.unwrap().unwrap().disabled);

    let res = post(&admin, &disable, &[], StatusCode::SEE_OTHER).await;
    assert!(res.header("location").unwrap().ends_with("done=disabled"));
    assert!(conn.account_by_id(&managed.id).await.unwrap().unwrap().disabled);

    // Creating one from the page; a bad address is shown on its own field.
    let res = post(
        &admin,
        &format!("/console/orgs/{org}/accounts"),
        &[
            ("account_email", "bad"),
            ("account_name", "N"),
            ("account_role", "member"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("id=\"account_email-error\""), "{}", res.text());
    post(
        &admin,
        &format!("/console/orgs/{org}/accounts"),
        &[
            ("account_email", "new@acme.test"),
            ("account_name", "New"),
            ("account_role", "member"),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    latest_link(&server, "new@acme.test", "/password-reset/").await;
}
