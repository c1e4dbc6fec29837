//! The URLs of the one-time links Gatehouse mails (email verification, password reset, account
//! set-up, invitations).

use gatehouse_domain::identity::links::LinkPurpose;

use crate::Core;

/// The absolute URL of a one-time link with `token`.
pub fn link(state: &Core, purpose: LinkPurpose, token: &str) -> String {
    let path = match purpose {
        LinkPurpose::VerifyEmail => "verify-email",
        LinkPurpose::PasswordReset | LinkPurpose::AccountSetup => "password-reset",
        LinkPurpose::Invitation => "invitations",
    };
    state.settings.url(&format!("/{path}/{token}"))
}
