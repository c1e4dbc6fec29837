//! Accounts: people who sign in. Email is the sign-in identifier (case-insensitive, unique).

use crate::{DomainError, Timestamp};

/// `personal` accounts register themselves; `enterprise` accounts are created and managed by an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Personal,
    Enterprise,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "personal" => Ok(Self::Personal),
            "enterprise" => Ok(Self::Enterprise),
            _ => Err(DomainError::new(
                "invalid_account_type",
                format!("account type {s:?} must be \"personal\" or \"enterprise\""),
            )),
        }
    }
}

/// An email address, normalised to lower case. Deliberately simple: one `@`, a dotted domain,
/// no spaces or control characters, at most 254 characters (RFC 5321's path limit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let bad = |why: &str| DomainError::new("invalid_email", format!("{s:?} is not a valid email address: {why}"));
        if s.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| bad("it has no '@'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before '@' must be 1–64 characters"));
        }
        if domain.contains('@') || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(bad("the domain must look like example.com"));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        {
            return Err(bad("it contains spaces or characters not allowed in an address"));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(v: Email) -> String {
        v.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored account. `operator` marks Gatehouse's own administrators (the first one is created
/// through the one-time bootstrap link); organization roles live in memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub email: Email,
    pub account_type: AccountType,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub operator: bool,
    /// A disabled account cannot sign in; its sessions, refresh tokens and access tokens end.
    pub disabled: bool,
    /// The organization that manages an enterprise account (created by its admin, or by accepting
    /// its invitation as a new account); `None` for personal accounts.
    pub owner_org_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_case_insensitive() {
        assert_eq!(Email::parse(" Admin@Acme.TEST ").unwrap().as_str(), "admin@acme.test");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_reason() {
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c.com.",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().code, "invalid_email", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
