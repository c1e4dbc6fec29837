//! Client-secret rotation: an integration has at most [`MAX_ACTIVE_SECRETS`] active secrets (the
//! current one and the one being rotated out). Rotating is "add a new secret", deploy it, then
//! "revoke the old one". The last active secret cannot be revoked: add its successor first.
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

/// Makes a secret for the integration `integration_id`.
pub fn new_secret(integration_id: &str, now: Timestamp, rng: &mut impl RngCore) -> NewSecret {
    let plaintext = secret::new_client_secret(rng);
    let stored = StoredSecret {
        id: new_row_id(rng),
        integration_id: integration_id.to_owned(),
        digest: secret::digest(&plaintext),
        hint: secret::hint(&plaintext),
        created_at: now,
        revoked_at: None,
    };
    NewSecret { plaintext, stored }
}

pub fn active(secrets: &[StoredSecret]) -> impl Iterator<Item = &StoredSecret> {
    secrets.iter().filter(|s| s.revoked_at.is_none())
}

/// Adds a secret to `integration`, which has `existing` secrets.
pub fn add(
    integration: &Integration,
    existing: &[StoredSecret],
    now: Timestamp,
    rng: &mut impl RngCore,
) -> Result<NewSecret, DomainError> {
    if !integration.has_secret() {
        return Err(DomainError::new(
            "no_client_secret",
            "This integration has no client secret: API Key integrations and public OAuth clients (spa, native) \
             authenticate without one.",
        ));
    }
    if active(existing).count() >= MAX_ACTIVE_SECRETS {
        return Err(DomainError::new(
            "too_many_secrets",
            format!(
                "An integration has at most {MAX_ACTIVE_SECRETS} active client secrets. Revoke the old one once your \
                 clients use the new one, then add another."
            ),
        ));
    }
    Ok(new_secret(&integration.id, now, rng))
}

/// May the secret `secret_id` be revoked?
pub fn check_revoke(existing: &[StoredSecret], secret_id: &str) -> Result<(), DomainError> {
    if !active(existing).any(|s| s.id == secret_id) {
        return Err(DomainError::new(
            "secret_not_found",
            "There is no such active client secret on this integration.",
        ));
    }
    if active(existing).count() == 1 {
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
        let first = add(&i, &[], 1, rng).unwrap();
        assert!(secret::matches_digest(&first.plaintext, &first.stored.digest));
        assert!(!format!("{first:?}").contains(&first.plaintext));
        let mut all = vec![first.stored.clone()];
        assert_eq!(check_revoke(&all, &first.stored.id).unwrap_err().code, "last_secret");
        let second = add(&i, &all, 2, rng).unwrap();
        all.push(second.stored.clone());
        assert_eq!(add(&i, &all, 3, rng).unwrap_err().code, "too_many_secrets");
        assert!(check_revoke(&all, &first.stored.id).is_ok());
        all[0].revoked_at = Some(4);
        assert_eq!(
            check_revoke(&all, &first.stored.id).unwrap_err().code,
            "secret_not_found"
        );
        assert!(add(&i, &all, 5, rng).is_ok());
    }

    #[test]
    fn api_keys_have_no_secret() {
        let mut i = sa();
        i.integration_type = IntegrationType::ApiKey;
        assert_eq!(
            add(&i, &[], 1, &mut StdRng::seed_from_u64(1)).unwrap_err().code,
            "no_client_secret"
        );
    }
}
