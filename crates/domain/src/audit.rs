//! The audit trail: who did what, to what, when and from where. Append-only; written in the same
//! transaction as the change it describes.

use crate::Timestamp;

/// Who acted. Rendered into the `actor` column as `kind:id` (e.g. `account:…`, `cli:apply`, `system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Account(String),
    Integration(String),
    Cli(&'static str),
    System,
}

impl Actor {
    pub fn render(&self) -> String {
        match self {
            Self::Account(id) => format!("account:{id}"),
            Self::Integration(id) => format!("integration:{id}"),
            Self::Cli(cmd) => format!("cli:{cmd}"),
            Self::System => "system".to_owned(),
        }
    }
}

/// One audit record, before it is stored. `action` is a stable dotted code such as
/// `integration.created`; `target` names the object (`integration:<id>`).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub org_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn new(at: Timestamp, actor: &Actor, action: &str, target: impl Into<String>) -> Self {
        Self {
            at,
            actor: actor.render(),
            action: action.to_owned(),
            target: target.into(),
            org_id: None,
            ip: None,
            user_agent: None,
            details: serde_json::Value::Null,
        }
    }

    pub fn org(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    pub fn from_client(mut self, ip: Option<String>, user_agent: Option<String>) -> Self {
        self.ip = ip;
        self.user_agent = user_agent;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// Which audit records to read: every filter left `None` matches everything. Newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The rendered actor (`account:<id>`, `integration:<id>`, `cli:apply`, `system`).
    pub actor: Option<String>,
    pub org_id: Option<String>,
    /// The rendered target (`integration:<id>`, `account:<id>`, …).
    pub target: Option<String>,
    /// An action (`integration.created`) or a family of actions (`integration`, matching
    /// `integration.*`).
    pub action: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<Timestamp>,
    /// Entries before this instant.
    pub until: Option<Timestamp>,
    /// Entries with a smaller ID than this one (the next page of a listing).
    pub before_id: Option<i64>,
    pub limit: i64,
}
