//! What the hosted sign-in keeps in memory on each node: the sign-in throttles (per account and
//! per IP; see `gatehouse_domain::identity::throttle` — limits are per node) and a password hash
//! to verify against when an email is unknown, so unknown and known emails take the same time.

use std::sync::{Mutex, OnceLock};

use gatehouse_domain::{
    Timestamp,
    identity::throttle::{Throttle, ThrottlePolicy},
    password,
};

pub struct IdentityRuntime {
    accounts: Mutex<Throttle>,
    ips: Mutex<Throttle>,
    dummy_hash: OnceLock<String>,
}

impl Default for IdentityRuntime {
    fn default() -> Self {
        Self {
            accounts: Mutex::new(Throttle::new(ThrottlePolicy::ACCOUNT)),
            ips: Mutex::new(Throttle::new(ThrottlePolicy::IP)),
            dummy_hash: OnceLock::new(),
        }
    }
}

/// Which throttle a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    Account,
    Ip,
}

impl IdentityRuntime {
    fn throttle(&self, kind: ThrottleKind) -> &Mutex<Throttle> {
        match kind {
            ThrottleKind::Account => &self.accounts,
            ThrottleKind::Ip => &self.ips,
        }
    }

    /// `Err(seconds)` when the key must wait before another attempt.
    pub fn check(&self, kind: ThrottleKind, key: &str, now: Timestamp) -> Result<(), i64> {
        match self.throttle(kind).lock() {
            Ok(t) => t.check(key, now),
            Err(poisoned) => poisoned.into_inner().check(key, now),
        }
    }

    /// Records a failure; returns the count now held.
    pub fn fail(&self, kind: ThrottleKind, key: &str, now: Timestamp) -> u32 {
        match self.throttle(kind).lock() {
            Ok(mut t) => t.record_failure(key, now),
            Err(poisoned) => poisoned.into_inner().record_failure(key, now),
        }
    }

    pub fn succeed(&self, kind: ThrottleKind, key: &str) {
        match self.throttle(kind).lock() {
            Ok(mut t) => t.record_success(key),
            Err(poisoned) => poisoned.into_inner().record_success(key),
        }
    }

    /// A hash of a random password with today's parameters, computed once.
    pub fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let pw = gatehouse_domain::secret::random_token_hex(&mut rand::thread_rng());
            password::hash(&pw, &mut rand::thread_rng()).unwrap_or_default()
        })
    }
}
