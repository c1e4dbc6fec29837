//! The events part of the application: checking the `[events]` configuration, turning it into the
//! dispatcher's settings, and starting the dispatcher when `gatehouse serve` runs (tests start the
//! server without it and drive deliveries themselves).

use std::time::Duration;

use gatehouse_core::events::{DispatchSettings, Dispatcher};
use gatehouse_domain::events::retry::RetrySchedule;
use gatehouse_web::AppState;
use serde::{Deserialize, Deserializer, de::Error as _};
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError, EventsConfig};

/// Delays given either as a TOML list of integers or as one comma-separated string (environment).
pub fn seconds_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<u32>),
        Csv(String),
    }
    match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => Ok(v),
        ListOrCsv::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u32>()
                    .map_err(|_| D::Error::custom(format!("{s:?} is not a number of seconds")))
            })
            .collect(),
    }
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        message: message.into(),
    }
}

impl EventsConfig {
    /// The rules `[events]` values must satisfy beyond their types.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=60).contains(&self.delivery_timeout) {
            return Err(invalid("events.delivery_timeout", "must be 1–60 seconds"));
        }
        RetrySchedule::new(self.retry_schedule.clone()).map_err(|e| invalid("events.retry_schedule", e.message))?;
        if !(1..=90).contains(&self.journal_retention_days) {
            return Err(invalid("events.journal_retention_days", "must be 1–90 days"));
        }
        if !(1..=1000).contains(&self.per_endpoint_concurrency) {
            return Err(invalid("events.per_endpoint_concurrency", "must be 1–1000"));
        }
        Ok(())
    }
}

/// The dispatcher's settings from the configuration.
pub fn dispatch_settings(cfg: &Config) -> DispatchSettings {
    let e = &cfg.events;
    DispatchSettings {
        timeout: Duration::from_secs(u64::from(e.delivery_timeout)),
        // Checked by validate(); the default stands in should it ever not be.
        retry: RetrySchedule::new(e.retry_schedule.clone()).unwrap_or_default(),
        per_endpoint: e.per_endpoint_concurrency as usize,
        adobe_signatures: e.adobe_signatures,
        journal_retention: i64::from(e.journal_retention_days) * 86_400,
        ..DispatchSettings::default()
    }
}

/// Starts the dispatcher if this process runs one. Abort the handle to stop it; deliveries in
/// flight are claimed again after their lease (or at once on the next SQLite start). A PostgreSQL
/// node without one gets instead a task that tells the other nodes' dispatchers when its commits
/// queue deliveries.
pub fn start_dispatcher(cfg: &Config, state: &AppState) -> anyhow::Result<Option<JoinHandle<()>>> {
    if !cfg.events.dispatcher {
        tracing::info!("the event dispatcher is off in this process ([events] dispatcher = false)");
        if cfg.uses_postgres() {
            let store = state.store.clone();
            return Ok(Some(tokio::spawn(async move {
                store.announce_deliveries_to_other_nodes().await;
            })));
        }
        return Ok(None);
    }
    let dispatcher = Dispatcher::new(state, dispatch_settings(cfg))?;
    Ok(Some(dispatcher.spawn(!cfg.uses_postgres())))
}
