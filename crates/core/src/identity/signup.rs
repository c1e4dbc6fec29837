//! The two requests anyone may make about an address: personal sign-up and asking for a
//! password-reset link. Neither may tell whether the address has an account — not by its answer,
//! and not by its time. So both take the same path either way: sign-up hashes the password
//! before it looks the address up (hashing is most of its time), and the mail either path sends
//! leaves in the background after the limits have counted it.

use gatehouse_domain::{
    account::{Account, AccountType, Email},
    audit::Actor,
    identity::{password_policy, profile::Profile},
    ids::new_row_id,
};
use gatehouse_store::{AccountStore, AuditStore, StoreError};

use super::{accounts::OpResult, audit, emails};
use crate::{ClientInfo, Core, Error};

/// Registers a personal account for `email` (unverified: a link is mailed to confirm it), or,
/// when the address has an account already, mails it a reminder instead. The caller answers
/// "check your inbox" in both cases.
pub async fn sign_up(
    state: &Core,
    email: &Email,
    profile: Profile,
    password: &str,
    client: &ClientInfo,
) -> OpResult<()> {
    password_policy::check_new_password(password, email.as_str()).map_err(|e| Error::from(e).on("password"))?;
    // Hashed whether or not the address is taken: the hash is most of the time a sign-up takes.
    let hash = crate::pools::hashing::hash(password.to_owned())
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    if state.store.conn().await?.account_by_email(email).await?.is_some() {
        emails::send_already_registered(state, email.as_str(), client).await?;
        return Ok(());
    }
    let now = state.now();
    let account = Account {
        id: new_row_id(&mut rand::thread_rng()),
        email: email.clone(),
        account_type: AccountType::Personal,
        display_name: profile.display_name,
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: false,
        password_hash: Some(hash),
        operator: false,
        disabled: false,
        owner_org_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    match tx.insert_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            emails::send_already_registered(state, email.as_str(), client).await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    let entry = audit::entry(
        state,
        &Actor::Account(account.id.clone()),
        "account.created",
        audit::account_target(&account.id),
        client,
    )
    .details(serde_json::json!({ "email": email.as_str(), "type": "personal", "via": "signup" }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    emails::send_verification(state, &account, client).await?;
    Ok(())
}

/// Mails a password-reset link to `email` when it names an enabled account. The caller answers
/// "if an account exists, we have sent it a link" in every case.
pub async fn request_password_reset(state: &Core, email: &Email, client: &ClientInfo) -> OpResult<()> {
    let account = state.store.conn().await?.account_by_email(email).await?;
    match account.filter(|a| !a.disabled) {
        Some(account) => {
            emails::send_password_reset(state, &account, client).await?;
            let entry = audit::entry(
                state,
                &Actor::Account(account.id.clone()),
                "password.reset_requested",
                audit::account_target(&account.id),
                client,
            );
            audit::record(state, &entry).await?;
        }
        None => {
            // The same statements as above but the link itself: the mail limits count the
            // request, and the audit trail records it, so an unknown address costs as much time.
            emails::admit(state, email.as_str(), client).await?;
            let entry = audit::entry(
                state,
                &Actor::System,
                "password.reset_requested",
                format!("email:{}", email.as_str()),
                client,
            )
            .details(serde_json::json!({ "account": false }));
            audit::record(state, &entry).await?;
        }
    }
    Ok(())
}
