//! Running a plan: every write and its audit entry in one transaction, committed at the end, so a
//! failure anywhere writes nothing. Also the [`Report`] that `apply` returns and prints.
//!
//! The writes go through the same writing half of the use cases as the console and `/api/v1`
//! (`gatehouse_core::console::changes`, `gatehouse_core::identity::changes`), so a change has the
//! same consequences whichever surface made it: disabling an integration ends what its client was
//! issued, a withdrawn scope is cut off the tokens already issued, a narrowed service narrows the
//! subscriptions to it, disabling an account ends its sessions and tokens, and Gatehouse's own
//! events tell subscribers of each.

use gatehouse_core::{
    console::changes,
    identity::changes::{account_changed, member_event},
    policy::Provision,
};
use gatehouse_domain::{audit::AuditEntry, events::own::OwnEventKind, integration::Integration};
use gatehouse_store::{AccountStore, AuditStore, EventStore, IntegrationStore, OrgStore, ProjectStore, StoreError, Tx};
use serde_json::json;

use super::{
    ProvisionError, Settings,
    plan::{Action, Change, GeneratedSecret, Kind, Plan, Step, Write},
};

/// Runs every step in `tx`: the write with its consequences, then its audit entry. The policy's
/// leave to provision (`gatehouse_core::policy::provision`) is the only way in.
pub async fn run(tx: &mut Tx, steps: &[Step], _allowed: &Provision, settings: &Settings) -> Result<(), ProvisionError> {
    for step in steps {
        let at = step.audit.at;
        let mut entry = step.audit.clone();
        match &step.write {
            Write::InsertOrg(o) => tx.insert_org(o).await?,
            Write::UpdateOrg(o) => tx.update_org(o).await?,
            Write::InsertAccount(a) => tx.insert_account(a).await?,
            Write::UpdateAccount(a) => {
                let before = tx.account_by_id(&a.id).await?.ok_or_else(|| gone("account", &a.id))?;
                let ended = account_changed(tx, &before, a, at, settings.longest_access_token).await?;
                entry = with(entry, ended);
            }
            Write::UpsertMembership(m) => {
                let org = tx
                    .org_by_id(&m.org_id)
                    .await?
                    .ok_or_else(|| gone("organization", m.org_id.as_str()))?;
                let account = tx
                    .account_by_id(&m.account_id)
                    .await?
                    .ok_or_else(|| gone("account", &m.account_id))?;
                let previous = tx
                    .memberships_of_account(&m.account_id)
                    .await?
                    .into_iter()
                    .find(|x| x.org_id == m.org_id)
                    .map(|x| x.role);
                tx.upsert_membership(m).await?;
                if previous != Some(m.role) {
                    member_event(tx, OwnEventKind::MemberAdded, &org, &account, m.role, previous, at).await?;
                }
            }
            Write::DeleteMembership { org_id, account_id } => {
                let org = tx
                    .org_by_id(org_id)
                    .await?
                    .ok_or_else(|| gone("organization", org_id.as_str()))?;
                let account = tx
                    .account_by_id(account_id)
                    .await?
                    .ok_or_else(|| gone("account", account_id))?;
                let previous = tx
                    .memberships_of_account(account_id)
                    .await?
                    .into_iter()
                    .find(|x| &x.org_id == org_id)
                    .map(|x| x.role);
                tx.delete_membership(org_id, account_id).await?;
                if let Some(role) = previous {
                    member_event(tx, OwnEventKind::MemberRemoved, &org, &account, role, None, at).await?;
                }
            }
            Write::UpsertService(s) => {
                let created = entry.action == "service.created";
                for a in changes::service_saved(tx, s, created, at).await? {
                    // Each subscriber's audit trail records what the change did to it.
                    tx.append_audit(&AuditEntry {
                        at,
                        actor: step.audit.actor.clone(),
                        action: a.action.to_owned(),
                        target: format!("integration:{}", a.integration.id),
                        org_id: a.integration.org_id().map(str::to_owned),
                        ip: None,
                        user_agent: None,
                        details: json!({
                            "service": s.code,
                            "scopes": a.kept,
                            "withdrawn_scopes": a.withdrawn,
                            "reason": "service_changed",
                        }),
                    })
                    .await?;
                }
            }
            Write::InsertProject(pw) => {
                let (p, w) = &**pw;
                tx.insert_project(p).await?;
                tx.insert_workspace(w).await?;
            }
            Write::InsertWorkspace(w) => tx.insert_workspace(w).await?,
            Write::InsertIntegration(i) => changes::integration_created(tx, i, at).await?,
            Write::UpdateIntegration(i) => {
                let before = integration(tx, &i.id).await?;
                let done = changes::integration_changed(tx, &before, i, at).await?;
                if done.get("refresh_tokens_revoked").is_some() {
                    entry = with(entry, done);
                }
            }
            Write::InsertSecret(s) => {
                let i = integration(tx, &s.integration_id).await?;
                changes::secret_added(tx, &i, s, at).await?;
            }
            Write::RevokeSecret {
                integration_id,
                secret_id,
            } => {
                let i = integration(tx, integration_id).await?;
                changes::secret_revoked(tx, &i, secret_id, at).await?;
            }
            Write::InsertCertificate(c) => {
                let i = integration(tx, &c.integration_id).await?;
                changes::certificate_added(tx, &i, c, at).await?;
            }
            Write::RevokeCertificate {
                integration_id,
                cert_id,
            } => {
                let i = integration(tx, integration_id).await?;
                changes::certificate_revoked(tx, &i, cert_id, at).await?;
            }
            Write::UpsertSubscription(s) => {
                let i = integration(tx, &s.integration_id).await?;
                let is_new = entry.action == "subscription.created";
                let withdrawn = changes::subscription_saved(tx, &i, s, is_new, at).await?;
                entry = with(entry, json!({ "withdrawn_scopes": withdrawn }));
            }
            Write::DeleteSubscription {
                integration_id,
                service,
            } => {
                let i = integration(tx, integration_id).await?;
                let withdrawn = changes::subscription_removed(tx, &i, service, None, at).await?;
                entry = with(entry, json!({ "withdrawn_scopes": withdrawn.unwrap_or_default() }));
            }
            Write::InsertProvider(p) => tx.insert_provider(p).await?,
            Write::UpdateProvider(p) => {
                tx.update_provider(p).await?;
            }
            Write::DeleteProvider(id) => {
                tx.delete_provider(id).await?;
            }
            Write::InsertEventType(t) => tx.insert_event_type(t).await?,
            Write::UpdateEventType(t) => {
                tx.update_event_type(t).await?;
            }
            Write::DeleteEventType { provider_id, code } => {
                tx.delete_event_type(provider_id, code).await?;
            }
            Write::InsertRegistration(new) => tx.insert_registration(&new.0, &new.1).await?,
            Write::UpdateRegistration(r) => {
                tx.update_registration(r).await?;
            }
            Write::DeleteRegistration(id) => {
                tx.delete_registration(id).await?;
            }
        }
        tx.append_audit(&entry).await?;
    }
    Ok(())
}

/// The integration a planned write refers to (created earlier in the same transaction, or loaded
/// when the plan was made).
async fn integration(tx: &mut Tx, id: &str) -> Result<Integration, ProvisionError> {
    tx.integration_by_id(id).await?.ok_or_else(|| gone("integration", id))
}

/// A planned write whose object disappeared between planning and writing (another writer).
fn gone(what: &str, id: &str) -> ProvisionError {
    ProvisionError::Store(StoreError::Conflict(format!(
        "the {what} {id} changed while the file was applied; run apply again"
    )))
}

/// `entry` with `extra`'s fields added to its details.
fn with(mut entry: AuditEntry, extra: serde_json::Value) -> AuditEntry {
    if let (Some(d), Some(extra)) = (entry.details.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    entry
}

/// Created / updated / unchanged counts for one kind of object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What `apply` did (or, with `dry_run`, would do).
#[derive(Debug)]
pub struct Report {
    pub dry_run: bool,
    pub changes: Vec<Change>,
    /// Secrets generated for integrations the file gave none; empty on a dry run.
    pub generated_secrets: Vec<GeneratedSecret>,
    pub warnings: Vec<String>,
    /// Number of writes (each with one audit entry) made or planned.
    pub writes: usize,
}

impl Report {
    pub(super) fn new(plan: Plan, dry_run: bool) -> Self {
        Self {
            dry_run,
            writes: plan.steps.len(),
            changes: plan.changes,
            generated_secrets: if dry_run { Vec::new() } else { plan.generated_secrets },
            warnings: plan.warnings,
        }
    }

    pub fn counts(&self, kind: Kind) -> Counts {
        let mut c = Counts::default();
        for ch in self.changes.iter().filter(|c| c.kind == kind) {
            match ch.action {
                Action::Created => c.created += 1,
                Action::Updated => c.updated += 1,
                Action::Unchanged => c.unchanged += 1,
            }
        }
        c
    }

    /// True when the database already matched the file.
    pub fn is_unchanged(&self) -> bool {
        self.writes == 0
    }

    /// `organizations: 1 created, 0 updated, 0 unchanged; accounts: …`
    pub fn summary(&self) -> String {
        Kind::ALL
            .iter()
            .map(|k| {
                let c = self.counts(*k);
                format!(
                    "{}: {} created, {} updated, {} unchanged",
                    k.plural(),
                    c.created,
                    c.updated,
                    c.unchanged
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One line per object that changes: `+ integration Acme backend (e053…)`, `~ account …: password`.
    pub fn plan_lines(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
            .map(|c| {
                let kind = match c.kind {
                    Kind::Organization => "organization",
                    Kind::Account => "account",
                    Kind::Service => "service",
                    Kind::Integration => "integration",
                };
                match c.action {
                    Action::Created => format!("+ {kind} {}", c.label),
                    _ => format!("~ {kind} {}: {}", c.label, c.details.join(", ")),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_domain::{
        audit::{Actor, AuditEntry},
        ids::OrgId,
        integration::StoredSecret,
        org::Organization,
    };
    use gatehouse_store::{AuditStore, OrgStore, Store};

    use super::*;

    fn step(write: Write) -> Step {
        Step {
            write,
            audit: AuditEntry::new(1, &Actor::Cli("apply"), "test", "test"),
        }
    }

    /// A write that fails half-way (here: a secret for an integration that does not exist) leaves
    /// nothing behind, not even the writes and audit entries before it.
    #[tokio::test]
    async fn a_failing_write_rolls_back_the_whole_file() {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        store.migrate().await.unwrap();
        let org = Organization {
            id: OrgId::parse("0123456789abcdef01234567@GatehouseOrg").unwrap(),
            name: "Acme".into(),
            require_mfa: false,
            created_at: 1,
            updated_at: 1,
        };
        let orphan = StoredSecret {
            id: "s1".into(),
            integration_id: "no-such-integration".into(),
            digest: "0".repeat(64),
            hint: String::new(),
            created_at: 1,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
        };
        let steps = [step(Write::InsertOrg(org)), step(Write::InsertSecret(orphan))];
        {
            let mut tx = store.begin().await.unwrap();
            let allowed = gatehouse_core::policy::provision(&gatehouse_core::policy::Principal::operator()).unwrap();
            assert!(run(&mut tx, &steps, &allowed, &Settings::default()).await.is_err());
            // Dropped without commit, as `provision::apply` does on error.
        }
        let mut c = store.conn().await.unwrap();
        assert!(c.list_orgs().await.unwrap().is_empty());
        assert!(c.recent_audit(None, 10).await.unwrap().is_empty());
    }
}
