//! A short-lived access token minted from the console, to try an integration out (the
//! credentials page's "Generate access token"): the policy decides who may
//! ([`policy::generate_test_token`]), the token service issues it through the client-credentials
//! grant's own issuance ([`grants::for_testing`]), and the audit log records it — its `jti`,
//! scopes and expiry, never the token. The page shows it once.

use gatehouse_domain::Timestamp;
use gatehouse_store::AuditStore;
use serde_json::json;

use super::{OpResult, audit, managed_integration};
use crate::{
    Core,
    console::Caller,
    error::{Error, Kind},
    policy,
    tokens::{grants, service::Failure},
};

/// How long a test token lives, in seconds (less when access tokens are configured to live less).
pub const TEST_TOKEN_LIFETIME: i64 = 300;

/// A test token, to show once.
#[derive(Debug, Clone)]
pub struct TestToken {
    pub access_token: String,
    pub scopes: Vec<String>,
    pub expires_at: Timestamp,
}

fn refused(f: Failure) -> Error {
    match f {
        Failure::Token(e) => Error::new(Kind::Invalid, "token_refused", e.to_string()),
        Failure::Internal(e) => Error::internal(e),
    }
}

/// Mints a test token of the integration `id` for the caller, audited as `access_token.generated`.
pub async fn generate(state: &Core, caller: &Caller, id: &str) -> OpResult<TestToken> {
    let managed = {
        let mut conn = state.store.conn().await?;
        managed_integration(&mut conn, caller, id).await?
    };
    let leave = policy::generate_test_token(&caller.principal, &managed)?;
    let i = leave.integration();
    // Issued before the audit entry's transaction opens: issuing may write (a first signing key),
    // and SQLite has one writer.
    let client = state.tokens.known_client(i.client_id.as_str()).await.map_err(refused)?;
    let issued = grants::for_testing(&state.tokens, &client, TEST_TOKEN_LIFETIME)
        .await
        .map_err(refused)?;
    let mut tx = state.store.begin().await?;
    tx.append_audit(&audit(state, caller, "access_token.generated", i).details(json!({
        "jti": issued.claims.jti,
        "client_id": i.client_id,
        "scopes": issued.scopes,
        "expires_at": issued.claims.exp,
    })))
    .await?;
    tx.commit().await?;
    Ok(TestToken {
        access_token: issued.access_token,
        scopes: issued.scopes,
        expires_at: issued.claims.exp,
    })
}
