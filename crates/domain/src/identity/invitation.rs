//! Invitations: an organization admin invites an email address with a role. The invitation is a
//! one-time link ([`super::links`]) whose stored payload is an [`Invitation`]; accepting it works
//! once, before it expires, and only for the invited address.

use crate::{DomainError, account::Email, org::Role};

/// What an invitation link grants, stored as its payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invitation {
    pub email: Email,
    pub role: Role,
    /// Account ID of the admin who sent it.
    pub invited_by: String,
}

impl Invitation {
    pub fn to_payload(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    pub fn from_payload(v: &serde_json::Value) -> Result<Self, DomainError> {
        serde_json::from_value(v.clone())
            .map_err(|e| DomainError::new("invalid_invitation", format!("the invitation is unreadable: {e}")))
    }

    /// May the account with `email` accept it? Only the invited address may.
    pub fn check_recipient(&self, email: &Email) -> Result<(), DomainError> {
        if &self.email == email {
            Ok(())
        } else {
            Err(DomainError::new(
                "invitation_for_another_address",
                format!(
                    "This invitation was sent to {}. Sign in as that address to accept it.",
                    self.email
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_only_the_invitee_may_accept() {
        let inv = Invitation {
            email: Email::parse("new@example.com").unwrap(),
            role: Role::Developer,
            invited_by: "acc-1".into(),
        };
        let back = Invitation::from_payload(&inv.to_payload()).unwrap();
        assert_eq!(back, inv);
        assert!(inv.check_recipient(&Email::parse("NEW@example.com").unwrap()).is_ok());
        assert_eq!(
            inv.check_recipient(&Email::parse("other@example.com").unwrap())
                .unwrap_err()
                .code,
            "invitation_for_another_address"
        );
        assert_eq!(
            Invitation::from_payload(&serde_json::json!({"email": "x"}))
                .unwrap_err()
                .code,
            "invalid_invitation"
        );
    }
}
