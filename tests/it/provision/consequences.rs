//! A change made by `gatehouse apply` has the same consequences as the same change made in the
//! console or through `/api/v1`, because both run the same writing half of the use cases:
//! Gatehouse's own events are published, a narrowed service narrows the subscriptions to it and
//! cuts the withdrawn scopes off issued tokens, and a disabled account loses its sessions and
//! tokens.

use gatehouse_domain::{
    account::Email,
    identity::session::{AuthMethod, Session},
    ids::ClientId,
    token::records::RefreshTokenRecord,
};
use gatehouse_store::{AccountStore, AuditStore, ConsoleStore, EventStore, IntegrationStore, SessionStore, TokenStore};

use super::*;
use crate::harness::db::TestDatabase;

const GATEHOUSE: &str = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21";
const WEB: &str = "dddddddddddddddddddddddddddddddd";
const WATCHER: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

fn file(service_scopes: &str, web_subscriptions: bool, dev_role: &str) -> String {
    let subs = if web_subscriptions {
        r#"subscriptions = [{ service = "stock_search", scopes = ["read_stock", "write_stock"] }]"#
    } else {
        ""
    };
    format!(
        r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[accounts]]
email = "dev@acme.test"
password = "the first password"
type = "enterprise"
memberships = [{{ organization = "Acme", role = "{dev_role}" }}]

[[services]]
code = "stock_search"
name = "Stock Search"
allowed_types = ["oauth", "service_account"]
scopes = {service_scopes}

[[integrations]]
name = "Web"
type = "oauth"
platform = "web"
organization = "Acme"
client_id = "{WEB}"
client_secret = "first-secret-0123456789"
redirect_uri = "https://app.example.com/cb"
{subs}

[[integrations]]
name = "Watcher"
type = "service_account"
organization = "Acme"
client_id = "{WATCHER}"
client_secret = "watcher-secret-0123456789"

[[integrations.event_registrations]]
name = "Everything about Acme"
delivery_method = "journal"
events = [
  {{ provider = "{GATEHOUSE}", code = "gatehouse.subscription.changed" }},
  {{ provider = "{GATEHOUSE}", code = "gatehouse.integration.created" }},
  {{ provider = "{GATEHOUSE}", code = "gatehouse.member.added" }},
]
"#
    )
}

/// The types and data of every event in the Watcher's journal, oldest first.
async fn journal(store: &Store) -> Vec<(String, serde_json::Value)> {
    let mut c = store.conn().await.unwrap();
    let watcher = c
        .integration_by_client_id(&ClientId::parse(WATCHER).unwrap())
        .await
        .unwrap()
        .unwrap();
    let reg = c.registrations_of_integration(&watcher.id).await.unwrap().remove(0);
    let upto = c.journal_horizon().await.unwrap();
    c.journal_after(&reg.id, 0, upto, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
            (v["type"].as_str().unwrap().to_owned(), v["data"].clone())
        })
        .collect()
}

#[tokio::test]
async fn apply_publishes_the_own_events_the_console_would() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, &file(r#"["read_stock", "write_stock"]"#, true, "developer"))
        .await
        .unwrap();
    // The registration is written by the same file after the memberships, so it hears what the
    // second file does: a change of the developer's role.
    apply_text(&store, &file(r#"["read_stock", "write_stock"]"#, true, "admin"))
        .await
        .unwrap();
    let events = journal(&store).await;
    let added = events
        .iter()
        .find(|(t, _)| t == "gatehouse.member.added")
        .unwrap_or_else(|| panic!("a role change is announced to the organization: {events:?}"));
    assert_eq!(added.1["role"], "admin");
    assert_eq!(added.1["previous_role"], "developer");
    assert_eq!(added.1["email"], "dev@acme.test");
}

#[tokio::test]
async fn apply_narrowing_a_service_narrows_its_subscriptions_and_cuts_the_withdrawn_scope() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, &file(r#"["read_stock", "write_stock"]"#, true, "developer"))
        .await
        .unwrap();
    // The second file drops a scope from the service and leaves Web's subscriptions alone.
    apply_text(&store, &file(r#"["read_stock"]"#, false, "developer"))
        .await
        .unwrap();
    let mut c = store.conn().await.unwrap();
    let web = c
        .integration_by_client_id(&ClientId::parse(WEB).unwrap())
        .await
        .unwrap()
        .unwrap();
    let subs = c.subscriptions_of(&web.id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        subs[0].scopes,
        vec!["read_stock".to_owned()],
        "the subscription is narrowed"
    );
    let cutoffs = c.token_cutoffs_of(WEB).await.unwrap();
    assert!(
        cutoffs.iter().any(|x| x.scope.as_deref() == Some("write_stock")),
        "issued tokens lose the withdrawn scope: {cutoffs:?}"
    );
    let audit = c.recent_audit(None, 100).await.unwrap();
    let narrowed = audit
        .iter()
        .find(|a| a.entry.action == "subscription.updated" && a.entry.target == format!("integration:{}", web.id))
        .expect("Web's audit trail records the narrowing");
    assert_eq!(narrowed.entry.details["reason"], "service_changed");
    assert_eq!(
        narrowed.entry.details["withdrawn_scopes"],
        serde_json::json!(["write_stock"])
    );
    drop(c);
    let events = journal(&store).await;
    let changed = events
        .iter()
        .find(|(t, d)| t == "gatehouse.subscription.changed" && d["client_id"] == WEB)
        .unwrap_or_else(|| panic!("subscribers hear of the narrowed subscription: {events:?}"));
    assert_eq!(changed.1["scopes"], serde_json::json!(["read_stock"]));
    // Nothing differs on a second run.
    assert!(
        apply_text(&store, &file(r#"["read_stock"]"#, false, "developer"))
            .await
            .unwrap()
            .is_unchanged()
    );
}

#[tokio::test]
async fn apply_disabling_an_account_ends_its_sessions_and_tokens() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = file(r#"["read_stock", "write_stock"]"#, true, "developer");
    apply_text(&store, &text).await.unwrap();
    let mut c = store.conn().await.unwrap();
    let account = c
        .account_by_email(&Email::parse("dev@acme.test").unwrap())
        .await
        .unwrap()
        .unwrap();
    let t = now();
    c.insert_session(&Session {
        id_digest: "session-digest".into(),
        account_id: account.id.clone(),
        auth_methods: vec![AuthMethod::Password],
        auth_time: t,
        created_at: t,
        last_seen_at: t,
        expires_at: t + 3_600,
        ip: None,
        user_agent: None,
    })
    .await
    .unwrap();
    c.insert_refresh_token(&RefreshTokenRecord {
        digest: "refresh-digest".into(),
        family_id: "family".into(),
        client_id: WEB.into(),
        account_id: Some(account.id.clone()),
        scope: "openid offline_access".into(),
        auth_time: Some(t),
        amr: vec!["pwd".into()],
        created_at: t,
        expires_at: t + 86_400,
        rotated_at: None,
        revoked_at: None,
    })
    .await
    .unwrap();
    drop(c);

    let disabled = text.replace(
        "email = \"dev@acme.test\"\n",
        "email = \"dev@acme.test\"\ndisabled = true\n",
    );
    apply_text(&store, &disabled).await.unwrap();
    let mut c = store.conn().await.unwrap();
    assert!(
        c.sessions_of_account(&account.id).await.unwrap().is_empty(),
        "its sessions end"
    );
    let refresh = c.refresh_token_by_digest("refresh-digest").await.unwrap().unwrap();
    assert!(refresh.revoked_at.is_some(), "its refresh tokens are revoked");
    let since = c.revoked_access_tokens_since(0, now()).await.unwrap();
    assert!(
        since
            .iter()
            .any(|r| r.0.starts_with(&format!("account:{}:", account.id))),
        "a deny-list marker ends the access tokens issued to it: {since:?}"
    );
    let audit = c.recent_audit(None, 100).await.unwrap();
    let entry = audit
        .iter()
        .find(|a| a.entry.action == "account.updated")
        .expect("the change is audited");
    assert_eq!(entry.entry.details["sessions_ended"], 1);
    assert_eq!(entry.entry.details["refresh_tokens_revoked"], 1);
}
