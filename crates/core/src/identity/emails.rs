//! Issuing one-time links and mailing them: email verification, password reset, invitations.
//! A link's token is stored only as its digest; issuing a new verification or reset link
//! revokes the account's earlier unused ones of the same kind.
//!
//! Every message is first counted against the mail limits ([`admit`]): per recipient and per
//! client address, in the database so that the limits hold across nodes. A message over a limit
//! is not sent, and no link is issued for it (so a flood of requests cannot revoke the link the
//! person is about to open); the request is answered as if it had been sent.

use crate::mail::{self, Mail, messages};
use gatehouse_domain::{
    account::Account,
    identity::links::{self, LinkPurpose},
};
use gatehouse_store::{MailQuotaStore, OneTimeToken, OneTimeTokenStore, StoreError};

use super::links::link;
use crate::{ClientInfo, Core};

/// Counts one message to `to`, caused by `client`, against the limits of `[mail_limits]`; false
/// when it would exceed one of them. Counted whether or not it is then sent, so a refused flood
/// stays refused until its window ends.
pub async fn admit(state: &Core, to: &str, client: &ClientInfo) -> Result<bool, StoreError> {
    let limits = state.settings.identity.mail_limits;
    let window = limits.window.max(1);
    let now = state.now();
    let start = now - now.rem_euclid(window);
    let mut conn = state.store.conn().await?;
    let mut admitted = true;
    let keys = [
        (limits.per_recipient, Some(format!("to:{}", to.to_lowercase()))),
        (limits.per_client, client.ip.as_ref().map(|ip| format!("ip:{ip}"))),
    ];
    for (limit, key) in keys {
        let (Some(key), true) = (key, limit > 0) else {
            continue;
        };
        if conn.count_mail(&key, start).await? > i64::from(limit) {
            admitted = false;
        }
    }
    if !admitted {
        tracing::warn!(key = %format!("to:{to}"), client = ?client.ip, "mail limit reached; the message is not sent");
    }
    Ok(admitted)
}

/// Sends `mail` in the background when the limits admit it; returns whether they did.
pub async fn deliver(state: &Core, mail: Mail, client: &ClientInfo) -> Result<bool, StoreError> {
    if !admit(state, &mail.to, client).await? {
        return Ok(false);
    }
    mail::send_logged(&state.settings.identity, mail);
    Ok(true)
}

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

pub async fn send_verification(state: &Core, account: &Account, client: &ClientInfo) -> Result<(), StoreError> {
    if !admit(state, account.email.as_str(), client).await? {
        return Ok(());
    }
    let url = issue_account_link(state, account, LinkPurpose::VerifyEmail).await?;
    mail::send_logged(
        &state.settings.identity,
        messages::verify_email(account.email.as_str(), &url),
    );
    Ok(())
}

pub async fn send_password_reset(state: &Core, account: &Account, client: &ClientInfo) -> Result<(), StoreError> {
    if !admit(state, account.email.as_str(), client).await? {
        return Ok(());
    }
    let url = issue_account_link(state, account, LinkPurpose::PasswordReset).await?;
    mail::send_logged(
        &state.settings.identity,
        messages::password_reset(account.email.as_str(), &url),
    );
    Ok(())
}

pub async fn send_already_registered(state: &Core, email: &str, client: &ClientInfo) -> Result<(), StoreError> {
    let m = messages::already_registered(
        email,
        &state.settings.url("/signin"),
        &state.settings.url("/password-reset"),
    );
    deliver(state, m, client).await?;
    Ok(())
}
