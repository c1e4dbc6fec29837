//! Client-secret rotation: an integration has at most [`MAX_ACTIVE_SECRETS`] active secrets (the
//! current one and the one being rotated out). Rotating is "add a new secret", deploy it, then
//! "revoke the old one". The last active secret cannot be revoked: add its successor first.
//!
//! A secret may be given an expiry when it is added: from then on it authenticates no more
//! ([`crate::token::client_auth`]), and it no longer counts as active (so its successor can be
//! added). An expired secret may still be revoked, to tidy the list.
//!
//! A secret's plain text exists only in the [`NewSecret`] returned when it is made, to be shown
//! once; only its SHA-256 digest and a four-character hint are stored.

use rand::RngCore;

use crate::{
    DomainError, Timestamp,
    ids::new_row_id,
    integration::{Integration, MAX_ACTIVE_SECRETS, StoredSecret},
    secret,
};

/// A freshly made secret: the plain text (shown once) and what is stored. `Debug` hides the secret.
pub struct NewSecret {
    pub plaintext: String,
    pub stored: StoredSecret,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("plaintext", &"<redacted>")
            .field("stored", &self.stored)
            .finish()
    }
}

/// The latest expiry a secret may be given: 10 years ahead, in seconds.
pub const MAX_SECRET_LIFETIME: Timestamp = 10 * 366 * 86_400;

/// Makes a secret for the integration `integration_id`, expiring at `expires_at` (`None`: never).
pub fn new_secret(
    integration_id: &str,
    now: Timestamp,
    expires_at: Option<Timestamp>,
    rng: &mut impl RngCore,
) -> NewSecret {
    let plaintext = secret::new_client_secret(rng);
    let stored = StoredSecret {
        id: new_row_id(rng),
        integration_id: integration_id.to_owned(),
        digest: secret::digest(&plaintext),
        hint: secret::hint(&plaintext),
        created_at: now,
        revoked_at: None,
        expires_at,
        last_used_at: None,
    };
    NewSecret { plaintext, stored }
}

/// The secrets active at `now`: not revoked, not expired.
pub fn active(secrets: &[StoredSecret], now: Timestamp) -> impl Iterator<Item = &StoredSecret> {
    secrets
        .iter()
        .filter(move |s| s.revoked_at.is_none() && !s.is_expired_at(now))
}

/// Checks a requested expiry: in the future, and at most [`MAX_SECRET_LIFETIME`] ahead.
pub fn check_expiry(expires_at: Option<Timestamp>, now: Timestamp) -> Result<(), DomainError> {
    match expires_at {
        Some(e) if e <= now => Err(DomainError::new(
            "expiry_in_the_past",
            "A client secret's expiry must be in the future.",
        )),
        Some(e) if e - now > MAX_SECRET_LIFETIME => Err(DomainError::new(
            "expiry_too_far",
            "A client secret's expiry must be at most 10 years ahead; leave it empty for a secret that does not \
             expire.",
        )),
        _ => Ok(()),
    }
}

/// Adds a secret expiring at `expires_at` (`None`: never) to `integration`, which has `existing`
/// secrets.
pub fn add(
    integration: &Integration,
    existing: &[StoredSecret],
    now: Timestamp,
    expires_at: Option<Timestamp>,
    rng: &mut impl RngCore,
) -> Result<NewSecret, DomainError> {
    if !integration.has_secret() {
        return Err(DomainError::new(
            "no_client_secret",
            "This integration has no client secret: API Key integrations and public OAuth clients (spa, native) \
             authenticate without one.",
        ));
    }
    check_expiry(expires_at, now)?;
    if active(existing, now).count() >= MAX_ACTIVE_SECRETS {
        return Err(DomainError::new(
            "too_many_secrets",
            format!(
                "An integration has at most {MAX_ACTIVE_SECRETS} active client secrets. Revoke the old one once your \
                 clients use the new one, then add another."
            ),
        ));
    }
    Ok(new_secret(&integration.id, now, expires_at, rng))
}

/// May the secret `secret_id` be revoked at `now`? Any unrevoked one may, except the last active
/// one (an expired secret may always be revoked).
pub fn check_revoke(existing: &[StoredSecret], secret_id: &str, now: Timestamp) -> Result<(), DomainError> {
    let Some(target) = existing.iter().find(|s| s.id == secret_id && s.revoked_at.is_none()) else {
        return Err(DomainError::new(
            "secret_not_found",
            "There is no such client secret on this integration, or it was revoked already.",
        ));
    };
    if !target.is_expired_at(now) && active(existing, now).count() == 1 {
        return Err(DomainError::new(
            "last_secret",
            "This is the integration's only active client secret. Add a new one and update your clients before \
             revoking it, or the integration cannot authenticate.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ids::ClientId,
        integration::{IntegrationStatus, IntegrationType, Owner},
    };
    use rand::{SeedableRng, rngs::StdRng};

    fn sa() -> Integration {
        Integration {
            id: "i1".into(),
            client_id: ClientId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            name: "x".into(),
            description: String::new(),
            integration_type: IntegrationType::ServiceAccount,
            platform: None,
            owner: Owner::Organization("o".into()),
            created_by: None,
            redirect_uri: None,
            redirect_patterns: vec![],
            technical_account_id: None,
            technical_account_email: None,
            id_token_signed_response_alg: None,
            may_introspect: false,
            allowed_domains: Vec::new(),
            workspace_id: "w".into(),
            status: IntegrationStatus::Active,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn rotation_keeps_at_most_two_and_never_zero() {
        let rng = &mut StdRng::seed_from_u64(9);
        let i = sa();
        let first = add(&i, &[], 1, None, rng).unwrap();
        assert!(secret::matches_digest(&first.plaintext, &first.stored.digest));
        assert!(!format!("{first:?}").contains(&first.plaintext));
        let mut all = vec![first.stored.clone()];
        assert_eq!(check_revoke(&all, &first.stored.id, 1).unwrap_err().code, "last_secret");
        let second = add(&i, &all, 2, None, rng).unwrap();
        all.push(second.stored.clone());
        assert_eq!(add(&i, &all, 3, None, rng).unwrap_err().code, "too_many_secrets");
        assert!(check_revoke(&all, &first.stored.id, 3).is_ok());
        all[0].revoked_at = Some(4);
        assert_eq!(
            check_revoke(&all, &first.stored.id, 4).unwrap_err().code,
            "secret_not_found"
        );
        assert!(add(&i, &all, 5, None, rng).is_ok());
    }

    #[test]
    fn an_expired_secret_is_no_longer_active() {
        let rng = &mut StdRng::seed_from_u64(3);
        let i = sa();
        let short = add(&i, &[], 10, Some(100), rng).unwrap();
        assert_eq!(short.stored.expires_at, Some(100));
        let lasting = add(&i, std::slice::from_ref(&short.stored), 20, None, rng).unwrap();
        let all = vec![short.stored.clone(), lasting.stored.clone()];
        assert_eq!(add(&i, &all, 99, None, rng).unwrap_err().code, "too_many_secrets");
        // Once the first has expired, a successor may be added and the expired one revoked…
        assert_eq!(active(&all, 100).count(), 1);
        assert!(add(&i, &all, 100, None, rng).is_ok());
        assert!(check_revoke(&all, &short.stored.id, 100).is_ok());
        // …but not the only one still active.
        assert_eq!(
            check_revoke(&all, &lasting.stored.id, 100).unwrap_err().code,
            "last_secret"
        );
    }

    #[test]
    fn an_expiry_is_in_the_future_and_within_ten_years() {
        let rng = &mut StdRng::seed_from_u64(4);
        let i = sa();
        for (at, code) in [(1_000, "expiry_in_the_past"), (999, "expiry_in_the_past")] {
            assert_eq!(add(&i, &[], 1_000, Some(at), rng).unwrap_err().code, code);
        }
        assert_eq!(
            add(&i, &[], 0, Some(MAX_SECRET_LIFETIME + 1), rng).unwrap_err().code,
            "expiry_too_far"
        );
        assert!(add(&i, &[], 0, Some(MAX_SECRET_LIFETIME), rng).is_ok());
    }

    #[test]
    fn api_keys_have_no_secret() {
        let mut i = sa();
        i.integration_type = IntegrationType::ApiKey;
        assert_eq!(
            add(&i, &[], 1, None, &mut StdRng::seed_from_u64(1)).unwrap_err().code,
            "no_client_secret"
        );
    }
}
