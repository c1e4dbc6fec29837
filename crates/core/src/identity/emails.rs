//! Issuing one-time links and mailing them: email verification, password reset, invitations.
//! A link's token is stored only as its digest; issuing a new verification or reset link
//! revokes the account's earlier unused ones of the same kind.

use crate::mail::{self, messages};
use gatehouse_domain::{
    account::Account,
    identity::links::{self, LinkPurpose},
};
use gatehouse_store::{OneTimeToken, OneTimeTokenStore, StoreError};

use super::links::link;
use crate::Core;

/// Issues a link for `account` and stores it (on a plain connection: issuing a link changes
/// nothing anyone could see yet). Returns the URL to mail.
async fn issue_account_link(state: &Core, account: &Account, purpose: LinkPurpose) -> Result<String, StoreError> {
    let now = state.now();
    let issued = links::issue(&mut rand::thread_rng(), purpose, now);
    let mut conn = state.store.conn().await?;
    conn.revoke_account_tokens(&account.id, purpose.as_str(), now).await?;
    conn.insert_one_time_token(&OneTimeToken {
        digest: issued.digest,
        purpose: purpose.as_str().to_owned(),
        account_id: Some(account.id.clone()),
        org_id: None,
        payload: serde_json::json!({ "email": account.email.as_str() }),
        created_at: issued.created_at,
        expires_at: issued.expires_at,
        used_at: None,
    })
    .await?;
    Ok(link(state, purpose, &issued.token))
}

pub async fn send_verification(state: &Core, account: &Account) -> Result<(), StoreError> {
    let url = issue_account_link(state, account, LinkPurpose::VerifyEmail).await?;
    mail::send_logged(
        &state.settings.identity,
        messages::verify_email(account.email.as_str(), &url),
    )
    .await;
    Ok(())
}

pub async fn send_password_reset(state: &Core, account: &Account) -> Result<(), StoreError> {
    let url = issue_account_link(state, account, LinkPurpose::PasswordReset).await?;
    mail::send_logged(
        &state.settings.identity,
        messages::password_reset(account.email.as_str(), &url),
    )
    .await;
    Ok(())
}

pub async fn send_already_registered(state: &Core, email: &str) {
    let m = messages::already_registered(
        email,
        &state.settings.url("/signin"),
        &state.settings.url("/password-reset"),
    );
    mail::send_logged(&state.settings.identity, m).await;
}
