//! Planning: compares the desired state with what the database holds and decides, object by
//! object, what to create, update or leave alone — as a list of writes, each with its audit entry.
//!
//! Planning is pure apart from loading [`Current`]: it takes the clock and the random source as
//! parameters, checks every rule that needs the database (references, ownership, type rules for
//! subscriptions, certificate validity), and reports every problem with its key path. It writes
//! nothing; [`super::apply`] runs the writes in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gatehouse_domain::events::model::{EventType, Provider, Registration, SealedSecrets};
use gatehouse_domain::{
    Timestamp,
    account::{Account, AccountType},
    audit::{Actor, AuditEntry},
    ids::{self, OrgId},
    integration::{Integration, StoredCertificate, StoredSecret},
    org::{Membership, Organization, Role},
    password,
    project::{Project, Workspace},
    service::{Service, ServiceCode, Subscription},
};
use gatehouse_store::{
    AccountStore, AsDb, EventStore, IntegrationStore, OrgStore, ProjectStore, ServiceStore, StoreError,
};
use rand::{CryptoRng, RngCore};
use serde_json::json;

use super::{
    Problem, Settings,
    event_plan::Resolved,
    validate::{DAccount, DOrg, DPassword, DService, Desired, OrgRef},
};

/// What the database holds that the file may touch.
#[derive(Debug, Default)]
pub struct Current {
    pub orgs: Vec<Organization>,
    pub accounts: Vec<Account>,
    pub services: Vec<Service>,
    pub integrations: Vec<Integration>,
    /// By account ID, for the accounts the file names.
    pub memberships: HashMap<String, Vec<Membership>>,
    /// By integration ID, for the integrations the file may name.
    pub secrets: HashMap<String, Vec<StoredSecret>>,
    pub certificates: HashMap<String, Vec<StoredCertificate>>,
    pub subscriptions: HashMap<String, Vec<Subscription>>,
    /// Every event provider, and event types by provider ID.
    pub providers: Vec<Provider>,
    pub event_types: HashMap<String, Vec<EventType>>,
    /// By integration ID, for the integrations the file may name.
    pub registrations: HashMap<String, Vec<Registration>>,
    /// Every project of the organizations and accounts above, with its workspaces.
    pub projects: Vec<(Project, Vec<Workspace>)>,
}

impl Current {
    /// Loads the catalog and, for the accounts and integrations the file may refer to, their
    /// memberships, credentials and subscriptions.
    pub async fn load(db: &mut impl AsDb, desired: &Desired) -> Result<Self, StoreError> {
        let mut cur = Current {
            orgs: db.list_orgs().await?,
            accounts: db.list_accounts().await?,
            services: db.list_services().await?,
            integrations: db.list_integrations().await?,
            ..Current::default()
        };
        for o in &cur.orgs {
            for p in db.projects_of_org(o.id.as_str()).await? {
                let w = db.workspaces_of(&p.id).await?;
                cur.projects.push((p, w));
            }
        }
        for a in &cur.accounts {
            for p in db.projects_of_account(&a.id).await? {
                let w = db.workspaces_of(&p.id).await?;
                cur.projects.push((p, w));
            }
        }
        let emails: BTreeSet<_> = desired.accounts.iter().map(|a| a.email.as_str()).collect();
        for a in cur.accounts.iter().filter(|a| emails.contains(a.email.as_str())) {
            cur.memberships
                .insert(a.id.clone(), db.memberships_of_account(&a.id).await?);
        }
        let names: BTreeSet<_> = desired.integrations.iter().map(|x| x.name.as_str()).collect();
        let client_ids: BTreeSet<_> = desired
            .integrations
            .iter()
            .filter_map(|x| x.client_id.as_ref())
            .collect();
        for x in cur
            .integrations
            .iter()
            .filter(|x| names.contains(x.name.as_str()) || client_ids.contains(&x.client_id))
        {
            cur.secrets.insert(x.id.clone(), db.secrets_of(&x.id).await?);
            cur.certificates.insert(x.id.clone(), db.certificates_of(&x.id).await?);
            cur.subscriptions
                .insert(x.id.clone(), db.subscriptions_of(&x.id).await?);
            cur.registrations
                .insert(x.id.clone(), db.registrations_of_integration(&x.id).await?);
        }
        cur.providers = db.list_providers(None).await?;
        for p in &cur.providers {
            cur.event_types.insert(p.id.clone(), db.event_types_of(&p.id).await?);
        }
        Ok(cur)
    }
}

/// One write of the plan.
#[derive(Debug, Clone)]
pub enum Write {
    InsertOrg(Organization),
    UpdateOrg(Organization),
    InsertAccount(Account),
    UpdateAccount(Account),
    UpsertMembership(Membership),
    DeleteMembership {
        org_id: OrgId,
        account_id: String,
    },
    UpsertService(Service),
    /// A project with its Production workspace (for an integration declared without one).
    InsertProject(Box<(Project, Workspace)>),
    /// A workspace added to a project a file names.
    InsertWorkspace(Workspace),
    InsertIntegration(Integration),
    UpdateIntegration(Integration),
    InsertSecret(StoredSecret),
    RevokeSecret {
        integration_id: String,
        secret_id: String,
    },
    InsertCertificate(StoredCertificate),
    RevokeCertificate {
        integration_id: String,
        cert_id: String,
    },
    UpsertSubscription(Subscription),
    DeleteSubscription {
        integration_id: String,
        service: ServiceCode,
    },
    InsertProvider(Provider),
    UpdateProvider(Provider),
    /// Deletes the provider with its event types.
    DeleteProvider(String),
    InsertEventType(EventType),
    UpdateEventType(EventType),
    DeleteEventType {
        provider_id: String,
        code: String,
    },
    /// A new registration with its sealed webhook secret.
    InsertRegistration(Box<(Registration, SealedSecrets)>),
    UpdateRegistration(Registration),
    DeleteRegistration(String),
}

/// A write and the audit entry that records it.
#[derive(Debug, Clone)]
pub struct Step {
    pub write: Write,
    pub audit: AuditEntry,
}

/// The four kinds of object a file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Organization,
    Account,
    Service,
    Integration,
}

impl Kind {
    pub const ALL: [Self; 4] = [Self::Organization, Self::Account, Self::Service, Self::Integration];

    pub fn plural(self) -> &'static str {
        match self {
            Self::Organization => "organizations",
            Self::Account => "accounts",
            Self::Service => "services",
            Self::Integration => "integrations",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

/// What happens to one object of the file, for the summary and the `--dry-run` listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub action: Action,
    /// How the object is named to people: an org's name and ID, an email, a service code...
    pub label: String,
    /// What changes, one short phrase each (never a secret).
    pub details: Vec<String>,
}

/// A client secret generated because the file gave none. Shown once, never stored in plaintext.
#[derive(Clone)]
pub struct GeneratedSecret {
    pub integration: String,
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for GeneratedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedSecret")
            .field("integration", &self.integration)
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The outcome of planning.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub changes: Vec<Change>,
    pub generated_secrets: Vec<GeneratedSecret>,
    pub warnings: Vec<String>,
}

/// Compares `desired` with `cur` and returns the writes that make the database match the file.
pub fn plan<R: RngCore + CryptoRng>(
    desired: &Desired,
    cur: &Current,
    now: Timestamp,
    rng: &mut R,
    settings: &Settings,
) -> Result<Plan, Vec<Problem>> {
    let mut p = Planner {
        cur,
        now,
        rng,
        settings,
        actor: Actor::Cli("apply"),
        problems: Vec::new(),
        plan: Plan::default(),
        file_orgs: Vec::new(),
        account_ids: BTreeMap::new(),
        services: BTreeMap::new(),
        resolved: Vec::new(),
        new_projects: Vec::new(),
    };
    for o in &desired.organizations {
        p.organization(o);
    }
    for a in &desired.accounts {
        p.account(a);
    }
    for s in &desired.services {
        p.service(s);
    }
    p.integrations(&desired.integrations);
    if p.problems.is_empty() {
        p.events(&desired.integrations);
    }
    if p.problems.is_empty() {
        Ok(p.plan)
    } else {
        Err(p.problems)
    }
}

pub(super) struct Planner<'a, R> {
    pub(super) cur: &'a Current,
    pub(super) now: Timestamp,
    pub(super) rng: &'a mut R,
    pub(super) settings: &'a Settings,
    pub(super) actor: Actor,
    pub(super) problems: Vec<Problem>,
    pub(super) plan: Plan,
    /// The file's organizations as they will be: (ID, name).
    file_orgs: Vec<(OrgId, String)>,
    /// Accounts of the file, by email, with their (existing or new) ID.
    pub(super) account_ids: BTreeMap<String, String>,
    /// Services as they will be after this apply, for the file's services.
    pub(super) services: BTreeMap<ServiceCode, Service>,
    /// The file's integrations as planned, for the events pass.
    pub(super) resolved: Vec<Resolved>,
    /// Projects and workspaces this apply creates, to place later integrations in them too.
    pub(super) new_projects: Vec<(Project, Vec<Workspace>)>,
}

impl<R: RngCore + CryptoRng> Planner<'_, R> {
    pub(super) fn bad(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    pub(super) fn step(
        &mut self,
        write: Write,
        action: &str,
        target: String,
        org: Option<&str>,
        details: serde_json::Value,
    ) {
        let mut audit = AuditEntry::new(self.now, &self.actor, action, target).details(details);
        if let Some(org) = org {
            audit = audit.org(org);
        }
        self.plan.steps.push(Step { write, audit });
    }

    pub(super) fn change(&mut self, kind: Kind, label: String, created: bool, details: Vec<String>) {
        let action = if created {
            Action::Created
        } else if details.is_empty() {
            Action::Unchanged
        } else {
            Action::Updated
        };
        self.plan.changes.push(Change {
            kind,
            action,
            label,
            details,
        });
    }

    fn organization(&mut self, o: &DOrg) {
        let existing = match &o.id {
            Some(id) => self.cur.orgs.iter().find(|x| &x.id == id),
            None => {
                let named: Vec<_> = self.cur.orgs.iter().filter(|x| x.name == o.name).collect();
                if named.len() > 1 {
                    self.bad(
                        format!("{}.name", o.path),
                        format!(
                            "{} organizations are named {:?}; add id = \"<org id>\" to say which one",
                            named.len(),
                            o.name
                        ),
                    );
                    return;
                }
                named.first().copied()
            }
        };
        match existing {
            None => {
                let id = match &o.id {
                    Some(id) => id.clone(),
                    None => OrgId::generate(self.rng, &self.settings.org_id_suffix),
                };
                let org = Organization {
                    id: id.clone(),
                    name: o.name.clone(),
                    require_mfa: o.require_mfa.unwrap_or(false),
                    created_at: self.now,
                    updated_at: self.now,
                };
                self.file_orgs.push((id.clone(), o.name.clone()));
                self.step(
                    Write::InsertOrg(org),
                    "organization.created",
                    format!("organization:{id}"),
                    Some(id.as_str()),
                    json!({ "name": o.name }),
                );
                self.change(Kind::Organization, format!("{} ({id})", o.name), true, Vec::new());
            }
            Some(x) => {
                let mut org = x.clone();
                let mut changed = Vec::new();
                if org.name != o.name {
                    changed.push(format!("name {:?} → {:?}", org.name, o.name));
                    org.name = o.name.clone();
                }
                if let Some(mfa) = o.require_mfa
                    && mfa != org.require_mfa
                {
                    changed.push(format!("require_mfa → {mfa}"));
                    org.require_mfa = mfa;
                }
                self.file_orgs.push((org.id.clone(), org.name.clone()));
                let label = format!("{} ({})", org.name, org.id);
                if !changed.is_empty() {
                    org.updated_at = self.now;
                    let id = org.id.to_string();
                    self.step(
                        Write::UpdateOrg(org),
                        "organization.updated",
                        format!("organization:{id}"),
                        Some(&id),
                        json!({ "changed": changed }),
                    );
                }
                self.change(Kind::Organization, label, false, changed);
            }
        }
    }

    /// Resolves a reference to an organization of the file or of the database.
    pub(super) fn resolve_org(&mut self, path: &str, r: &OrgRef) -> Option<OrgId> {
        match r {
            OrgRef::Id(id) => {
                if self.file_orgs.iter().any(|(x, _)| x == id) || self.cur.orgs.iter().any(|x| &x.id == id) {
                    Some(id.clone())
                } else {
                    self.bad(
                        path,
                        format!("no organization \"{id}\" (define it under [[organizations]] or in the database)"),
                    );
                    None
                }
            }
            OrgRef::Name(name) => {
                let mut ids: BTreeSet<OrgId> = self
                    .file_orgs
                    .iter()
                    .filter(|(_, n)| n == name)
                    .map(|(id, _)| id.clone())
                    .collect();
                // Database organizations the file renames no longer go by their old name.
                for o in self.cur.orgs.iter().filter(|o| &o.name == name) {
                    if !self.file_orgs.iter().any(|(id, _)| id == &o.id) {
                        ids.insert(o.id.clone());
                    }
                }
                let mut ids = ids.into_iter();
                match (ids.next(), ids.next()) {
                    (Some(id), None) => Some(id),
                    (None, _) => {
                        self.bad(
                            path,
                            format!(
                                "no organization named {name:?} (define it under [[organizations]] or in the database)"
                            ),
                        );
                        None
                    }
                    (Some(_), Some(_)) => {
                        self.bad(
                            path,
                            format!("several organizations are named {name:?}; use the organization's ID instead"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn account(&mut self, a: &DAccount) {
        let existing = self.cur.accounts.iter().find(|x| x.email == a.email);
        let mut changed = Vec::new();
        let created = existing.is_none();
        let mut account = match existing {
            Some(x) => x.clone(),
            None => Account {
                id: ids::new_row_id(self.rng),
                email: a.email.clone(),
                account_type: AccountType::Personal,
                display_name: String::new(),
                given_name: String::new(),
                family_name: String::new(),
                country: String::new(),
                // The operator vouches for the addresses in a provisioning file.
                email_verified: true,
                password_hash: None,
                operator: false,
                disabled: false,
                owner_org_id: None,
                created_at: self.now,
                updated_at: self.now,
            },
        };
        if let Some(t) = a.account_type
            && t != account.account_type
        {
            changed.push(format!("type → {}", t.as_str()));
            account.account_type = t;
        }
        for (field, want, have) in [
            ("display_name", &a.display_name, &mut account.display_name),
            ("given_name", &a.given_name, &mut account.given_name),
            ("family_name", &a.family_name, &mut account.family_name),
            ("country", &a.country, &mut account.country),
        ] {
            if let Some(v) = want
                && v != have
            {
                changed.push(format!("{field} → {v:?}"));
                *have = v.clone();
            }
        }
        for (field, want, have) in [
            ("operator", a.operator, &mut account.operator),
            ("disabled", a.disabled, &mut account.disabled),
        ] {
            if let Some(v) = want
                && v != *have
            {
                changed.push(format!("{field} → {v}"));
                *have = v;
            }
        }
        match &a.password {
            Some(DPassword::Plain(p)) => {
                let same = account.password_hash.as_deref().is_some_and(|h| password::verify(p, h));
                if !same {
                    match password::hash(p, self.rng) {
                        Ok(h) => {
                            account.password_hash = Some(h);
                            changed.push("password".to_owned());
                        }
                        Err(e) => self.bad(format!("{}.password", a.path), e.message),
                    }
                }
            }
            Some(DPassword::Hash(h)) if account.password_hash.as_deref() != Some(h.as_str()) => {
                account.password_hash = Some(h.clone());
                changed.push("password".to_owned());
            }
            Some(DPassword::Hash(_)) | None => {}
        }
        self.account_ids.insert(a.email.to_string(), account.id.clone());
        let target = format!("account:{}", account.id);
        let account_id = account.id.clone();
        if created {
            let details = json!({ "email": account.email.as_str(), "type": account.account_type.as_str() });
            self.step(Write::InsertAccount(account), "account.created", target, None, details);
        } else if !changed.is_empty() {
            account.updated_at = self.now;
            let fields: Vec<&str> = changed
                .iter()
                .map(|c| c.split(' ').next().unwrap_or_default())
                .collect();
            let details = json!({ "changed": fields });
            self.step(Write::UpdateAccount(account), "account.updated", target, None, details);
        }
        if let Some(list) = &a.memberships {
            self.memberships(&account_id, created, list, &mut changed);
        }
        self.change(Kind::Account, a.email.to_string(), created, changed);
    }

    fn memberships(
        &mut self,
        account_id: &str,
        created: bool,
        list: &[super::validate::DMembership],
        changed: &mut Vec<String>,
    ) {
        let current: Vec<Membership> = if created {
            Vec::new()
        } else {
            self.cur.memberships.get(account_id).cloned().unwrap_or_default()
        };
        let mut wanted: Vec<(OrgId, Role)> = Vec::new();
        for m in list {
            if let Some(org) = self.resolve_org(&m.path, &m.org) {
                if wanted.iter().any(|(o, _)| o == &org) {
                    self.bad(&m.path, format!("the account is already a member of {org}"));
                    continue;
                }
                wanted.push((org, m.role));
            }
        }
        let target = format!("account:{account_id}");
        for (org, role) in &wanted {
            let have = current.iter().find(|m| &m.org_id == org);
            if have.is_some_and(|m| m.role == *role) {
                continue;
            }
            let action = if have.is_some() {
                "membership.role_changed"
            } else {
                "membership.added"
            };
            changed.push(format!(
                "{} {org} as {}",
                if have.is_some() { "role in" } else { "member of" },
                role.as_str()
            ));
            let m = Membership {
                org_id: org.clone(),
                account_id: account_id.to_owned(),
                role: *role,
                created_at: have.map_or(self.now, |m| m.created_at),
            };
            let details = json!({ "role": role.as_str() });
            self.step(
                Write::UpsertMembership(m),
                action,
                target.clone(),
                Some(org.as_str()),
                details,
            );
        }
        for m in current.iter().filter(|m| !wanted.iter().any(|(o, _)| o == &m.org_id)) {
            changed.push(format!("no longer member of {}", m.org_id));
            let write = Write::DeleteMembership {
                org_id: m.org_id.clone(),
                account_id: account_id.to_owned(),
            };
            let details = json!({ "role": m.role.as_str() });
            self.step(
                write,
                "membership.removed",
                target.clone(),
                Some(m.org_id.as_str()),
                details,
            );
        }
    }

    fn service(&mut self, s: &DService) {
        let existing = self.cur.services.iter().find(|x| x.code == s.code);
        let created = existing.is_none();
        let mut svc = match existing {
            Some(x) => x.clone(),
            None => Service {
                code: s.code.clone(),
                name: s.name.clone(),
                description: String::new(),
                allowed_types: s.allowed_types.clone(),
                scopes: s.scopes.clone(),
                acts_for: s.acts_for,
                upstream_url: None,
                gateway: Default::default(),
                created_at: self.now,
                updated_at: self.now,
            },
        };
        let mut changed = Vec::new();
        if svc.name != s.name {
            changed.push(format!("name → {:?}", s.name));
            svc.name = s.name.clone();
        }
        if let Some(d) = &s.description
            && &svc.description != d
        {
            changed.push("description".to_owned());
            svc.description = d.clone();
        }
        if sorted(&svc.allowed_types) != sorted(&s.allowed_types) {
            let names: Vec<&str> = s.allowed_types.iter().map(|t| t.as_str()).collect();
            changed.push(format!("allowed_types → [{}]", names.join(", ")));
            svc.allowed_types = s.allowed_types.clone();
        }
        if sorted(&svc.scopes) != sorted(&s.scopes) {
            changed.push(format!("scopes → [{}]", s.scopes.join(", ")));
            svc.scopes = s.scopes.clone();
        }
        if svc.acts_for != s.acts_for {
            changed.push(format!("acts_for → {}", s.acts_for.as_str()));
            svc.acts_for = s.acts_for;
        }
        if let Some(u) = &s.upstream_url
            && svc.upstream_url.as_ref() != Some(u)
        {
            changed.push(format!("upstream_url → {u}"));
            svc.upstream_url = Some(u.clone());
        }
        if let Some(i) = s.identity
            && svc.gateway.identity != i
        {
            changed.push(format!("identity → {}", i.as_str()));
            svc.gateway.identity = i;
        }
        if let Some(p) = &s.gateway_path
            && svc.gateway.path.as_ref() != Some(p)
        {
            changed.push(format!("gateway_path → {p}"));
            svc.gateway.path = Some(p.clone());
        }
        if let Some(l) = s.limits
            && svc.gateway.limits != l
        {
            changed.push(format!("limits → {l:?}"));
            svc.gateway.limits = l;
        }
        self.services.insert(svc.code.clone(), svc.clone());
        let target = format!("service:{}", svc.code);
        if created {
            let details = json!({ "name": svc.name, "allowed_types": svc.allowed_types, "scopes": svc.scopes });
            self.step(Write::UpsertService(svc), "service.created", target, None, details);
        } else if !changed.is_empty() {
            svc.updated_at = self.now;
            let fields: Vec<&str> = changed
                .iter()
                .map(|c| c.split(' ').next().unwrap_or_default())
                .collect();
            self.step(
                Write::UpsertService(svc),
                "service.updated",
                target,
                None,
                json!({ "changed": fields }),
            );
        }
        self.change(Kind::Service, s.code.to_string(), created, changed);
    }
}

/// A sorted copy, to compare lists as sets.
pub(super) fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}
