//! The signing-key rotation schedule: a pure function of `now` and the stored keys that says which
//! key signs, which keys are published (next, current, previous) and when to create a new one.
//!
//! Each key has four instants (see [`KeySchedule`]):
//!
//! ```text
//!   created_at ──published as "next"──▶ activates_at ──signs──▶ retires_at ──"previous"──▶ expires_at
//! ```
//!
//! A key is created one whole signing period before it signs, so relying parties that cache the
//! JWKS see it long before the first token carries its `kid`; it stays published after retiring
//! for longer than any token it signed lives. Every node runs the same plan over the same rows, so
//! nodes agree without talking; a node that loses a race to create the next key simply sees the
//! winner's key on its next look (the store refuses a second key for the same slot).

use crate::{DomainError, Timestamp};

use super::records::{KeySchedule, StoredSigningKey};

/// How keys rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// How long a key signs, in seconds (default 30 days).
    pub signing_period: i64,
    /// How long a retired key stays published, in seconds (default 2 days). Must exceed the longest
    /// access-token lifetime, so every token can be verified until it expires.
    pub retain_after_retire: i64,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            signing_period: 30 * 86_400,
            retain_after_retire: 2 * 86_400,
        }
    }
}

impl RotationPolicy {
    /// Checks the policy against the longest access-token lifetime configured.
    pub fn validate(&self, max_token_lifetime: i64) -> Result<(), DomainError> {
        if self.signing_period < 3_600 {
            return Err(DomainError::new(
                "invalid_rotation_period",
                "signing keys must sign for at least one hour before rotating",
            ));
        }
        if self.retain_after_retire <= max_token_lifetime {
            return Err(DomainError::new(
                "invalid_key_retention",
                format!(
                    "retired keys must stay published longer than the longest token lifetime ({max_token_lifetime} s)"
                ),
            ));
        }
        Ok(())
    }

    /// The schedule of a key that starts signing at `activates_at`.
    pub fn schedule(&self, created_at: Timestamp, activates_at: Timestamp) -> KeySchedule {
        let retires_at = activates_at.saturating_add(self.signing_period);
        KeySchedule {
            created_at,
            activates_at,
            retires_at,
            expires_at: retires_at.saturating_add(self.retain_after_retire),
        }
    }
}

/// What to do at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPlan {
    /// The key that signs now, if any.
    pub signing: Option<String>,
    /// The keys to publish, newest activation first: next, current, previous.
    pub published: Vec<String>,
    /// A key to create now, with its schedule. After creating it, plan again.
    pub create: Option<KeySchedule>,
    /// When the plan changes next (a key activates, retires or expires), for the caller's timer.
    pub next_change_at: Option<Timestamp>,
}

/// The rotation plan at `now` for the stored keys.
pub fn plan(now: Timestamp, keys: &[StoredSigningKey], policy: &RotationPolicy) -> RotationPlan {
    let sane = |k: &&StoredSigningKey| {
        let s = &k.schedule;
        s.activates_at <= s.retires_at && s.retires_at <= s.expires_at
    };
    let mut live: Vec<&StoredSigningKey> = keys
        .iter()
        .filter(sane)
        .filter(|k| k.schedule.expires_at > now)
        .collect();
    // Newest activation first; the kid breaks ties so every node picks the same key.
    live.sort_by(|a, b| {
        b.schedule
            .activates_at
            .cmp(&a.schedule.activates_at)
            .then_with(|| b.kid.cmp(&a.kid))
    });
    let signing = live
        .iter()
        .find(|k| k.schedule.activates_at <= now && now < k.schedule.retires_at)
        .copied();
    let has_next = live.iter().any(|k| k.schedule.activates_at > now);
    let create = match signing {
        // Nothing may sign (first start, or every key lapsed while Gatehouse was down): a key
        // that signs at once. Relying parties refetch the JWKS when they meet an unknown kid.
        None => Some(policy.schedule(now, now)),
        // The successor takes over exactly when the current key retires.
        Some(cur) if !has_next => Some(policy.schedule(now, cur.schedule.retires_at)),
        Some(_) => None,
    };
    let next_change_at = live
        .iter()
        .flat_map(|k| [k.schedule.activates_at, k.schedule.retires_at, k.schedule.expires_at])
        .filter(|t| *t > now)
        .min();
    RotationPlan {
        signing: signing.map(|k| k.kid.clone()),
        published: live.iter().map(|k| k.kid.clone()).collect(),
        create,
        next_change_at,
    }
}

/// The schedule that takes a compromised key out of service at once: it stops signing and is no
/// longer published, so tokens it signed stop verifying.
pub fn withdraw(schedule: &KeySchedule, now: Timestamp) -> KeySchedule {
    KeySchedule {
        created_at: schedule.created_at,
        activates_at: schedule.activates_at.min(now),
        retires_at: now,
        expires_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::keys::{Jwk, SigningAlg};

    const DAY: i64 = 86_400;

    fn key(kid: &str, s: KeySchedule) -> StoredSigningKey {
        StoredSigningKey {
            kid: kid.into(),
            alg: SigningAlg::ES256,
            private_key_enc: vec![],
            public_jwk: Jwk {
                kty: "EC".into(),
                use_: "sig".into(),
                alg: "ES256".into(),
                kid: kid.into(),
                crv: None,
                x: None,
                y: None,
                n: None,
                e: None,
            },
            schedule: s,
        }
    }

    /// Runs the schedule like a node would: plan, create what it asks for, repeat.
    fn settle(now: Timestamp, keys: &mut Vec<StoredSigningKey>, p: &RotationPolicy) -> RotationPlan {
        for _ in 0..5 {
            let plan = plan(now, keys, p);
            match plan.create {
                Some(s) => keys.push(key(&format!("k{}", keys.len()), s)),
                None => return plan,
            }
        }
        panic!("the plan did not settle");
    }

    #[test]
    fn first_start_creates_a_current_and_a_next_key() {
        let p = RotationPolicy::default();
        let mut keys = vec![];
        let first = plan(1_000, &keys, &p);
        assert_eq!(first.signing, None);
        assert_eq!(first.create, Some(p.schedule(1_000, 1_000)));
        let settled = settle(1_000, &mut keys, &p);
        assert_eq!(settled.signing.as_deref(), Some("k0"));
        assert_eq!(settled.published, vec!["k1", "k0"], "next first, then current");
        assert_eq!(keys[1].schedule.activates_at, keys[0].schedule.retires_at);
        assert_eq!(settled.next_change_at, Some(keys[0].schedule.retires_at));
    }

    #[test]
    fn rotation_publishes_next_current_and_previous() {
        let p = RotationPolicy::default();
        let mut keys = vec![];
        settle(0, &mut keys, &p);
        // Just after the first rotation: k1 signs, k2 is created as next, k0 is still published.
        let t = p.signing_period + 1;
        let plan = settle(t, &mut keys, &p);
        assert_eq!(plan.signing.as_deref(), Some("k1"));
        assert_eq!(plan.published, vec!["k2", "k1", "k0"]);
        // After the retention, k0 is gone.
        let t = p.signing_period + p.retain_after_retire + 1;
        let plan = settle(t, &mut keys, &p);
        assert_eq!(plan.published, vec!["k2", "k1"]);
    }

    #[test]
    fn exactly_at_the_boundary_the_successor_signs() {
        let p = RotationPolicy::default();
        let mut keys = vec![];
        settle(0, &mut keys, &p);
        let boundary = keys[0].schedule.retires_at;
        assert_eq!(plan(boundary - 1, &keys, &p).signing.as_deref(), Some("k0"));
        assert_eq!(plan(boundary, &keys, &p).signing.as_deref(), Some("k1"));
    }

    #[test]
    fn after_a_long_outage_a_fresh_key_signs_at_once() {
        let p = RotationPolicy::default();
        let mut keys = vec![];
        settle(0, &mut keys, &p);
        let much_later = 10 * p.signing_period;
        let plan = plan(much_later, &keys, &p);
        assert_eq!(plan.signing, None);
        assert!(plan.published.is_empty());
        assert_eq!(plan.create.map(|s| s.activates_at), Some(much_later));
    }

    #[test]
    fn nodes_agree_on_the_signer_even_with_duplicate_slots() {
        let p = RotationPolicy::default();
        let s = p.schedule(0, 0);
        let a = vec![key("aaa", s), key("bbb", s)];
        let b = vec![key("bbb", s), key("aaa", s)];
        assert_eq!(plan(10, &a, &p).signing, plan(10, &b, &p).signing);
    }

    #[test]
    fn a_withdrawn_key_neither_signs_nor_is_published() {
        let p = RotationPolicy::default();
        let mut keys = vec![];
        settle(0, &mut keys, &p);
        keys[0].schedule = withdraw(&keys[0].schedule, 5 * DAY);
        let plan = plan(5 * DAY, &keys, &p);
        assert_ne!(plan.signing.as_deref(), Some("k0"));
        assert!(!plan.published.contains(&"k0".to_owned()));
        // The next key was not active yet, so a fresh one is created to sign now.
        assert_eq!(plan.create.map(|s| s.activates_at), Some(5 * DAY));
    }

    #[test]
    fn insane_rows_are_ignored() {
        let p = RotationPolicy::default();
        let bad = KeySchedule {
            created_at: 0,
            activates_at: 100,
            retires_at: 50,
            expires_at: 10,
        };
        assert_eq!(plan(60, &[key("bad", bad)], &p).signing, None);
    }

    #[test]
    fn the_policy_must_outlive_tokens() {
        let p = RotationPolicy::default();
        assert!(p.validate(DAY).is_ok());
        assert_eq!(p.validate(3 * DAY).unwrap_err().code, "invalid_key_retention");
        let short = RotationPolicy {
            signing_period: 60,
            ..p
        };
        assert_eq!(short.validate(DAY).unwrap_err().code, "invalid_rotation_period");
    }
}
