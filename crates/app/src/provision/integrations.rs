//! Planning for integrations: matching each one to the database (by client ID, else by owner and
//! name), and deciding its fields, client secrets, certificates and subscriptions.
//!
//! Lists given in the file are declarative: the listed secrets, certificates and subscriptions
//! become the integration's active set; active ones not listed are revoked or removed. A list left
//! out of the file leaves that part of the integration as it is.

use std::collections::BTreeSet;

use gatehouse_domain::{
    certificate,
    ids::{self, ClientId, TechnicalAccount},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform, StoredCertificate, StoredSecret},
    project::{self, Project, Workspace},
    secret,
    service::{self, Service, Subscription, SubscriptionError},
};
use rand::{CryptoRng, RngCore};
use serde_json::json;

/// Where a new integration goes ([`Planner::placement`]).
#[derive(Debug)]
pub(super) struct Placement {
    workspace: Workspace,
    /// A project to create, with its Production workspace.
    new_project: Option<(Project, Workspace)>,
    /// `workspace` is to be created (in a project that exists or is created above).
    new_workspace: bool,
}

use super::{
    event_plan::Resolved,
    plan::{GeneratedSecret, Kind, Planner, Write, sorted},
    validate::{DCert, DIntegration, DOwner, DSecret, DSub},
};

impl<R: RngCore + CryptoRng> Planner<'_, R> {
    pub(super) fn integrations(&mut self, list: &[DIntegration]) {
        let mut matched: BTreeSet<String> = BTreeSet::new();
        let mut by_owner_name: BTreeSet<(String, String)> = BTreeSet::new();
        let mut tech_ids: BTreeSet<String> = BTreeSet::new();
        for x in list {
            let Some(owner) = self.resolve_owner(x) else { continue };
            let created_by = match &x.created_by {
                Some(email) => match self.account_id(email.as_str()) {
                    Some(id) => Some(id),
                    None => {
                        self.bad(
                            format!("{}.created_by", x.path),
                            format!("no account \"{email}\" (define it under [[accounts]] or in the database)"),
                        );
                        continue;
                    }
                },
                None => None,
            };
            let owner_key = self.owner_label(&owner);
            if x.client_id.is_none() && !by_owner_name.insert((owner_key.clone(), x.name.clone())) {
                self.bad(
                    format!("{}.name", x.path),
                    format!(
                        "integration {:?} of {owner_key} is listed twice; give each a client_id to tell them apart",
                        x.name
                    ),
                );
                continue;
            }
            let existing = match &x.client_id {
                Some(id) => self.cur.integrations.iter().find(|i| &i.client_id == id),
                None => {
                    let same: Vec<&Integration> = self
                        .cur
                        .integrations
                        .iter()
                        .filter(|i| i.owner == owner && i.name == x.name)
                        .collect();
                    if same.len() > 1 {
                        self.bad(
                            format!("{}.name", x.path),
                            format!(
                                "{} integrations of {owner_key} are named {:?}; add client_id to say which one",
                                same.len(),
                                x.name
                            ),
                        );
                        continue;
                    }
                    same.first().copied()
                }
            };
            if let Some(e) = existing {
                if !matched.insert(e.id.clone()) {
                    self.bad(
                        format!("{}.client_id", x.path),
                        format!("integration {} is listed twice", e.client_id),
                    );
                    continue;
                }
                if e.integration_type != x.integration_type {
                    self.bad(
                        format!("{}.type", x.path),
                        format!(
                            "integration {:?} (client ID {}) is a {} integration; its type cannot change",
                            e.name,
                            e.client_id,
                            e.integration_type.as_str()
                        ),
                    );
                    continue;
                }
                if e.owner != owner {
                    let key = if matches!(x.owner, DOwner::Org(_)) {
                        "organization"
                    } else {
                        "owner"
                    };
                    self.bad(
                        format!("{}.{key}", x.path),
                        format!(
                            "integration {:?} (client ID {}) belongs to {}; its owner cannot change",
                            e.name,
                            e.client_id,
                            self.owner_label(&e.owner)
                        ),
                    );
                    continue;
                }
            }
            self.integration(x, existing, owner, created_by, &mut tech_ids);
        }
    }

    fn resolve_owner(&mut self, x: &DIntegration) -> Option<Owner> {
        match &x.owner {
            DOwner::Org(r) => self
                .resolve_org(&format!("{}.organization", x.path), r)
                .map(|id| Owner::Organization(id.to_string())),
            DOwner::Account(email) => match self.account_id(email.as_str()) {
                Some(id) => Some(Owner::Account(id)),
                None => {
                    self.bad(
                        format!("{}.owner", x.path),
                        format!("no account \"{email}\" (define it under [[accounts]] or in the database)"),
                    );
                    None
                }
            },
        }
    }

    fn account_id(&self, email: &str) -> Option<String> {
        self.account_ids.get(email).cloned().or_else(|| {
            self.cur
                .accounts
                .iter()
                .find(|a| a.email.as_str() == email)
                .map(|a| a.id.clone())
        })
    }

    /// Where a new integration goes, and what must be created for it: the project and workspace
    /// the file names (found among its owner's, else created), or — when it names none — a
    /// project of its own, as the migration that introduced projects gave every integration. An
    /// existing integration stays where it is: `Ok(None)`, or a refusal when the file names
    /// another place (credentials do not move between workspaces).
    fn placement(
        &mut self,
        x: &DIntegration,
        existing: Option<&Integration>,
        owner: &Owner,
        created_by: Option<&str>,
    ) -> Result<Option<Placement>, String> {
        let known = |planner: &Self, name: &str| -> Option<(Project, Vec<Workspace>)> {
            let mut found: Option<(Project, Vec<Workspace>)> = planner
                .cur
                .projects
                .iter()
                .chain(planner.new_projects.iter())
                .find(|(p, _)| &p.owner == owner && p.name == name)
                .cloned();
            if let Some((p, ws)) = found.as_mut() {
                for (q, more) in &planner.new_projects {
                    if q.id == p.id {
                        ws.extend(
                            more.iter()
                                .filter(|w| !ws.iter().any(|x| x.id == w.id))
                                .cloned()
                                .collect::<Vec<_>>(),
                        );
                    }
                }
            }
            found
        };
        match (&x.placement, existing) {
            (None, Some(_)) => Ok(None),
            (Some((p, w)), Some(e)) => match known(self, p) {
                Some((_, ws)) if ws.iter().any(|x| &x.name == w && x.id == e.workspace_id) => Ok(None),
                _ => Err(format!(
                    "this integration lives in another workspace than {p} › {w}; credentials do not move between \
                     workspaces (create a new one there instead)"
                )),
            },
            (None, None) => {
                let (project, workspace) = project::own_project(
                    &x.name,
                    x.description.as_deref().unwrap_or(""),
                    owner.clone(),
                    created_by,
                    self.now,
                    self.rng,
                );
                Ok(Some(Placement {
                    workspace: workspace.clone(),
                    new_project: Some((project, workspace)),
                    new_workspace: false,
                }))
            }
            (Some((p, w)), None) => {
                let (project, workspaces, new_project) = match known(self, p) {
                    Some((project, ws)) => (project, ws, None),
                    None => {
                        let input = project::Input {
                            name: p.clone(),
                            ..project::Input::default()
                        };
                        let (project, production) =
                            project::new_project(&input, owner.clone(), created_by, self.now, self.rng).map_err(
                                |e| e.iter().map(|f| f.error.message.clone()).collect::<Vec<_>>().join("; "),
                            )?;
                        (project.clone(), vec![production.clone()], Some((project, production)))
                    }
                };
                if let Some(existing) = workspaces.iter().find(|x| &x.name == w) {
                    return Ok(Some(Placement {
                        workspace: existing.clone(),
                        new_project,
                        new_workspace: false,
                    }));
                }
                let input = project::Input {
                    name: w.clone(),
                    ..project::Input::default()
                };
                let workspace = project::new_workspace(&project, workspaces.len(), &input, self.now, self.rng)
                    .map_err(|e| e.iter().map(|f| f.error.message.clone()).collect::<Vec<_>>().join("; "))?;
                Ok(Some(Placement {
                    workspace,
                    new_project,
                    new_workspace: true,
                }))
            }
        }
    }

    /// Plans what a placement creates, and remembers it for the file's later integrations.
    fn record_placement(&mut self, place: Placement, org: Option<&str>) {
        if let Some((p, production)) = place.new_project {
            let details = json!({ "name": p.name, "title": p.title, "workspace_id": production.id });
            let target = format!("project:{}", p.id);
            self.new_projects.push((p.clone(), vec![production.clone()]));
            self.step(
                Write::InsertProject(Box::new((p, production))),
                "project.created",
                target,
                org,
                details,
            );
        }
        if place.new_workspace {
            let w = place.workspace;
            let target = format!("project:{}", w.project_id);
            let details = json!({ "workspace_id": w.id, "name": w.name });
            match self.new_projects.iter_mut().find(|(p, _)| p.id == w.project_id) {
                Some((_, ws)) => ws.push(w.clone()),
                None => {
                    if let Some((p, _)) = self.cur.projects.iter().find(|(p, _)| p.id == w.project_id) {
                        self.new_projects.push((p.clone(), vec![w.clone()]));
                    }
                }
            }
            self.step(Write::InsertWorkspace(w), "workspace.created", target, org, details);
        }
    }

    fn owner_label(&self, owner: &Owner) -> String {
        match owner {
            Owner::Organization(o) => format!("organization {o}"),
            Owner::Account(id) => {
                let file = self.account_ids.iter().find(|(_, v)| *v == id).map(|(k, _)| k.clone());
                let db = || {
                    self.cur
                        .accounts
                        .iter()
                        .find(|a| &a.id == id)
                        .map(|a| a.email.to_string())
                };
                format!("account {}", file.or_else(db).unwrap_or_else(|| id.clone()))
            }
        }
    }

    fn service_for(&self, code: &service::ServiceCode) -> Option<Service> {
        self.services
            .get(code)
            .cloned()
            .or_else(|| self.cur.services.iter().find(|s| &s.code == code).cloned())
    }

    fn integration(
        &mut self,
        x: &DIntegration,
        existing: Option<&Integration>,
        owner: Owner,
        created_by: Option<String>,
        tech_ids: &mut BTreeSet<String>,
    ) {
        let created = existing.is_none();
        let before = self.problems.len();
        let mut changed: Vec<String> = Vec::new();
        let placement = match self.placement(x, existing, &owner, created_by.as_deref()) {
            Ok(p) => p,
            Err(why) => {
                self.bad(format!("{}.project", x.path), why);
                return;
            }
        };
        let mut i = match existing {
            Some(e) => e.clone(),
            None => Integration {
                id: ids::new_row_id(self.rng),
                client_id: x.client_id.clone().unwrap_or_else(|| ClientId::generate(self.rng)),
                name: x.name.clone(),
                description: String::new(),
                integration_type: x.integration_type,
                platform: None,
                owner: owner.clone(),
                created_by: None,
                redirect_uri: None,
                redirect_patterns: Vec::new(),
                technical_account_id: None,
                technical_account_email: None,
                id_token_signed_response_alg: None,
                may_introspect: false,
                allowed_domains: Vec::new(),
                workspace_id: placement.as_ref().map(|p| p.workspace.id.clone()).unwrap_or_default(),
                status: IntegrationStatus::Active,
                created_at: self.now,
                updated_at: self.now,
            },
        };
        if i.name != x.name {
            changed.push(format!("name → {:?}", x.name));
            i.name = x.name.clone();
        }
        if let Some(d) = &x.description
            && &i.description != d
        {
            changed.push("description".to_owned());
            i.description = d.clone();
        }
        if let Some(s) = x.status
            && i.status != s
        {
            changed.push(format!("status → {}", s.as_str()));
            i.status = s;
        }
        if created_by.is_some() && i.created_by != created_by {
            changed.push("created_by".to_owned());
            i.created_by = created_by;
        } else if created && i.created_by.is_none() {
            // A personal integration was created by its owner.
            if let Owner::Account(a) = &owner {
                i.created_by = Some(a.clone());
            }
        }
        if x.platform.is_some() && i.platform != x.platform {
            changed.push(format!("platform → {}", x.platform.map_or("", Platform::as_str)));
            i.platform = x.platform;
        }
        if x.redirect_uri.is_some() && i.redirect_uri != x.redirect_uri {
            changed.push("redirect_uri".to_owned());
            i.redirect_uri = x.redirect_uri.clone();
        }
        if let Some(p) = &x.redirect_patterns
            && &i.redirect_patterns != p
        {
            changed.push("redirect_patterns".to_owned());
            i.redirect_patterns = p.clone();
        }
        if x.id_token_signed_response_alg.is_some() && i.id_token_signed_response_alg != x.id_token_signed_response_alg
        {
            changed.push("id_token_signed_response_alg".to_owned());
            i.id_token_signed_response_alg = x.id_token_signed_response_alg;
        }
        // The command line is the operator, who alone may grant this (`policy::grant_introspection`).
        if let Some(may) = x.may_introspect
            && i.may_introspect != may
        {
            changed.push(format!("may_introspect → {may}"));
            i.may_introspect = may;
        }
        if let Some(d) = &x.allowed_domains
            && &i.allowed_domains != d
        {
            changed.push("allowed_domains".to_owned());
            i.allowed_domains = d.clone();
        }
        if i.integration_type.is_technical_account() {
            self.technical_account(x, &mut i, created, &mut changed, tech_ids);
        }
        if self.problems.len() != before {
            return;
        }
        let org = i.org_id().map(str::to_owned);
        let target = format!("integration:{}", i.id);
        let integration_id = i.id.clone();
        let label = format!("{} ({})", i.name, i.client_id);
        let needs_secret = i.has_secret();
        let (client_id, name, itype) = (i.client_id.to_string(), i.name.clone(), i.integration_type);
        if let Some(place) = placement {
            self.record_placement(place, org.as_deref());
        }
        if created {
            let details = json!({ "client_id": client_id, "type": itype.as_str(), "name": name });
            self.step(
                Write::InsertIntegration(i),
                "integration.created",
                target.clone(),
                org.as_deref(),
                details,
            );
        } else if !changed.is_empty() {
            i.updated_at = self.now;
            let fields: Vec<&str> = changed
                .iter()
                .map(|c| c.split(' ').next().unwrap_or_default())
                .collect();
            let details = json!({ "changed": fields });
            self.step(
                Write::UpdateIntegration(i),
                "integration.updated",
                target.clone(),
                org.as_deref(),
                details,
            );
        }
        let ctx = Ctx {
            integration_id: &integration_id,
            target: &target,
            org: org.as_deref(),
            created,
        };
        self.secrets(x, &ctx, needs_secret, (&name, &client_id), &mut changed);
        if let Some(list) = &x.certificates {
            self.certificates(list, &ctx, &mut changed);
        }
        if let Some(list) = &x.subscriptions {
            self.subscriptions(list, itype, &ctx, &mut changed);
        }
        let change = self.plan.changes.len();
        self.resolved
            .push(Resolved::new(&x.path, &integration_id, &owner, change, created));
        self.change(Kind::Integration, label, created, changed);
    }

    fn technical_account(
        &mut self,
        x: &DIntegration,
        i: &mut Integration,
        created: bool,
        changed: &mut Vec<String>,
        tech_ids: &mut BTreeSet<String>,
    ) {
        if let Some(id) = &x.technical_account_id
            && i.technical_account_id.as_ref() != Some(id)
        {
            if !created {
                changed.push("technical_account_id".to_owned());
            }
            i.technical_account_id = Some(id.clone());
        }
        if let Some(email) = &x.technical_account_email
            && i.technical_account_email.as_deref() != Some(email.as_str())
        {
            if !created {
                changed.push("technical_account_email".to_owned());
            }
            i.technical_account_email = Some(email.to_string());
        }
        if i.technical_account_id.is_none() || i.technical_account_email.is_none() {
            let generated = TechnicalAccount::generate(self.rng, &self.settings.technical_account_domain);
            if !created {
                changed.push("technical account generated".to_owned());
            }
            i.technical_account_id.get_or_insert(generated.id);
            i.technical_account_email.get_or_insert(generated.email);
        }
        for (key, value) in [
            ("technical_account_id", i.technical_account_id.clone()),
            ("technical_account_email", i.technical_account_email.clone()),
        ] {
            let Some(value) = value else { continue };
            let taken = self.cur.integrations.iter().any(|o| {
                o.id != i.id
                    && (o.technical_account_id.as_deref() == Some(value.as_str())
                        || o.technical_account_email.as_deref() == Some(value.as_str()))
            });
            if taken || !tech_ids.insert(value.clone()) {
                self.bad(
                    format!("{}.{key}", x.path),
                    format!("technical account {value} already belongs to another integration"),
                );
            }
        }
    }

    fn secrets(
        &mut self,
        x: &DIntegration,
        ctx: &Ctx<'_>,
        needs_secret: bool,
        (name, client_id): (&str, &str),
        changed: &mut Vec<String>,
    ) {
        let stored: Vec<StoredSecret> = if ctx.created {
            Vec::new()
        } else {
            self.cur.secrets.get(ctx.integration_id).cloned().unwrap_or_default()
        };
        let active: Vec<&StoredSecret> = stored.iter().filter(|s| s.revoked_at.is_none()).collect();
        let wanted: Vec<&DSecret> = match (&x.secrets, needs_secret) {
            (_, false) => Vec::new(),
            (Some(list), true) => list.iter().collect(),
            (None, true) => {
                if active.is_empty() {
                    let plain = secret::new_client_secret(self.rng);
                    let s = self.new_secret(ctx.integration_id, secret::digest(&plain), secret::hint(&plain));
                    self.step(
                        Write::InsertSecret(s),
                        "client_secret.added",
                        ctx.target.to_owned(),
                        ctx.org,
                        json!({ "generated": true }),
                    );
                    self.plan.generated_secrets.push(GeneratedSecret {
                        integration: name.to_owned(),
                        client_id: client_id.to_owned(),
                        secret: plain,
                    });
                    if !ctx.created {
                        changed.push("client secret generated".to_owned());
                    }
                }
                return;
            }
        };
        for w in &wanted {
            if active.iter().any(|s| s.digest == w.digest) {
                continue;
            }
            if stored.iter().any(|s| s.digest == w.digest) {
                self.bad(
                    &w.path,
                    "this client secret was revoked on this integration and cannot be used again; choose a new one",
                );
                continue;
            }
            let s = self.new_secret(ctx.integration_id, w.digest.clone(), w.hint.clone());
            self.step(
                Write::InsertSecret(s),
                "client_secret.added",
                ctx.target.to_owned(),
                ctx.org,
                json!({ "generated": false }),
            );
            if !ctx.created {
                changed.push("client secret added".to_owned());
            }
        }
        for s in active.iter().filter(|s| !wanted.iter().any(|w| w.digest == s.digest)) {
            let write = Write::RevokeSecret {
                integration_id: ctx.integration_id.to_owned(),
                secret_id: s.id.clone(),
            };
            self.step(
                write,
                "client_secret.revoked",
                ctx.target.to_owned(),
                ctx.org,
                json!({ "secret_id": s.id }),
            );
            changed.push("client secret revoked".to_owned());
        }
    }

    fn new_secret(&mut self, integration_id: &str, digest: String, hint: String) -> StoredSecret {
        StoredSecret {
            id: ids::new_row_id(self.rng),
            integration_id: integration_id.to_owned(),
            digest,
            hint,
            created_at: self.now,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
        }
    }

    fn certificates(&mut self, list: &[DCert], ctx: &Ctx<'_>, changed: &mut Vec<String>) {
        let stored: Vec<StoredCertificate> = if ctx.created {
            Vec::new()
        } else {
            self.cur
                .certificates
                .get(ctx.integration_id)
                .cloned()
                .unwrap_or_default()
        };
        for c in list {
            let fp = &c.cert.fingerprint;
            if let Some(s) = stored.iter().find(|s| &s.fingerprint == fp) {
                if s.revoked_at.is_some() {
                    self.bad(
                        &c.path,
                        format!("certificate {fp} was revoked on this integration and cannot be added again; generate a new key pair"),
                    );
                } else if s.not_after < self.now {
                    self.plan
                        .warnings
                        .push(format!("{}: certificate {fp} has expired; replace it", c.path));
                }
                continue;
            }
            if let Err(e) = certificate::parse(&c.cert.pem, self.now) {
                self.bad(&c.path, e.to_string());
                continue;
            }
            let cert = StoredCertificate {
                id: ids::new_row_id(self.rng),
                integration_id: ctx.integration_id.to_owned(),
                fingerprint: fp.clone(),
                pem: c.cert.pem.clone(),
                not_before: c.cert.not_before,
                not_after: c.cert.not_after,
                created_at: self.now,
                revoked_at: None,
            };
            let details = json!({ "fingerprint": fp, "not_after": c.cert.not_after });
            self.step(
                Write::InsertCertificate(cert),
                "certificate.added",
                ctx.target.to_owned(),
                ctx.org,
                details,
            );
            if !ctx.created {
                changed.push(format!("certificate {} added", short(fp)));
            }
        }
        for s in stored
            .iter()
            .filter(|s| s.revoked_at.is_none() && !list.iter().any(|c| c.cert.fingerprint == s.fingerprint))
        {
            let write = Write::RevokeCertificate {
                integration_id: ctx.integration_id.to_owned(),
                cert_id: s.id.clone(),
            };
            let details = json!({ "fingerprint": s.fingerprint });
            self.step(write, "certificate.revoked", ctx.target.to_owned(), ctx.org, details);
            changed.push(format!("certificate {} revoked", short(&s.fingerprint)));
        }
    }

    fn subscriptions(&mut self, list: &[DSub], itype: IntegrationType, ctx: &Ctx<'_>, changed: &mut Vec<String>) {
        let stored: Vec<Subscription> = if ctx.created {
            Vec::new()
        } else {
            self.cur
                .subscriptions
                .get(ctx.integration_id)
                .cloned()
                .unwrap_or_default()
        };
        for s in list {
            let Some(svc) = self.service_for(&s.service) else {
                self.bad(
                    format!("{}.service", s.path),
                    format!(
                        "no service \"{}\" (define it under [[services]] or in the database)",
                        s.service
                    ),
                );
                continue;
            };
            let scopes = match service::check_subscription(&svc, itype, &s.scopes) {
                // Stored in one canonical order, whoever wrote them.
                Ok(scopes) => sorted(&scopes),
                Err(e) => {
                    let key = match e {
                        SubscriptionError::ServiceNotAllowedForIntegrationType { .. } => "service",
                        SubscriptionError::ScopeNotOffered { .. } => "scopes",
                    };
                    let allowed: Vec<&str> = svc.allowed_types.iter().map(|t| t.as_str()).collect();
                    let hint = match e {
                        SubscriptionError::ServiceNotAllowedForIntegrationType { .. } => {
                            format!(
                                " (service {} allows: {}; the integration is {})",
                                svc.code,
                                allowed.join(", "),
                                itype.as_str()
                            )
                        }
                        SubscriptionError::ScopeNotOffered { .. } => format!(" (it offers: {})", svc.scopes.join(", ")),
                    };
                    self.bad(format!("{}.{key}", s.path), format!("{}: {e}{hint}", e.code()));
                    continue;
                }
            };
            let have = stored.iter().find(|x| x.service_code == s.service);
            let limits = s.limits.unwrap_or_else(|| have.map(|h| h.limits).unwrap_or_default());
            if have.is_some_and(|h| sorted(&h.scopes) == sorted(&scopes) && h.limits == limits) {
                continue;
            }
            let action = if have.is_some() {
                "subscription.updated"
            } else {
                "subscription.created"
            };
            if !ctx.created {
                changed.push(format!(
                    "{} {}",
                    if have.is_some() { "scopes of" } else { "subscribed to" },
                    s.service
                ));
            }
            let sub = Subscription {
                integration_id: ctx.integration_id.to_owned(),
                service_code: s.service.clone(),
                scopes: scopes.clone(),
                limits,
                created_at: have.map_or(self.now, |h| h.created_at),
                updated_at: self.now,
            };
            let details = json!({ "service": s.service.as_str(), "scopes": scopes });
            self.step(
                Write::UpsertSubscription(sub),
                action,
                ctx.target.to_owned(),
                ctx.org,
                details,
            );
        }
        for h in stored
            .iter()
            .filter(|h| !list.iter().any(|s| s.service == h.service_code))
        {
            changed.push(format!("unsubscribed from {}", h.service_code));
            let write = Write::DeleteSubscription {
                integration_id: ctx.integration_id.to_owned(),
                service: h.service_code.clone(),
            };
            let details = json!({ "service": h.service_code.as_str() });
            self.step(write, "subscription.deleted", ctx.target.to_owned(), ctx.org, details);
        }
    }
}

/// What the credential and subscription planners need to know about their integration.
struct Ctx<'a> {
    integration_id: &'a str,
    target: &'a str,
    org: Option<&'a str>,
    created: bool,
}

fn short(fingerprint: &str) -> &str {
    fingerprint.get(..16).unwrap_or(fingerprint)
}
