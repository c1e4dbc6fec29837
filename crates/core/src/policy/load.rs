//! Building a person's principal from the store: memberships with their organizations'
//! requirements, read once per request.

use gatehouse_domain::account::Account;
use gatehouse_store::{OrgStore, Store, StoreError};

use super::Principal;

/// The principal of `account`; `second_factor` says whether this sign-in used one, `via_client`
/// names the client of a person's access token.
pub async fn person(
    store: &Store,
    account: &Account,
    second_factor: bool,
    via_client: Option<String>,
) -> Result<Principal, StoreError> {
    let mut conn = store.conn().await?;
    let memberships = conn.memberships_of_account(&account.id).await?;
    let mut orgs = Vec::with_capacity(memberships.len());
    for m in &memberships {
        if let Some(o) = conn.org_by_id(&m.org_id).await? {
            orgs.push(o);
        }
    }
    Ok(Principal::person(
        &account.id,
        account.operator,
        &memberships,
        &orgs,
        second_factor,
        via_client,
    ))
}
