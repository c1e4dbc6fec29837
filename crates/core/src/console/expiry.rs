//! The background check for expiring service-account certificates: 30, 7 and 1 day before a
//! certificate expires, an audit entry `certificate.expiring` and the event
//! `gatehouse.certificate.expiring` (to the integration's organization or owner) are written,
//! once per threshold, whichever node gets there first. The same task purges generated private
//! keys nobody downloaded, new client secrets nobody came to see, token cutoffs older than any
//! live token, and sessions past their idle or absolute timeout.

use std::time::Duration;

use gatehouse_domain::{
    Timestamp,
    audit::{Actor, AuditEntry},
    console::certificates::{EXPIRY_NOTICE_DAYS, days_left, due_notice},
    events::own::{OwnEventKind, own_event},
};
use gatehouse_store::{
    AuditStore, ConsoleStore, EventStore, IntegrationStore, OneTimeTokenStore, PendingKeyStore, SessionStore,
    StoreError,
};
use serde_json::json;

use super::audience_of;
use crate::Core;

/// How often the check runs.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);
const DAY: i64 = 86_400;
/// Cutoffs are kept this long after the longest-lived access token could have been issued.
const CUTOFF_MARGIN: i64 = 3_600;

/// Starts the periodic check; the `app` crate stops it on shutdown.
pub fn spawn(state: Core) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state, state.now()).await {
                tracing::warn!(error = %e, "the certificate expiry check failed; it runs again later");
            }
        }
    })
}

/// One pass at `now`: notices due, pending keys and old cutoffs purged. Returns how many
/// notices were written.
pub async fn run_once(state: &Core, now: Timestamp) -> Result<u64, StoreError> {
    let horizon = EXPIRY_NOTICE_DAYS.iter().copied().max().unwrap_or(30) * DAY;
    let expiring = state
        .store
        .conn()
        .await?
        .certificates_expiring(now, now + horizon)
        .await?;
    let mut written = 0;
    for cert in expiring {
        let mut tx = state.store.begin().await?;
        let sent = tx.certificate_notices(&cert.id).await?;
        let Some(days) = due_notice(cert.not_after, now, &sent) else {
            continue;
        };
        let Some(i) = tx.integration_by_id(&cert.integration_id).await? else {
            continue;
        };
        if !tx.record_certificate_notice(&cert.id, days, now).await? {
            continue;
        }
        let left = days_left(cert.not_after, now);
        let details = json!({
            "certificate_id": cert.id,
            "fingerprint": cert.fingerprint,
            "not_after": cert.not_after,
            "notice_days": days,
            "days_left": left,
        });
        let mut entry = AuditEntry::new(
            now,
            &Actor::System,
            "certificate.expiring",
            format!("integration:{}", i.id),
        )
        .details(details.clone());
        if let Some(org) = i.org_id() {
            entry = entry.org(org);
        }
        tx.append_audit(&entry).await?;
        let mut data = details;
        data["integration_id"] = json!(i.id);
        data["client_id"] = json!(i.client_id);
        let event = own_event(
            OwnEventKind::CertificateExpiring,
            audience_of(&i),
            &format!("integration:{}", i.id),
            data,
            now,
            &mut rand::thread_rng(),
        );
        match event {
            Ok(event) => {
                tx.publish_event(&event, now, 0).await?;
            }
            Err(e) => tracing::warn!(error = %e, "could not build the certificate.expiring event"),
        }
        tx.commit().await?;
        written += 1;
    }
    let mut conn = state.store.conn().await?;
    conn.purge_pending_keys(now).await?;
    conn.purge_one_time_tokens(super::reveal::PURPOSE, now).await?;
    let longest = crate::tokens::TokenSettings::from_settings(&state.settings)
        .lifetimes
        .longest_access_token();
    conn.purge_token_cutoffs(now - longest - CUTOFF_MARGIN).await?;
    // Sessions past their timeouts are refused on use already; this deletes the rows nobody
    // came back with.
    conn.purge_sessions(now, state.settings.identity.session.idle_timeout)
        .await?;
    // Mail counters of windows that have ended count nothing any more.
    let window = state.settings.identity.mail_limits.window.max(1);
    gatehouse_store::MailQuotaStore::purge_mail_quota(&mut conn, now - window).await?;
    drop(conn);
    // Sign-in counts no policy remembers any more (a spray of made-up addresses leaves many).
    crate::identity::throttles::purge(state, now).await?;
    Ok(written)
}
