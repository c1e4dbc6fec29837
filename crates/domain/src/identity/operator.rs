//! What a Gatehouse operator does to any account from the operator area: disable and re-enable
//! it, reset its password or its second factors, sign it out everywhere. Who is an operator is the
//! policy's business; this module says which of these make sense for the account as it is.

use crate::{DomainError, account::Account};

/// An operator's action on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    /// Ends its sessions, refresh tokens and access tokens; it cannot sign in until re-enabled.
    Disable,
    Enable,
    /// The password stops working at once and the person is mailed a link to choose a new one.
    ResetPassword,
    /// Removes its authenticator app, recovery codes and passkeys; ends its sessions.
    ResetMfa,
    /// Ends its sessions, refresh tokens and access tokens, and nothing else.
    SignOutEverywhere,
}

impl OperatorAction {
    pub const ALL: [Self; 5] = [
        Self::Disable,
        Self::Enable,
        Self::ResetPassword,
        Self::ResetMfa,
        Self::SignOutEverywhere,
    ];

    /// The API's and the pages' name for the action.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::ResetPassword => "password-reset",
            Self::ResetMfa => "mfa-reset",
            Self::SignOutEverywhere => "sign-out",
        }
    }

    /// The audit log's action name.
    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Disable => "account.disabled",
            Self::Enable => "account.enabled",
            Self::ResetPassword => "account.password_reset_by_operator",
            Self::ResetMfa => "account.mfa_reset_by_operator",
            Self::SignOutEverywhere => "account.signed_out_by_operator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            DomainError::new(
                "invalid_action",
                format!("{s:?} is not an account action; use disable, enable, password-reset, mfa-reset or sign-out"),
            )
        })
    }
}

/// May an operator (whose own account is `actor_id`) do `action` to `target` as it is now?
/// Operators cannot disable themselves (the area would lock its last user out); disabling a
/// disabled account or enabling an enabled one is refused so the audit log records real changes.
pub fn check(actor_id: &str, target: &Account, action: OperatorAction) -> Result<(), DomainError> {
    if target.id == actor_id && action == OperatorAction::Disable {
        return Err(DomainError::new(
            "cannot_disable_yourself",
            "You cannot disable your own account. Ask another operator.",
        ));
    }
    match (action, target.disabled) {
        (OperatorAction::Disable, true) => Err(DomainError::new(
            "already_disabled",
            format!("{} is disabled already.", target.email),
        )),
        (OperatorAction::Enable, false) => Err(DomainError::new(
            "not_disabled",
            format!("{} is not disabled.", target.email),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{AccountType, Email};

    fn account(id: &str, disabled: bool) -> Account {
        Account {
            id: id.into(),
            email: Email::parse("ada@example.com").unwrap(),
            account_type: AccountType::Personal,
            display_name: "Ada".into(),
            given_name: String::new(),
            family_name: String::new(),
            country: String::new(),
            email_verified: true,
            password_hash: None,
            operator: false,
            disabled,
            owner_org_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for a in OperatorAction::ALL {
            assert_eq!(OperatorAction::parse(a.as_str()).unwrap(), a);
        }
        assert_eq!(OperatorAction::parse("delete").unwrap_err().code, "invalid_action");
    }

    #[test]
    fn an_operator_cannot_disable_themselves_but_may_sign_themselves_out() {
        let me = account("me", false);
        assert_eq!(
            check("me", &me, OperatorAction::Disable).unwrap_err().code,
            "cannot_disable_yourself"
        );
        assert!(check("me", &me, OperatorAction::SignOutEverywhere).is_ok());
        assert!(check("other", &me, OperatorAction::Disable).is_ok());
    }

    #[test]
    fn only_real_status_changes_are_allowed() {
        assert_eq!(
            check("op", &account("a", true), OperatorAction::Disable)
                .unwrap_err()
                .code,
            "already_disabled"
        );
        assert_eq!(
            check("op", &account("a", false), OperatorAction::Enable)
                .unwrap_err()
                .code,
            "not_disabled"
        );
        assert!(check("op", &account("a", true), OperatorAction::Enable).is_ok());
    }
}
