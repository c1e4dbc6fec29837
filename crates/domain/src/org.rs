//! Organizations and their members' roles.

use crate::{DomainError, Timestamp, ids::OrgId};

/// A member's role in an organization. Only admins create service accounts and manage members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Developer,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "admin" => Ok(Self::Admin),
            "developer" => Ok(Self::Developer),
            "member" => Ok(Self::Member),
            _ => Err(DomainError::new(
                "invalid_role",
                format!("role {s:?} must be one of \"admin\", \"developer\", \"member\""),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub require_mfa: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub account_id: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// Organization names are shown everywhere; keep them printable and bounded.
pub fn parse_org_name(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(DomainError::new(
            "invalid_org_name",
            "organization name must be 1–100 printable characters",
        ));
    }
    Ok(s.to_owned())
}
