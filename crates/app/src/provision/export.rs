//! `gatehouse export`: the database as a provisioning file, in the format `apply` reads.
//!
//! Secrets appear only as the SHA-256 digests Gatehouse stores (`client_secret_sha256`), passwords
//! as their argon2 hashes, certificates as inline PEM. The output is deterministic (fixed key order,
//! objects sorted), so exporting an unchanged database twice gives the same bytes, and applying an
//! export to the database it came from changes nothing.

use std::collections::HashMap;

use gatehouse_domain::events::model::{Provider, RegistrationStatus};
use gatehouse_domain::gateway::{IdentityForwarding, Limits};
use gatehouse_domain::{
    account::Account,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner},
    org::Membership,
};
use gatehouse_store::{
    AccountStore, EventStore, IntegrationStore, OrgStore, ProjectStore, ServiceStore, Store, StoreError,
};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value, value};

const HEADER: &str = "\
# Gatehouse provisioning file, written by `gatehouse export`.
# Apply it with `gatehouse apply -f FILE`. Client secrets appear only as SHA-256 digests and
# passwords only as argon2 hashes; webhook secrets of event registrations not at all. Lists
# (memberships, secrets, certificates, subscriptions, event providers, event types, event
# registrations) are declarative: applying this file makes them exactly what is written here.

";

/// Writes every organization, account, service and integration as a provisioning file.
pub async fn export(store: &Store) -> Result<String, StoreError> {
    let mut db = store.conn().await?;
    let orgs = db.list_orgs().await?;
    let accounts = db.list_accounts().await?;
    let services = db.list_services().await?;
    let integrations = db.list_integrations().await?;
    let providers = db.list_providers(None).await?;

    let emails: HashMap<&str, &str> = accounts.iter().map(|a| (a.id.as_str(), a.email.as_str())).collect();
    let mut doc = DocumentMut::new();

    let mut sorted_orgs: Vec<_> = orgs.iter().collect();
    sorted_orgs.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut aot = ArrayOfTables::new();
    for o in sorted_orgs {
        let mut t = Table::new();
        t["id"] = value(o.id.as_str());
        t["name"] = value(&o.name);
        if o.require_mfa {
            t["require_mfa"] = value(true);
        }
        aot.push(t);
    }
    insert(&mut doc, "organizations", aot);

    let mut sorted_accounts: Vec<&Account> = accounts.iter().collect();
    sorted_accounts.sort_by(|a, b| a.email.cmp(&b.email));
    let mut aot = ArrayOfTables::new();
    for a in sorted_accounts {
        let mut memberships = db.memberships_of_account(&a.id).await?;
        memberships.sort_by(|x, y| x.org_id.cmp(&y.org_id));
        aot.push(account(a, &memberships));
    }
    insert(&mut doc, "accounts", aot);

    let mut aot = ArrayOfTables::new();
    let mut sorted_services: Vec<_> = services.iter().collect();
    sorted_services.sort_by(|a, b| a.code.cmp(&b.code));
    for s in sorted_services {
        let mut t = Table::new();
        t["code"] = value(s.code.as_str());
        t["name"] = value(&s.name);
        if !s.description.is_empty() {
            t["description"] = value(&s.description);
        }
        let mut types = s.allowed_types.clone();
        types.sort();
        types.dedup();
        t["allowed_types"] = value(strings(types.iter().map(|t| t.as_str())));
        t["scopes"] = value(strings(s.scopes.iter().map(String::as_str)));
        t["acts_for"] = value(s.acts_for.as_str());
        if let Some(u) = &s.upstream_url {
            t["upstream_url"] = value(u);
        }
        if s.gateway.identity != IdentityForwarding::default() {
            t["identity"] = value(s.gateway.identity.as_str());
        }
        if let Some(p) = &s.gateway.path {
            t["gateway_path"] = value(p);
        }
        if !s.gateway.limits.is_empty() {
            t["limits"] = value(limits_table(&s.gateway.limits));
        }
        aot.push(t);
    }
    insert(&mut doc, "services", aot);

    let owner_key = |i: &Integration| match &i.owner {
        Owner::Organization(o) => format!("0:{o}"),
        Owner::Account(a) => format!("1:{}", emails.get(a.as_str()).copied().unwrap_or(a)),
    };
    let mut sorted_integrations: Vec<&Integration> = integrations.iter().collect();
    sorted_integrations.sort_by_cached_key(|i| (owner_key(i), i.name.clone(), i.client_id.clone()));
    let mut aot = ArrayOfTables::new();
    for i in sorted_integrations {
        let mut t = integration(&mut db, i, &emails).await?;
        events(&mut db, &mut t, i, &providers).await?;
        aot.push(t);
    }
    insert(&mut doc, "integrations", aot);

    Ok(format!("{HEADER}{}", doc.to_string().trim_start()))
}

fn insert(doc: &mut DocumentMut, key: &str, aot: ArrayOfTables) {
    if !aot.is_empty() {
        doc.insert(key, Item::ArrayOfTables(aot));
    }
}

/// Gateway limits as `{ per_second = …, burst = …, per_day = …, per_month = … }`, the kinds that
/// are set.
fn limits_table(l: &Limits) -> InlineTable {
    let mut t = InlineTable::new();
    if let Some(v) = l.per_second {
        t.insert("per_second", i64::from(v).into());
    }
    if let Some(v) = l.burst {
        t.insert("burst", i64::from(v).into());
    }
    if let Some(v) = l.per_day.and_then(|v| i64::try_from(v).ok()) {
        t.insert("per_day", v.into());
    }
    if let Some(v) = l.per_month.and_then(|v| i64::try_from(v).ok()) {
        t.insert("per_month", v.into());
    }
    t
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().collect()
}

fn account(a: &Account, memberships: &[Membership]) -> Table {
    let mut t = Table::new();
    t["email"] = value(a.email.as_str());
    t["type"] = value(a.account_type.as_str());
    if let Some(h) = &a.password_hash {
        t["password_hash"] = value(h);
    }
    for (key, v) in [
        ("display_name", &a.display_name),
        ("given_name", &a.given_name),
        ("family_name", &a.family_name),
        ("country", &a.country),
    ] {
        if !v.is_empty() {
            t[key] = value(v);
        }
    }
    if a.operator {
        t["operator"] = value(true);
    }
    if a.disabled {
        t["disabled"] = value(true);
    }
    match memberships {
        [] => {}
        [m] => {
            t["organization"] = value(m.org_id.as_str());
            t["role"] = value(m.role.as_str());
        }
        many => {
            let mut arr = Array::new();
            for m in many {
                let mut it = InlineTable::new();
                it.insert("organization", m.org_id.as_str().into());
                it.insert("role", m.role.as_str().into());
                arr.push(it);
            }
            t["memberships"] = value(one_per_line(arr));
        }
    }
    t
}

async fn integration(
    db: &mut gatehouse_store::Conn,
    i: &Integration,
    emails: &HashMap<&str, &str>,
) -> Result<Table, StoreError> {
    let email = |id: &str| emails.get(id).map(|e| (*e).to_owned());
    let mut t = Table::new();
    t["name"] = value(&i.name);
    t["type"] = value(i.integration_type.as_str());
    match &i.owner {
        Owner::Organization(o) => {
            t["organization"] = value(o);
            if let Some(e) = i.created_by.as_deref().and_then(email) {
                t["created_by"] = value(e);
            }
        }
        Owner::Account(a) => {
            t["owner"] = value(email(a).unwrap_or_else(|| a.clone()));
            if let Some(c) = i.created_by.as_deref().filter(|c| c != a).and_then(email) {
                t["created_by"] = value(c);
            }
        }
    }
    if !i.description.is_empty() {
        t["description"] = value(&i.description);
    }
    if let Some(w) = db.workspace_by_id(&i.workspace_id).await?
        && let Some(p) = db.project_by_id(&w.project_id).await?
    {
        t["project"] = value(&p.name);
        t["workspace"] = value(&w.name);
    }
    if i.status == IntegrationStatus::Disabled {
        t["status"] = value(i.status.as_str());
    }
    t["client_id"] = value(i.client_id.as_str());
    if let Some(p) = i.platform {
        t["platform"] = value(p.as_str());
    }
    if let Some(u) = &i.redirect_uri {
        t["redirect_uri"] = value(u);
    }
    if !i.redirect_patterns.is_empty() {
        t["redirect_patterns"] = value(strings(i.redirect_patterns.iter().map(String::as_str)));
    }
    if let Some(a) = i.id_token_signed_response_alg {
        t["id_token_signed_response_alg"] = value(a.as_str());
    }
    if i.may_introspect {
        t["may_introspect"] = value(true);
    }
    if !i.allowed_domains.is_empty() {
        t["allowed_domains"] = value(strings(i.allowed_domains.iter().map(String::as_str)));
    }
    if let Some(id) = &i.technical_account_id {
        t["technical_account_id"] = value(id);
    }
    if let Some(e) = &i.technical_account_email {
        t["technical_account_email"] = value(e);
    }
    if i.has_secret() {
        // Expired secrets are left out: the file declares no expiry, so applying it elsewhere
        // would make them authenticate again.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let active: Vec<String> = db
            .secrets_of(&i.id)
            .await?
            .into_iter()
            .filter(|s| s.revoked_at.is_none() && !s.is_expired_at(now))
            .map(|s| s.digest)
            .collect();
        t["client_secret_sha256"] = match active.as_slice() {
            [one] => value(one),
            many => value(strings(many.iter().map(String::as_str))),
        };
    }
    if i.integration_type == IntegrationType::ServiceAccount {
        let pems: Vec<String> = db
            .certificates_of(&i.id)
            .await?
            .into_iter()
            .filter(|c| c.revoked_at.is_none())
            .map(|c| c.pem)
            .collect();
        t["certificates"] = value(one_per_line(strings(pems.iter().map(String::as_str))));
    }
    let mut subs = Array::new();
    for s in db.subscriptions_of(&i.id).await? {
        let mut it = InlineTable::new();
        it.insert("service", s.service_code.as_str().into());
        let mut scopes = s.scopes.clone();
        scopes.sort();
        it.insert("scopes", Value::Array(strings(scopes.iter().map(String::as_str))));
        if !s.limits.is_empty() {
            it.insert("limits", Value::InlineTable(limits_table(&s.limits)));
        }
        subs.push(it);
    }
    t["subscriptions"] = value(one_per_line(subs));
    Ok(t)
}

/// The integration's custom event providers (with their event types) and its registrations;
/// never a webhook secret. Registrations name providers by ID. Left out when there are none.
async fn events(
    db: &mut gatehouse_store::Conn,
    t: &mut Table,
    i: &Integration,
    providers: &[Provider],
) -> Result<(), StoreError> {
    let mut aot = ArrayOfTables::new();
    for p in providers
        .iter()
        .filter(|p| p.owner_integration_id.as_deref() == Some(i.id.as_str()))
    {
        let mut pt = Table::new();
        pt["id"] = value(&p.id);
        pt["label"] = value(&p.label);
        if !p.description.is_empty() {
            pt["description"] = value(&p.description);
        }
        if let Some(u) = &p.docs_url {
            pt["docs_url"] = value(u);
        }
        let mut types = db.event_types_of(&p.id).await?;
        types.sort_by(|a, b| a.event_code.cmp(&b.event_code));
        let mut tt = ArrayOfTables::new();
        for et in &types {
            let mut e = Table::new();
            e["code"] = value(et.event_code.as_str());
            e["label"] = value(&et.label);
            if !et.description.is_empty() {
                e["description"] = value(&et.description);
            }
            if let Some(s) = &et.sample {
                e["sample"] = value(s.to_string());
            }
            tt.push(e);
        }
        if tt.is_empty() {
            pt["event_types"] = value(Array::new());
        } else {
            pt["event_types"] = Item::ArrayOfTables(tt);
        }
        aot.push(pt);
    }
    if !aot.is_empty() {
        t["event_providers"] = Item::ArrayOfTables(aot);
    }
    let mut regs = db.registrations_of_integration(&i.id).await?;
    regs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut aot = ArrayOfTables::new();
    for r in &regs {
        let mut rt = Table::new();
        rt["name"] = value(&r.name);
        if !r.description.is_empty() {
            rt["description"] = value(&r.description);
        }
        rt["delivery_method"] = value(r.delivery_method.as_str());
        if let Some(u) = &r.webhook_url {
            rt["webhook_url"] = value(u);
        }
        let mut events = Array::new();
        let mut interests = r.events_of_interest.clone();
        interests.sort();
        for e in &interests {
            let mut it = InlineTable::new();
            it.insert("provider", e.provider_id.as_str().into());
            it.insert("code", e.event_code.as_str().into());
            events.push(it);
        }
        rt["events"] = value(one_per_line(events));
        if r.status == RegistrationStatus::Disabled {
            rt["status"] = value("disabled");
        }
        aot.push(rt);
    }
    if !aot.is_empty() {
        t["event_registrations"] = Item::ArrayOfTables(aot);
    }
    Ok(())
}

/// Lays an array out one element per line when it has any element.
fn one_per_line(mut arr: Array) -> Array {
    if arr.is_empty() {
        return arr;
    }
    for v in arr.iter_mut() {
        v.decor_mut().set_prefix("\n  ");
        v.decor_mut().set_suffix("");
    }
    arr.set_trailing("\n");
    arr.set_trailing_comma(true);
    arr
}
