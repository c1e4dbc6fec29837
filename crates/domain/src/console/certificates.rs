//! A service account's certificates as the console manages them: at most [`MAX_CERTIFICATES`]
//! active at once (so keys can rotate), no certificate twice, only on service accounts; and the
//! expiry notices sent [`EXPIRY_NOTICE_DAYS`] days before a certificate expires.
//!
//! Parsing and judging one certificate on its own (key type, size, validity) is
//! [`crate::certificate`]'s job.

use rand::RngCore;

use crate::{
    DomainError, Timestamp,
    certificate::Certificate,
    ids::new_row_id,
    integration::{Integration, IntegrationType, MAX_CERTIFICATES, StoredCertificate},
};

/// Days before expiry at which a notice is due, most distant first.
pub const EXPIRY_NOTICE_DAYS: [i64; 3] = [30, 7, 1];

const DAY: i64 = 86_400;

pub fn active(certs: &[StoredCertificate]) -> impl Iterator<Item = &StoredCertificate> {
    certs.iter().filter(|c| c.revoked_at.is_none())
}

/// Does `integration` have certificates at all? Only service accounts do.
pub fn check_type(integration: &Integration) -> Result<(), DomainError> {
    if integration.integration_type == IntegrationType::ServiceAccount {
        Ok(())
    } else {
        Err(DomainError::new(
            "no_certificates",
            "Only Service Account (JWT) integrations have public key certificates; an OAuth Server-to-Server \
             integration authenticates with its client secret.",
        ))
    }
}

/// Is there room for one more certificate on `integration`, which has `existing` (revoked included)?
pub fn check_room(integration: &Integration, existing: &[StoredCertificate]) -> Result<(), DomainError> {
    check_type(integration)?;
    if active(existing).count() >= MAX_CERTIFICATES {
        return Err(DomainError::new(
            "too_many_certificates",
            format!(
                "A service account has at most {MAX_CERTIFICATES} certificates at once. Remove one you no longer use \
                 before adding another."
            ),
        ));
    }
    Ok(())
}

/// May `cert` be added to `integration`, which has the certificates `existing` (revoked included)?
pub fn check_add(
    integration: &Integration,
    existing: &[StoredCertificate],
    cert: &Certificate,
) -> Result<(), DomainError> {
    check_type(integration)?;
    if let Some(same) = existing.iter().find(|c| c.fingerprint == cert.fingerprint) {
        let why = if same.revoked_at.is_some() {
            "was removed from this integration; a removed key is not used again — generate a new key pair"
        } else {
            "is already on this integration"
        };
        return Err(DomainError::new(
            "certificate_duplicate",
            format!("This certificate (SHA-256 fingerprint {}) {why}.", cert.fingerprint),
        ));
    }
    check_room(integration, existing)
}

/// The row to store for `cert` on `integration_id`.
pub fn to_stored(
    cert: &Certificate,
    integration_id: &str,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> StoredCertificate {
    StoredCertificate {
        id: new_row_id(rng),
        integration_id: integration_id.to_owned(),
        fingerprint: cert.fingerprint.clone(),
        pem: cert.pem.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        created_at: now,
        revoked_at: None,
    }
}

/// The expiry notice due at `now` for a certificate expiring at `not_after`, given the notices
/// already `sent` (in days): the most urgent threshold reached, unless it was sent. A check that
/// runs late sends only the most urgent notice, not every one it missed. `None` once expired.
pub fn due_notice(not_after: Timestamp, now: Timestamp, sent: &[i64]) -> Option<i64> {
    if now >= not_after {
        return None;
    }
    let due = EXPIRY_NOTICE_DAYS
        .iter()
        .copied()
        .filter(|d| now >= not_after - d * DAY)
        .min()?;
    // A more urgent notice already sent covers this one.
    (!sent.iter().any(|s| *s <= due)).then_some(due)
}

/// Whole days left until `not_after`, rounded up (for messages).
pub fn days_left(not_after: Timestamp, now: Timestamp) -> i64 {
    ((not_after - now).max(0) + DAY - 1) / DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_at_30_7_and_1_days_each_once() {
        let exp = 100 * DAY;
        assert_eq!(due_notice(exp, exp - 31 * DAY, &[]), None);
        assert_eq!(due_notice(exp, exp - 30 * DAY, &[]), Some(30));
        assert_eq!(due_notice(exp, exp - 20 * DAY, &[30]), None);
        assert_eq!(due_notice(exp, exp - 7 * DAY, &[30]), Some(7));
        assert_eq!(due_notice(exp, exp - 3 * DAY, &[30, 7]), None);
        assert_eq!(due_notice(exp, exp - DAY + 5, &[30, 7]), Some(1));
        assert_eq!(due_notice(exp, exp - 60, &[30, 7, 1]), None);
        assert_eq!(due_notice(exp, exp, &[]), None);
        // A late first check sends only the most urgent notice, and then nothing more.
        assert_eq!(due_notice(exp, exp - 5 * DAY, &[]), Some(7));
        assert_eq!(due_notice(exp, exp - 5 * DAY, &[7]), None);
        assert_eq!(due_notice(exp, exp - 10 * DAY, &[7]), None);
        assert_eq!(days_left(exp, exp - 5 * DAY + 1), 5);
        assert_eq!(days_left(exp, exp + 1), 0);
    }
}
