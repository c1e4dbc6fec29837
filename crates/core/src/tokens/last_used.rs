//! When each credential was last used: an integration when a token is issued to it (any grant),
//! when it authenticates with a secret or a signed assertion, and when the gateway or
//! `/oauth/api-key-check` accepts its API key; a client secret when it authenticates a client.
//!
//! Nothing is written on the request path: a use is marked in memory ([`LastUsed::mark`], a read
//! lock and a map lookup when the credential was marked in the last [`RECORD_EVERY`] seconds) and
//! the background job ([`spawn`]) writes what was marked, every [`FLUSH_EVERY`], in one
//! unaudited transaction. So each node writes a credential's timestamp at most once per
//! [`RECORD_EVERY`], and a stored timestamp is at most that (plus a flush) behind the last use.
//! This follows the gateway's usage counts (`crate::gateway::flush_usage`).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use gatehouse_domain::Timestamp;
use gatehouse_store::{LastUsedStore, Store, StoreError};
use tokio::task::JoinHandle;

use super::TokenService;

/// A credential's use is written at most once per this many seconds per node.
pub const RECORD_EVERY: i64 = 60;
/// How often marked uses are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Most credentials remembered at once; past this, marks already written are forgotten (and if
/// that is not enough, new credentials go unmarked until the next flush).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Mark {
    /// When the use now pending (or last written) happened.
    at: Timestamp,
    /// Not written yet.
    pending: bool,
}

#[derive(Default)]
struct Marks {
    integrations: HashMap<String, Mark>,
    secrets: HashMap<String, Mark>,
}

/// Uses marked on this node and not yet written, and those written in the last
/// [`RECORD_EVERY`] seconds (to skip marking them again).
#[derive(Default)]
pub struct LastUsed {
    marks: RwLock<Marks>,
}

/// Uses to write: (ID, when) of integrations and of client secrets.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub integrations: Vec<(String, Timestamp)>,
    pub secrets: Vec<(String, Timestamp)>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.integrations.is_empty() && self.secrets.is_empty()
    }
}

fn fresh(map: &HashMap<String, Mark>, id: &str, now: Timestamp) -> bool {
    map.get(id).is_some_and(|m| now - m.at < RECORD_EVERY)
}

fn note(map: &mut HashMap<String, Mark>, id: &str, now: Timestamp) {
    if let Some(m) = map.get_mut(id) {
        if now - m.at >= RECORD_EVERY {
            *m = Mark { at: now, pending: true };
        }
        return;
    }
    if map.len() >= MAX_TRACKED {
        map.retain(|_, m| m.pending);
        if map.len() >= MAX_TRACKED {
            return;
        }
    }
    map.insert(id.to_owned(), Mark { at: now, pending: true });
}

fn take(map: &mut HashMap<String, Mark>, now: Timestamp) -> Vec<(String, Timestamp)> {
    let mut out = Vec::new();
    map.retain(|id, m| {
        if m.pending {
            out.push((id.clone(), m.at));
            m.pending = false;
        }
        now - m.at < RECORD_EVERY
    });
    out
}

impl LastUsed {
    /// Marks a use of the integration `integration_id`, and of its client secret `secret_id` when
    /// one authenticated it, at `now`.
    pub fn mark(&self, integration_id: &str, secret_id: Option<&str>, now: Timestamp) {
        let known = self.marks.read().is_ok_and(|m| {
            fresh(&m.integrations, integration_id, now) && secret_id.is_none_or(|s| fresh(&m.secrets, s, now))
        });
        if known {
            return;
        }
        if let Ok(mut m) = self.marks.write() {
            note(&mut m.integrations, integration_id, now);
            if let Some(s) = secret_id {
                note(&mut m.secrets, s, now);
            }
        }
    }

    /// The uses not yet written, now counted as written; marks older than [`RECORD_EVERY`] are
    /// forgotten.
    pub fn take_pending(&self, now: Timestamp) -> Pending {
        match self.marks.write() {
            Ok(mut m) => Pending {
                integrations: take(&mut m.integrations, now),
                secrets: take(&mut m.secrets, now),
            },
            Err(_) => Pending::default(),
        }
    }

    /// Puts back uses that could not be written, for the next flush (unless a later use of the
    /// same credential was marked meanwhile).
    fn put_back(&self, p: Pending) {
        let Ok(mut guard) = self.marks.write() else { return };
        let m = &mut *guard;
        for (map, list) in [(&mut m.integrations, p.integrations), (&mut m.secrets, p.secrets)] {
            for (id, at) in list {
                let e = map.entry(id).or_insert(Mark { at, pending: true });
                if e.at <= at {
                    *e = Mark { at, pending: true };
                }
            }
        }
    }
}

/// Writes the uses marked on this node since the last flush. On failure they are kept for the next.
pub async fn flush(svc: &TokenService) -> Result<(), StoreError> {
    let pending = svc.last_used.take_pending(svc.now());
    if pending.is_empty() {
        return Ok(());
    }
    match write(svc.store(), &pending).await {
        Ok(()) => Ok(()),
        Err(e) => {
            svc.last_used.put_back(pending);
            Err(e)
        }
    }
}

async fn write(store: &Store, p: &Pending) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.record_last_used(&p.integrations, &p.secrets).await?;
    // Bookkeeping, not anyone's change: no audit entry, and no new catalog generation (which
    // would empty every node's caches).
    tx.commit_unaudited().await
}

/// Starts the flush every [`FLUSH_EVERY`]; it ends when the token service is dropped.
pub fn spawn(svc: &Arc<TokenService>) -> JoinHandle<()> {
    let weak = Arc::downgrade(svc);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(svc) = weak.upgrade() else { break };
            if let Err(e) = flush(&svc).await {
                tracing::warn!(error = %e, "last-used times were not stored; they are kept for the next try");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_written_at_most_once_a_minute() {
        let l = LastUsed::default();
        l.mark("i1", Some("s1"), 1_000);
        l.mark("i1", Some("s1"), 1_010);
        l.mark("i2", None, 1_020);
        let p = l.take_pending(1_030);
        assert_eq!(p.integrations.len(), 2);
        assert!(p.integrations.contains(&("i1".into(), 1_000)));
        assert_eq!(p.secrets, vec![("s1".into(), 1_000)]);
        // Within the minute: nothing new to write.
        l.mark("i1", Some("s1"), 1_059);
        assert!(l.take_pending(1_059).is_empty());
        // A minute later the use is written again, with its time.
        l.mark("i1", Some("s1"), 1_060);
        let p = l.take_pending(1_061);
        assert_eq!(p.integrations, vec![("i1".into(), 1_060)]);
        assert_eq!(p.secrets, vec![("s1".into(), 1_060)]);
    }

    #[test]
    fn another_secret_of_the_same_integration_is_marked_at_once() {
        let l = LastUsed::default();
        l.mark("i1", Some("old"), 1_000);
        let _ = l.take_pending(1_000);
        l.mark("i1", Some("new"), 1_001);
        let p = l.take_pending(1_001);
        assert!(p.integrations.is_empty());
        assert_eq!(p.secrets, vec![("new".into(), 1_001)]);
    }

    #[test]
    fn written_marks_are_forgotten_after_a_minute_and_failed_writes_come_back() {
        let l = LastUsed::default();
        l.mark("i1", None, 1_000);
        let p = l.take_pending(1_000);
        assert_eq!(l.marks.read().unwrap().integrations.len(), 1);
        let _ = l.take_pending(1_060);
        assert!(l.marks.read().unwrap().integrations.is_empty());
        l.put_back(p);
        assert_eq!(l.take_pending(1_061).integrations, vec![("i1".into(), 1_000)]);
    }
}
