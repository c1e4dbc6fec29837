//! The operator's status page: what this node runs (version, database backend, schema), how the
//! webhook dispatcher is doing (backlog, recent attempts, registrations' health), where mail goes,
//! and the signing keys with their rotation schedule. Only what Gatehouse records: it keeps no
//! list of running nodes, so the page says so rather than guess.

use gatehouse_domain::{Timestamp, token::rotation::RotationPolicy};
use gatehouse_store::{AppliedMigration, Backend, DeliveryBacklog, OpsStore, SchemaStatus, SigningKeyStore};

use super::{Caller, OpResult};
use crate::{Core, identity::SmtpSecurity, policy, tokens::TokenSettings};

/// How far back the status page counts delivery attempts.
pub const ATTEMPTS_WINDOW: i64 = 3_600;
/// A due delivery waiting longer than this makes the dispatcher "behind".
pub const BEHIND_AFTER: i64 = 60;

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    Smtp {
        host: String,
        port: u16,
        security: &'static str,
        from: String,
    },
    /// No SMTP server: messages are written to this directory (development mode).
    Outbox { dir: String },
}

/// One signing key and where it is in its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    pub kid: String,
    pub alg: &'static str,
    /// `next` (published, not signing yet), `signing`, `retired` (published for verification) or
    /// `expired` (to be purged).
    pub state: &'static str,
    pub created_at: Timestamp,
    pub activates_at: Timestamp,
    pub retires_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The dispatcher's health as the data shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherStatus {
    /// Whether this node's configuration runs the dispatcher.
    pub runs_here: bool,
    pub backlog: DeliveryBacklog,
    /// `idle`, `keeping up` or `behind` (a due delivery has waited over [`BEHIND_AFTER`] seconds).
    pub health: &'static str,
    /// Registrations by status (`active`, `unstable`, `disabled`, `unverified`).
    pub registrations: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `current`, `behind` (migrations pending) or `ahead` (written by a newer Gatehouse).
    pub schema: &'static str,
    pub known_schema_version: i64,
    pub migrations: Vec<AppliedMigration>,
    pub dispatcher: DispatcherStatus,
    pub mail: MailTransport,
    pub keys: Vec<KeyStatus>,
    pub rotation: RotationPolicy,
    /// What is known of the nodes sharing the database.
    pub nodes: &'static str,
    pub now: Timestamp,
}

fn key_state(s: &gatehouse_domain::token::records::KeySchedule, now: Timestamp) -> &'static str {
    if now < s.activates_at {
        "next"
    } else if now < s.retires_at {
        "signing"
    } else if now < s.expires_at {
        "retired"
    } else {
        "expired"
    }
}

/// The health the backlog shows at `now`.
pub fn health(b: &DeliveryBacklog, now: Timestamp) -> &'static str {
    match b.oldest_due_at {
        _ if b.pending == 0 => "idle",
        Some(t) if now - t > BEHIND_AFTER => "behind",
        _ => "keeping up",
    }
}

pub async fn status(state: &Core, caller: &Caller) -> OpResult<Status> {
    policy::operate(&caller.principal)?;
    let now = state.now();
    let store = &state.store;
    let schema = match store.schema_status().await? {
        SchemaStatus::Current => "current",
        SchemaStatus::Behind => "behind",
        SchemaStatus::Ahead { .. } => "ahead",
    };
    let mut conn = store.conn().await?;
    let backlog = conn.dispatcher_backlog(now, now - ATTEMPTS_WINDOW).await?;
    let mut keys: Vec<KeyStatus> = conn
        .list_signing_keys()
        .await?
        .into_iter()
        .map(|k| KeyStatus {
            state: key_state(&k.schedule, now),
            kid: k.kid,
            alg: k.alg.as_str(),
            created_at: k.schedule.created_at,
            activates_at: k.schedule.activates_at,
            retires_at: k.schedule.retires_at,
            expires_at: k.schedule.expires_at,
        })
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.activates_at));
    let identity = &state.settings.identity;
    let mail = match &identity.smtp {
        Some(s) => MailTransport::Smtp {
            host: s.host.clone(),
            port: s.port,
            security: match s.security {
                SmtpSecurity::Starttls => "STARTTLS",
                SmtpSecurity::Tls => "TLS",
                SmtpSecurity::None => "none (plain text)",
            },
            from: s.from.clone(),
        },
        None => MailTransport::Outbox {
            dir: identity.outbox_dir.display().to_string(),
        },
    };
    Ok(Status {
        version: env!("CARGO_PKG_VERSION"),
        backend: match store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        schema,
        known_schema_version: store.known_schema_version(),
        migrations: conn.applied_migrations().await?,
        dispatcher: DispatcherStatus {
            runs_here: state.settings.events_dispatcher,
            health: health(&backlog, now),
            backlog,
            registrations: conn.registrations_by_status().await?,
        },
        mail,
        keys,
        rotation: TokenSettings::from_settings(&state.settings).rotation,
        nodes: match store.backend() {
            Backend::Sqlite => "One node: SQLite is used by a single process.",
            Backend::Postgres => {
                "Gatehouse does not record which nodes share this database, so it cannot list them. Nodes tell \
                 each other about changes through PostgreSQL notifications without registering; see your load \
                 balancer or orchestrator for the nodes that are running."
            }
        },
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_tells_idle_keeping_up_and_behind_apart() {
        let b = |pending, oldest: Option<i64>| DeliveryBacklog {
            pending,
            due: i64::from(oldest.is_some()),
            oldest_due_at: oldest,
            ..DeliveryBacklog::default()
        };
        assert_eq!(health(&b(0, None), 1_000), "idle");
        assert_eq!(health(&b(3, None), 1_000), "keeping up");
        assert_eq!(health(&b(3, Some(990)), 1_000), "keeping up");
        assert_eq!(health(&b(3, Some(900)), 1_000), "behind");
    }
}
