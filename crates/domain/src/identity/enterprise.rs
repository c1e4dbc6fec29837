//! Enterprise accounts: accounts an organization manages. The organization that created one (its
//! admin created it, or the person accepted its invitation as a new account) owns it, and only that
//! organization's admins may disable or re-enable it, reset its password or reset its second
//! factors. A personal account, or one managed by another organization, is its holder's or that
//! organization's business, and each is refused with its own reason.

use crate::{
    DomainError,
    account::{Account, AccountType},
    org::Role,
};

/// What an organization's admin does to one of its enterprise accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// Ends its sessions, refresh tokens and access tokens; it cannot sign in until re-enabled.
    Disable,
    Enable,
    /// Ends its sessions and mails the person a link to choose a new password.
    ResetPassword,
    /// Removes its authenticator app and recovery codes.
    ResetMfa,
}

impl AdminAction {
    /// The audit log's action name.
    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Disable => "account.disabled",
            Self::Enable => "account.enabled",
            Self::ResetPassword => "account.password_reset_by_admin",
            Self::ResetMfa => "account.mfa_reset_by_admin",
        }
    }

    /// Parses the API's and the console's name for the action.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "disable" => Ok(Self::Disable),
            "enable" => Ok(Self::Enable),
            "password-reset" => Ok(Self::ResetPassword),
            "mfa-reset" => Ok(Self::ResetMfa),
            _ => Err(DomainError::new(
                "invalid_action",
                format!("{s:?} is not an account action; use disable, enable, password-reset or mfa-reset"),
            )),
        }
    }
}

/// May an actor with `actor_role` in organization `org_id` (their own account is `actor_id`) do
/// `action` to `target`?
pub fn check_admin_action(
    org_id: &str,
    actor_id: &str,
    actor_role: Option<Role>,
    target: &Account,
    action: AdminAction,
) -> Result<(), DomainError> {
    if actor_role != Some(Role::Admin) {
        return Err(DomainError::new(
            "admin_required",
            "Only an admin of this organization can manage its enterprise accounts.",
        ));
    }
    if target.account_type == AccountType::Personal {
        return Err(DomainError::new(
            "personal_account",
            // No email here: the refusal must not tell an admin of one organization who holds an
            // account outside it.
            "This is a personal account: only its holder can change its password, second factors or status.",
        ));
    }
    if target.owner_org_id.as_deref() != Some(org_id) {
        return Err(DomainError::new(
            "managed_by_another_organization",
            "This account is managed by another organization; only that organization's admins can manage it.",
        ));
    }
    if target.id == actor_id && action == AdminAction::Disable {
        return Err(DomainError::new(
            "cannot_disable_yourself",
            "You cannot disable your own account. Ask another admin of this organization.",
        ));
    }
    match (action, target.disabled) {
        (AdminAction::Disable, true) => Err(DomainError::new(
            "already_disabled",
            format!("{} is disabled already.", target.email),
        )),
        (AdminAction::Enable, false) => Err(DomainError::new(
            "not_disabled",
            format!("{} is not disabled.", target.email),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Email;

    fn acc(id: &str, t: AccountType, owner: Option<&str>, disabled: bool) -> Account {
        Account {
            id: id.into(),
            email: Email::parse(&format!("{id}@example.com")).unwrap(),
            account_type: t,
            display_name: String::new(),
            given_name: String::new(),
            family_name: String::new(),
            country: String::new(),
            email_verified: true,
            password_hash: None,
            operator: false,
            disabled,
            owner_org_id: owner.map(str::to_owned),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn code(r: Result<(), DomainError>) -> &'static str {
        r.err().map_or("ok", |e| e.code)
    }

    #[test]
    fn only_the_owning_orgs_admins_manage_an_enterprise_account() {
        let e = acc("e", AccountType::Enterprise, Some("org-a"), false);
        let admin = Some(Role::Admin);
        assert_eq!(
            code(check_admin_action("org-a", "ann", admin, &e, AdminAction::Disable)),
            "ok"
        );
        assert_eq!(
            code(check_admin_action(
                "org-a",
                "dev",
                Some(Role::Developer),
                &e,
                AdminAction::ResetMfa
            )),
            "admin_required"
        );
        assert_eq!(
            code(check_admin_action("org-a", "x", None, &e, AdminAction::ResetPassword)),
            "admin_required"
        );
        assert_eq!(
            code(check_admin_action("org-b", "bob", admin, &e, AdminAction::Disable)),
            "managed_by_another_organization"
        );
        let p = acc("p", AccountType::Personal, None, false);
        assert_eq!(
            code(check_admin_action(
                "org-a",
                "ann",
                admin,
                &p,
                AdminAction::ResetPassword
            )),
            "personal_account"
        );
        let orphan = acc("o", AccountType::Enterprise, None, false);
        assert_eq!(
            code(check_admin_action("org-a", "ann", admin, &orphan, AdminAction::Disable)),
            "managed_by_another_organization"
        );
    }

    #[test]
    fn refusals_about_accounts_outside_the_organization_do_not_name_them() {
        let admin = Some(Role::Admin);
        let elsewhere = acc("e", AccountType::Enterprise, Some("org-a"), false);
        let personal = acc("p", AccountType::Personal, None, false);
        for target in [&elsewhere, &personal] {
            let Err(e) = check_admin_action("org-b", "bob", admin, target, AdminAction::ResetPassword) else {
                unreachable!("an account outside org-b is refused")
            };
            assert!(!e.message.contains(target.email.as_str()), "{}", e.message);
        }
    }

    #[test]
    fn state_changes_must_change_something_and_admins_cannot_lock_themselves_out() {
        let me = acc("ann", AccountType::Enterprise, Some("org-a"), false);
        let admin = Some(Role::Admin);
        assert_eq!(
            code(check_admin_action("org-a", "ann", admin, &me, AdminAction::Disable)),
            "cannot_disable_yourself"
        );
        assert_eq!(
            code(check_admin_action("org-a", "ann", admin, &me, AdminAction::ResetMfa)),
            "ok"
        );
        assert_eq!(
            code(check_admin_action("org-a", "bob", admin, &me, AdminAction::Enable)),
            "not_disabled"
        );
        let off = acc("e", AccountType::Enterprise, Some("org-a"), true);
        assert_eq!(
            code(check_admin_action("org-a", "bob", admin, &off, AdminAction::Disable)),
            "already_disabled"
        );
        assert_eq!(
            code(check_admin_action("org-a", "bob", admin, &off, AdminAction::Enable)),
            "ok"
        );
        assert_eq!(AdminAction::parse("mfa-reset").unwrap(), AdminAction::ResetMfa);
        assert_eq!(AdminAction::parse("delete").unwrap_err().code, "invalid_action");
    }
}
