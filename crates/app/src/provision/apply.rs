//! Running a plan: every write and its audit entry in one transaction, committed at the end, so a
//! failure anywhere writes nothing. Also the [`Report`] that `apply` returns and prints.
//!
//! Like the console, a file that disables an integration ends what its client was issued (a token
//! cutoff, its refresh tokens revoked, its unused authorization codes deleted), and one that drops
//! or narrows a subscription cuts the withdrawn scopes off the tokens already issued.

use gatehouse_domain::{
    Timestamp,
    console::cutoff::{TokenCutoff, withdrawn_scopes},
    integration::{Integration, IntegrationStatus},
};
use gatehouse_store::{
    AccountStore, AuditStore, ConsoleStore, EventStore, IntegrationStore, OrgStore, ServiceStore, StoreError,
    TokenStore, Tx,
};

use gatehouse_core::policy::Provision;

use super::plan::{Action, Change, GeneratedSecret, Kind, Plan, Step, Write};

/// Runs every step in `tx`: the write, then its audit entry. The policy's leave to provision
/// (`gatehouse_core::policy::provision`) is the only way in.
pub async fn run(tx: &mut Tx, steps: &[Step], _allowed: &Provision) -> Result<(), StoreError> {
    for step in steps {
        match &step.write {
            Write::InsertOrg(o) => tx.insert_org(o).await?,
            Write::UpdateOrg(o) => tx.update_org(o).await?,
            Write::InsertAccount(a) => tx.insert_account(a).await?,
            Write::UpdateAccount(a) => tx.update_account(a).await?,
            Write::UpsertMembership(m) => tx.upsert_membership(m).await?,
            Write::DeleteMembership { org_id, account_id } => {
                tx.delete_membership(org_id, account_id).await?;
            }
            Write::UpsertService(s) => tx.upsert_service(s).await?,
            Write::InsertIntegration(i) => tx.insert_integration(i).await?,
            Write::UpdateIntegration(i) => {
                let before = tx.integration_by_id(&i.id).await?;
                tx.update_integration(i).await?;
                let disabled = i.status == IntegrationStatus::Disabled
                    && before.is_some_and(|b| b.status == IntegrationStatus::Active);
                if disabled {
                    end_client_tokens(tx, i, step.audit.at).await?;
                }
            }
            Write::InsertSecret(s) => tx.insert_secret(s).await?,
            Write::RevokeSecret {
                integration_id,
                secret_id,
            } => {
                tx.revoke_secret(integration_id, secret_id, step.audit.at).await?;
            }
            Write::InsertCertificate(c) => tx.insert_certificate(c).await?,
            Write::RevokeCertificate {
                integration_id,
                cert_id,
            } => {
                tx.revoke_certificate(integration_id, cert_id, step.audit.at).await?;
            }
            Write::UpsertSubscription(s) => {
                let before = scopes_of(tx, &s.integration_id).await?;
                tx.upsert_subscription(s).await?;
                cut_withdrawn(tx, &s.integration_id, &before, step.audit.at).await?;
            }
            Write::DeleteSubscription {
                integration_id,
                service,
            } => {
                let before = scopes_of(tx, integration_id).await?;
                tx.delete_subscription(integration_id, service).await?;
                cut_withdrawn(tx, integration_id, &before, step.audit.at).await?;
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
        tx.append_audit(&step.audit).await?;
    }
    Ok(())
}

/// Every scope the integration's subscriptions grant.
async fn scopes_of(tx: &mut Tx, integration_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(tx
        .subscriptions_of(integration_id)
        .await?
        .into_iter()
        .flat_map(|s| s.scopes)
        .collect())
}

/// Records cutoffs for the scopes `before` granted and the integration's subscriptions no longer do.
async fn cut_withdrawn(tx: &mut Tx, integration_id: &str, before: &[String], at: Timestamp) -> Result<(), StoreError> {
    let after = scopes_of(tx, integration_id).await?;
    let withdrawn = withdrawn_scopes(before, &after);
    if withdrawn.is_empty() {
        return Ok(());
    }
    let Some(i) = tx.integration_by_id(integration_id).await? else {
        return Ok(());
    };
    for scope in withdrawn {
        tx.record_token_cutoff(&TokenCutoff {
            client_id: i.client_id.to_string(),
            scope: Some(scope),
            at,
        })
        .await?;
    }
    Ok(())
}

/// Ends every token and grant issued to a client being disabled.
async fn end_client_tokens(tx: &mut Tx, i: &Integration, at: Timestamp) -> Result<(), StoreError> {
    tx.record_token_cutoff(&TokenCutoff {
        client_id: i.client_id.to_string(),
        scope: None,
        at,
    })
    .await?;
    tx.revoke_client_grants(i.client_id.as_str(), at).await?;
    Ok(())
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
        };
        let steps = [step(Write::InsertOrg(org)), step(Write::InsertSecret(orphan))];
        {
            let mut tx = store.begin().await.unwrap();
            let allowed = gatehouse_core::policy::provision(&gatehouse_core::policy::Principal::operator()).unwrap();
            assert!(run(&mut tx, &steps, &allowed).await.is_err());
            // Dropped without commit, as `provision::apply` does on error.
        }
        let mut c = store.conn().await.unwrap();
        assert!(c.list_orgs().await.unwrap().is_empty());
        assert!(c.recent_audit(None, 10).await.unwrap().is_empty());
    }
}
