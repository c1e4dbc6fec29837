//! The sign-in throttles (per account and per client address; see
//! `gatehouse_domain::identity::throttle`), counted in the database so that every node of a
//! deployment shares them: three nodes allow exactly the attempts one would. Also a password hash
//! to verify against when an email is unknown, so unknown and known emails take the same time.
//!
//! An attempt is counted before the password or code is checked and forgiven when it succeeds:
//! attempts that arrive at the same moment on several nodes take turns on the key's row, so none
//! slips past the limit while another is being checked.

use std::sync::OnceLock;

use gatehouse_domain::{Timestamp, identity::throttle::ThrottlePolicy, password};
use gatehouse_store::{StoreError, ThrottleStore};

use crate::{Core, identity::accounts::OpResult};

/// How the throttle rows name an account's (or a second-factor step's) key and a client address.
const ACCOUNT: &str = "account";
const ADDRESS: &str = "ip";

#[derive(Default)]
pub struct IdentityRuntime {
    dummy_hash: OnceLock<String>,
}

impl IdentityRuntime {
    /// A hash of a random password with today's parameters, computed once.
    pub fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let pw = gatehouse_domain::secret::random_token_hex(&mut rand::thread_rng());
            password::hash(&pw, &mut rand::thread_rng()).unwrap_or_default()
        })
    }
}

/// Counts an attempt for the account key (`account_key`: an email, or `mfa:<account>` for a
/// second-factor step) from `address`. `Ok(Ok(n))`: go on; `n` is the account key's failures
/// if this attempt fails. `Ok(Err(seconds))`: wait first (nothing was counted).
pub async fn begin_attempt(
    state: &Core,
    account_key: &str,
    address: &str,
    now: Timestamp,
) -> OpResult<Result<u32, i64>> {
    let mut tx = state.store.begin().await?;
    let account = tx.lock_throttle(ACCOUNT, account_key).await?;
    let from = tx.lock_throttle(ADDRESS, address).await?;
    let decided = (
        ThrottlePolicy::ACCOUNT.admit(account, now),
        ThrottlePolicy::IP.admit(from, now),
    );
    match decided {
        (Ok(n), Ok(m)) => {
            tx.set_throttle(ACCOUNT, account_key, n, now).await?;
            tx.set_throttle(ADDRESS, address, m, now).await?;
            tx.commit_unaudited().await?;
            Ok(Ok(n))
        }
        (Err(a), Err(b)) => Ok(Err(a.max(b))),
        (Err(wait), _) | (_, Err(wait)) => Ok(Err(wait)),
    }
}

/// The attempt succeeded: the account key is forgiven, and the address's count loses the
/// attempt it was charged (people behind one address who sign in fine are never slowed down).
pub async fn succeeded(state: &Core, account_key: &str, address: &str) -> OpResult<()> {
    let mut conn = state.store.conn().await?;
    conn.clear_throttle(ACCOUNT, account_key).await?;
    conn.forgive_throttle(ADDRESS, address).await?;
    Ok(())
}

/// Deletes counts no policy remembers any more (their last failure is older than the longest
/// `forget_after`).
pub async fn purge(state: &Core, now: Timestamp) -> Result<u64, StoreError> {
    let longest = ThrottlePolicy::ACCOUNT
        .forget_after
        .max(ThrottlePolicy::IP.forget_after);
    state.store.conn().await?.purge_throttles(now - longest).await
}

/// Which throttle a key belongs to, for flows that check and record separately (passkeys, whose
/// assertions cannot be guessed: there the throttle only slows down a broken authenticator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    Account,
    Ip,
}

impl ThrottleKind {
    fn row(self) -> (&'static str, ThrottlePolicy) {
        match self {
            Self::Account => (ACCOUNT, ThrottlePolicy::ACCOUNT),
            Self::Ip => (ADDRESS, ThrottlePolicy::IP),
        }
    }
}

/// `Ok(Err(seconds))` when the key must wait before another attempt.
pub async fn check(state: &Core, kind: ThrottleKind, key: &str, now: Timestamp) -> OpResult<Result<(), i64>> {
    let (name, policy) = kind.row();
    let count = state.store.conn().await?.throttle(name, key).await?;
    Ok(policy.admit(count, now).map(|_| ()))
}

/// Records a failure; returns the count now held.
pub async fn fail(state: &Core, kind: ThrottleKind, key: &str, now: Timestamp) -> OpResult<u32> {
    let (name, policy) = kind.row();
    let mut tx = state.store.begin().await?;
    let n = match tx.lock_throttle(name, key).await? {
        Some((n, last)) if now - last < policy.forget_after => n.saturating_add(1),
        _ => 1,
    };
    tx.set_throttle(name, key, n, now).await?;
    tx.commit_unaudited().await?;
    Ok(n)
}

/// A success clears the key.
pub async fn succeed(state: &Core, kind: ThrottleKind, key: &str) -> OpResult<()> {
    let (name, _) = kind.row();
    state.store.conn().await?.clear_throttle(name, key).await?;
    Ok(())
}
