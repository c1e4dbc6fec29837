//! The operator area's pages under `/operator` (server-rendered, usable without JavaScript):
//! accounts with their actions, organizations, the services catalog, the audit log with filters
//! and exports, the status page and — when no SMTP server is configured — the outbox. Operators
//! only: every page asks the use cases of `gatehouse_core::operator`, which ask the policy. The
//! same data is served as JSON under `/api/v1/operator` (`crate::api::operator`).

use std::collections::HashMap;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::operator::{
    accounts::{self, AccountFilter},
    audit::{self, AuditFilter},
    orgs, outbox, status,
};
use gatehouse_domain::{identity::operator::OperatorAction, integration::IntegrationStatus};
use gatehouse_store::{ConsoleStore, OrgStore};
use serde::Deserialize;

use crate::{
    AppState,
    account::{Nav, page, when},
    api::operator::AuditParams,
    console::pages::{Ctx, type_label},
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::SignedIn,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/operator", get(|| async { Redirect::to("/operator/accounts") }))
        .route("/operator/accounts", get(accounts_page))
        .route("/operator/accounts/{id}", get(account_page))
        .route("/operator/accounts/{id}/{action}", post(account_action))
        .route("/operator/orgs", get(orgs_page))
        .route("/operator/orgs/{id}", get(org_page))
        .route("/operator/services", get(services_page))
        .route("/operator/audit", get(audit_page))
        .route("/operator/audit/export", get(audit_export))
        .route("/operator/status", get(status_page))
        .route("/operator/outbox", get(outbox_page))
        .route("/operator/outbox/{name}", get(message_page))
}

async fn ctx(state: &AppState, who: SignedIn, csrf: &CsrfToken, client: ClientInfo) -> Result<Ctx, PageError> {
    let ctx = Ctx::new(state, who, csrf, client, "operator").await?;
    gatehouse_core::policy::operate(&ctx.caller.principal).map_err(gatehouse_core::Error::from)?;
    Ok(ctx)
}

/// Whether the outbox tab is shown (no SMTP server configured).
fn has_outbox(state: &AppState) -> bool {
    outbox::outbox_dir(state).is_some()
}

fn day(ts: i64) -> String {
    when(ts).get(..10).unwrap_or_default().to_owned()
}

struct AccountRow {
    id: String,
    email: String,
    name: String,
    account_type: &'static str,
    operator: bool,
    disabled: bool,
    orgs: Vec<(String, String, &'static str)>,
    created: String,
}

#[derive(Template)]
#[template(path = "operator/accounts.html")]
struct AccountsPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    q: String,
    account_type: String,
    org: String,
    orgs: Vec<(String, String)>,
    rows: Vec<AccountRow>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AccountQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    account_type: String,
    #[serde(default)]
    org: String,
}

async fn accounts_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let filter = AccountFilter {
        q: q.q.clone(),
        account_type: q.account_type.clone(),
        org_id: q.org.clone(),
    };
    let (found, error) = match accounts::list(&state, &ctx.caller, &filter).await {
        Ok(found) => (found, None),
        Err(e) if e.kind == gatehouse_core::Kind::Invalid => (Vec::new(), Some(e.message)),
        Err(e) => return Err(e.into()),
    };
    let mut orgs: Vec<(String, String)> = state
        .store
        .conn()
        .await?
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    orgs.sort_by_key(|o| o.1.to_lowercase());
    let rows = found
        .into_iter()
        .map(|s| AccountRow {
            id: s.account.id.clone(),
            email: s.account.email.to_string(),
            name: s.account.display_name.clone(),
            account_type: s.account.account_type.as_str(),
            operator: s.account.operator,
            disabled: s.account.disabled,
            orgs: s
                .orgs
                .iter()
                .map(|(o, r)| (o.id.to_string(), o.name.clone(), r.as_str()))
                .collect(),
            created: day(s.account.created_at),
        })
        .collect();
    let p = AccountsPage {
        nav: ctx.nav,
        tab: "accounts",
        outbox: has_outbox(&state),
        q: q.q,
        account_type: q.account_type,
        org: q.org,
        orgs,
        rows,
        error,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Template)]
#[template(path = "operator/account.html")]
struct AccountPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    notice: Option<String>,
    error: Option<String>,
    id: String,
    email: String,
    name: String,
    account_type: &'static str,
    operator: bool,
    disabled: bool,
    email_verified: bool,
    has_password: bool,
    totp: bool,
    recovery_codes: usize,
    passkeys: usize,
    sessions: usize,
    created: String,
    orgs: Vec<(String, String, &'static str)>,
    integrations: Vec<(String, String, &'static str)>,
    actions: Vec<(&'static str, &'static str, &'static str, bool)>,
}

fn action_about(a: OperatorAction) -> (&'static str, &'static str, bool) {
    match a {
        OperatorAction::Disable => (
            "Disable account",
            "Ends its sessions, refresh tokens and access tokens at once; it cannot sign in until re-enabled.",
            true,
        ),
        OperatorAction::Enable => (
            "Enable account",
            "Lets it sign in again. Tokens ended before stay ended.",
            false,
        ),
        OperatorAction::ResetPassword => (
            "Reset password",
            "The password stops working at once and the person is mailed a link to choose a new one.",
            true,
        ),
        OperatorAction::ResetMfa => (
            "Reset two-step verification",
            "Removes its authenticator app, recovery codes and passkeys, and ends its sessions.",
            true,
        ),
        OperatorAction::SignOutEverywhere => (
            "Sign out everywhere",
            "Ends its sessions, refresh tokens and access tokens; it may sign in again.",
            false,
        ),
    }
}

fn done_notice(done: &str) -> Option<String> {
    Some(
        match done {
            "disable" => "The account is disabled; everything it held has ended.",
            "enable" => "The account is enabled again.",
            "password-reset" => "The password was reset; a link to choose a new one was sent (see the mail transport on the status page).",
            "mfa-reset" => "Two-step verification was reset and the account's sessions ended.",
            "sign-out" => "The account was signed out everywhere.",
            _ => return None,
        }
        .to_owned(),
    )
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn render_account(
    state: &AppState,
    ctx: Ctx,
    csrf: CsrfToken,
    id: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let d = accounts::get(state, &ctx.caller, id).await?;
    let a = &d.summary.account;
    let actions = OperatorAction::ALL
        .into_iter()
        .filter(|x| match x {
            OperatorAction::Disable => !a.disabled && a.id != ctx.who.account.id,
            OperatorAction::Enable => a.disabled,
            _ => true,
        })
        .map(|x| {
            let (label, about, danger) = action_about(x);
            (x.as_str(), label, about, danger)
        })
        .collect();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let p = AccountPage {
        tab: "accounts",
        outbox: has_outbox(state),
        notice,
        error,
        id: a.id.clone(),
        email: a.email.to_string(),
        name: a.display_name.clone(),
        account_type: a.account_type.as_str(),
        operator: a.operator,
        disabled: a.disabled,
        email_verified: a.email_verified,
        has_password: a.password_hash.is_some(),
        totp: d.totp,
        recovery_codes: d.recovery_codes,
        passkeys: d.passkeys,
        sessions: d.sessions,
        created: when(a.created_at),
        orgs: d
            .summary
            .orgs
            .iter()
            .map(|(o, r)| (o.id.to_string(), o.name.clone(), r.as_str()))
            .collect(),
        integrations: d
            .integrations
            .iter()
            .map(|i| (i.id.clone(), i.name.clone(), type_label(i.integration_type)))
            .collect(),
        actions,
        nav: ctx.nav,
    };
    Ok(page(status, csrf, &p))
}

async fn account_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let notice = q.done.as_deref().and_then(done_notice);
    render_account(&state, ctx, csrf, &id, notice, None).await
}

async fn account_action(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let action = OperatorAction::parse(&action)
        .map_err(|e| PageError::new(StatusCode::NOT_FOUND, "Page not found", e.message))?;
    match accounts::act(&state, &ctx.caller, &id, action).await {
        Ok(_) => Ok(Redirect::to(&format!("/operator/accounts/{id}?done={}", action.as_str())).into_response()),
        Err(e) if matches!(e.kind, gatehouse_core::Kind::Invalid | gatehouse_core::Kind::Conflict) => {
            let status = crate::error::status_of(e.kind);
            render_account(&state, ctx, csrf, &id, None, Some((status, e.message))).await
        }
        Err(e) => Err(e.into()),
    }
}

struct OrgRow {
    id: String,
    name: String,
    members: usize,
    integrations: usize,
    domains: usize,
    require_mfa: bool,
}

#[derive(Template)]
#[template(path = "operator/orgs.html")]
struct OrgsPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    q: String,
    rows: Vec<OrgRow>,
}

#[derive(Debug, Default, Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn orgs_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<Search>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let rows = orgs::list(&state, &ctx.caller, &q.q)
        .await?
        .into_iter()
        .map(|s| OrgRow {
            id: s.org.id.to_string(),
            name: s.org.name,
            members: s.members,
            integrations: s.integrations,
            domains: s.domains,
            require_mfa: s.org.require_mfa,
        })
        .collect();
    let p = OrgsPage {
        nav: ctx.nav,
        tab: "orgs",
        outbox: has_outbox(&state),
        q: q.q,
        rows,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

struct IntegrationRow {
    id: String,
    name: String,
    type_label: &'static str,
    client_id: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "operator/org.html")]
struct OrgPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    id: String,
    name: String,
    require_mfa: bool,
    created: String,
    members: Vec<(String, String, &'static str, bool)>,
    integrations: Vec<IntegrationRow>,
    domains: Vec<(String, bool)>,
}

async fn org_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let d = orgs::get(&state, &ctx.caller, &id).await?;
    let p = OrgPage {
        tab: "orgs",
        outbox: has_outbox(&state),
        id: d.org.id.to_string(),
        name: d.org.name.clone(),
        require_mfa: d.org.require_mfa,
        created: when(d.org.created_at),
        members: d
            .members
            .iter()
            .map(|m| {
                (
                    m.account.id.clone(),
                    m.account.email.to_string(),
                    m.membership.role.as_str(),
                    m.account.disabled,
                )
            })
            .collect(),
        integrations: d
            .integrations
            .iter()
            .map(|i| IntegrationRow {
                id: i.id.clone(),
                name: i.name.clone(),
                type_label: type_label(i.integration_type),
                client_id: i.client_id.to_string(),
                active: i.status == IntegrationStatus::Active,
            })
            .collect(),
        domains: d
            .domains
            .iter()
            .map(|c| (c.domain.to_string(), c.verified.is_some()))
            .collect(),
        nav: ctx.nav,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

struct ServiceRow {
    code: String,
    name: String,
    types: String,
    subscriptions: usize,
    proxied: bool,
}

#[derive(Template)]
#[template(path = "operator/services.html")]
struct ServicesPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    rows: Vec<ServiceRow>,
}

async fn services_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let services = gatehouse_core::console::catalog::list(&state).await?;
    let mut conn = state.store.conn().await?;
    let mut rows = Vec::new();
    for s in services {
        rows.push(ServiceRow {
            subscriptions: conn.subscriptions_of_service(&s.code).await?.len(),
            code: s.code.to_string(),
            types: s
                .allowed_types
                .iter()
                .map(|t| type_label(*t))
                .collect::<Vec<_>>()
                .join(", "),
            proxied: s.upstream_url.is_some(),
            name: s.name,
        });
    }
    let p = ServicesPage {
        nav: ctx.nav,
        tab: "services",
        outbox: has_outbox(&state),
        rows,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

struct AuditRow {
    time: String,
    actor: String,
    actor_label: String,
    action: String,
    target: String,
    org: Option<String>,
    ip: Option<String>,
    before_after: Option<(String, String)>,
    details: Option<String>,
}

#[derive(Template)]
#[template(path = "operator/audit.html")]
struct AuditPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    f: AuditFilter,
    filtered: bool,
    /// The filters as a query string, each preceded by `&`.
    query: String,
    rows: Vec<AuditRow>,
    next: Option<i64>,
    error: Option<String>,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn query_of(f: &AuditFilter) -> String {
    let pairs = [
        ("actor", &f.actor),
        ("org", &f.org),
        ("integration", &f.integration),
        ("action", &f.action),
        ("since", &f.since),
        ("until", &f.until),
    ];
    let set: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (*k, v.trim()))
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!("&{}", serde_urlencoded::to_string(set).unwrap_or_default())
    }
}

async fn audit_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(p): Query<AuditParams>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let f = p.filter();
    let limit = f.limit.unwrap_or(audit::PAGE).clamp(1, audit::MAX_PAGE);
    let (records, error, status) = match audit::search(&state, &ctx.caller, &f).await {
        Ok(r) => (r, None, StatusCode::OK),
        Err(e) if e.kind == gatehouse_core::Kind::Invalid => {
            (Vec::new(), Some(e.message), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return Err(e.into()),
    };
    let mut emails: HashMap<String, String> = HashMap::new();
    let mut conn = state.store.conn().await?;
    for r in &records {
        if let Some(id) = r.entry.actor.strip_prefix("account:")
            && !emails.contains_key(id)
            && let Some(a) = gatehouse_store::AccountStore::account_by_id(&mut conn, id).await?
        {
            emails.insert(id.to_owned(), a.email.to_string());
        }
    }
    let next = (i64::try_from(records.len()).unwrap_or(0) == limit)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    let rows = records
        .iter()
        .map(|r| {
            let e = &r.entry;
            AuditRow {
                time: when(e.at),
                actor_label: e
                    .actor
                    .strip_prefix("account:")
                    .and_then(|id| emails.get(id).cloned())
                    .unwrap_or_else(|| e.actor.clone()),
                actor: e.actor.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                org: e.org_id.clone(),
                ip: e.ip.clone(),
                before_after: audit::before_after(&e.details).map(|(b, a)| (pretty(&b), pretty(&a))),
                details: (!e.details.is_null()).then(|| pretty(&e.details)),
            }
        })
        .collect();
    let page_ = AuditPage {
        nav: ctx.nav,
        tab: "audit",
        outbox: has_outbox(&state),
        filtered: f.is_set(),
        query: query_of(&f),
        f,
        rows,
        next,
        error,
    };
    Ok(page(status, csrf, &page_))
}

async fn audit_export(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(p): Query<AuditParams>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    crate::api::operator::export_response(&state, &ctx.caller, &p)
        .await
        .map_err(|e| PageError::from(e.0))
}

struct KeyRow {
    kid: String,
    alg: &'static str,
    state: &'static str,
    activates: String,
    retires: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "operator/status.html")]
struct StatusPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    s: status::Status,
    oldest_due: Option<String>,
    outbox_dir: Option<String>,
    smtp: Vec<(&'static str, String)>,
    keys: Vec<KeyRow>,
    signing_days: String,
    retain_days: String,
}

fn duration(seconds: i64) -> String {
    if seconds % 86_400 == 0 {
        let d = seconds / 86_400;
        format!("{d} day{}", if d == 1 { "" } else { "s" })
    } else {
        let h = seconds / 3_600;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    }
}

async fn status_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let s = status::status(&state, &ctx.caller).await?;
    let (outbox_dir, smtp) = match &s.mail {
        status::MailTransport::Outbox { dir } => (Some(dir.clone()), Vec::new()),
        status::MailTransport::Smtp {
            host,
            port,
            security,
            from,
        } => (
            None,
            vec![
                ("Transport", "SMTP".to_owned()),
                ("Server", format!("{host}:{port}")),
                ("Security", (*security).to_owned()),
                ("Sender", from.clone()),
            ],
        ),
    };
    let keys = s
        .keys
        .iter()
        .map(|k| KeyRow {
            kid: k.kid.clone(),
            alg: k.alg,
            state: k.state,
            activates: when(k.activates_at),
            retires: when(k.retires_at),
            expires: when(k.expires_at),
        })
        .collect();
    let p = StatusPage {
        nav: ctx.nav,
        tab: "status",
        outbox: outbox_dir.is_some(),
        oldest_due: s.dispatcher.backlog.oldest_due_at.map(when),
        signing_days: duration(s.rotation.signing_period),
        retain_days: duration(s.rotation.retain_after_retire),
        outbox_dir,
        smtp,
        keys,
        s,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Template)]
#[template(path = "operator/outbox.html")]
struct OutboxPage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    dir: String,
    rows: Vec<(String, String, String, String)>,
}

async fn outbox_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let (dir, entries) = outbox::list(&state, &ctx.caller).await?;
    let p = OutboxPage {
        nav: ctx.nav,
        tab: "outbox",
        outbox: true,
        dir: dir.display().to_string(),
        rows: entries
            .into_iter()
            .map(|e| (e.name, when(e.at), e.to, e.subject))
            .collect(),
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Template)]
#[template(path = "operator/message.html")]
struct MessagePage {
    nav: Nav,
    tab: &'static str,
    outbox: bool,
    name: String,
    to: String,
    subject: String,
    at: String,
    body: String,
}

async fn message_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let ctx = ctx(&state, who, &csrf, client).await?;
    let m = outbox::read(&state, &ctx.caller, &name).await?;
    let p = MessagePage {
        nav: ctx.nav,
        tab: "outbox",
        outbox: true,
        name: m.entry.name,
        to: m.entry.to,
        subject: m.entry.subject,
        at: when(m.entry.at),
        body: m.body,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}
