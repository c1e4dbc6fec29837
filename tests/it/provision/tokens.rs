//! What a file that disables an integration or drops a subscription does to the tokens already
//! issued: the same as the console — a cutoff, refresh tokens revoked, unused codes deleted, and
//! withdrawn scopes cut off.

use gatehouse_domain::{
    account::Email,
    ids::ClientId,
    token::records::{AuthorizationCodeRecord, RefreshTokenRecord},
};
use gatehouse_store::{AccountStore, ConsoleStore, IntegrationStore, TokenStore};

use super::*;
use crate::harness::db::TestDatabase;

const FILE: &str = r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[accounts]]
email = "dev@acme.test"
password = "the first password"
type = "enterprise"
memberships = [{ organization = "Acme", role = "developer" }]

[[services]]
code = "stock_search"
name = "Stock Search"
allowed_types = ["oauth", "service_account", "api_key"]
scopes = ["ent_stocksearch_sdk"]

[[services]]
code = "creative_sdk"
name = "Creative SDK"
allowed_types = ["oauth"]
scopes = ["cc_files"]

[[integrations]]
name = "Web"
type = "oauth"
platform = "web"
organization = "Acme"
client_id = "dddddddddddddddddddddddddddddddd"
client_secret = "first-secret-0123456789"
redirect_uri = "https://app.example.com/cb"
subscriptions = [{ service = "stock_search" }, { service = "creative_sdk" }]
"#;

const CLIENT: &str = "dddddddddddddddddddddddddddddddd";

#[tokio::test]
async fn provision_disabling_ends_grants_and_dropping_a_subscription_cuts_its_scopes() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, FILE).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let account = conn
        .account_by_email(&Email::parse("dev@acme.test").unwrap())
        .await
        .unwrap()
        .unwrap();
    let t = now();
    conn.insert_refresh_token(&RefreshTokenRecord {
        digest: "refresh-digest".into(),
        family_id: "family".into(),
        client_id: CLIENT.into(),
        account_id: Some(account.id.clone()),
        scope: "openid offline_access cc_files".into(),
        auth_time: Some(t),
        amr: vec!["pwd".into()],
        created_at: t,
        expires_at: t + 86_400,
        rotated_at: None,
        revoked_at: None,
    })
    .await
    .unwrap();
    conn.insert_authorization_code(&AuthorizationCodeRecord {
        code_digest: "code-digest".into(),
        client_id: CLIENT.into(),
        account_id: account.id.clone(),
        redirect_uri: "https://app.example.com/cb".into(),
        redirect_uri_sent: true,
        scope: "openid".into(),
        code_challenge: None,
        code_challenge_method: None,
        nonce: None,
        auth_time: t,
        amr: vec![],
        created_at: t,
        expires_at: t + 60,
        consumed_at: None,
        issued_family_id: None,
        issued_jti: None,
    })
    .await
    .unwrap();
    drop(conn);

    // Dropping a subscription cuts its scope off the issued tokens (and only that scope).
    let narrowed = FILE.replace(
        r#"subscriptions = [{ service = "stock_search" }, { service = "creative_sdk" }]"#,
        r#"subscriptions = [{ service = "stock_search" }]"#,
    );
    apply_text(&store, &narrowed).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let cutoffs = conn.token_cutoffs_of(CLIENT).await.unwrap();
    assert_eq!(cutoffs.len(), 1, "{cutoffs:?}");
    assert_eq!(cutoffs[0].scope.as_deref(), Some("cc_files"));
    let refresh = conn.refresh_token_by_digest("refresh-digest").await.unwrap().unwrap();
    assert!(refresh.revoked_at.is_none(), "a scope cut does not end the grant");

    // Disabling ends everything the client holds.
    let disabled = narrowed.replace("name = \"Web\"\n", "name = \"Web\"\nstatus = \"disabled\"\n");
    apply_text(&store, &disabled).await.unwrap();
    let i = conn
        .integration_by_client_id(&ClientId::parse(CLIENT).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(i.status.as_str(), "disabled");
    let cutoffs = conn.token_cutoffs_of(CLIENT).await.unwrap();
    assert!(cutoffs.iter().any(|c| c.scope.is_none()), "{cutoffs:?}");
    let refresh = conn.refresh_token_by_digest("refresh-digest").await.unwrap().unwrap();
    assert!(refresh.revoked_at.is_some(), "the refresh token is revoked");
    let code = conn
        .consume_authorization_code("code-digest", t, "jti", None)
        .await
        .unwrap();
    assert_eq!(code, gatehouse_domain::token::records::CodeConsumption::NotFound);
    // Applying the same file again changes nothing.
    assert!(apply_text(&store, &disabled).await.unwrap().is_unchanged());
}
