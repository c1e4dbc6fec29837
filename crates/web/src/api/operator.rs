//! `/api/v1/operator`: the operator area as JSON — every account (search, disable and re-enable,
//! reset the password or second factors, sign out everywhere), every organization (members,
//! integrations, claimed domains), the audit log (filters, JSON lines and CSV exports), the status
//! page and the development outbox. Operators only (`gatehouse_core::policy::operate`); the
//! services catalog is `/api/v1/services`.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use gatehouse_core::operator::{
    accounts::{self, AccountFilter, AccountSummary},
    audit::{self, AuditFilter},
    orgs, outbox, status,
};
use gatehouse_domain::{account::Account, audit::AuditRecord, identity::operator::OperatorAction};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::integrations::IntegrationOut;
use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, ConsoleProblem as Problem, OpResult},
    extract::{ApiJson, ApiQuery},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/operator/accounts", get(list_accounts))
        .route("/api/v1/operator/accounts/{account}", get(get_account))
        .route("/api/v1/operator/accounts/{account}/{action}", post(account_action))
        .route("/api/v1/operator/orgs", get(list_orgs))
        .route("/api/v1/operator/orgs/{org}", get(get_org))
        .route("/api/v1/operator/audit", get(audit_log))
        .route("/api/v1/operator/audit/export", get(audit_export))
        .route("/api/v1/operator/status", get(get_status))
        .route("/api/v1/operator/outbox", get(list_outbox))
        .route("/api/v1/operator/outbox/{message}", get(read_outbox))
}

/// A membership as the operator area shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipOut {
    pub org_id: String,
    pub org_name: String,
    /// `admin`, `developer` or `member`.
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
}

/// An account as operators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorAccountOut {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// `personal` or `enterprise`.
    pub account_type: String,
    /// The organization that manages an enterprise account.
    pub owner_org_id: Option<String>,
    pub operator: bool,
    pub disabled: bool,
    pub email_verified: bool,
    /// False after a password reset until the person chooses a new one.
    pub has_password: bool,
    pub orgs: Vec<MembershipOut>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OperatorAccountOut {
    fn new(a: &Account, orgs: &[(gatehouse_domain::org::Organization, gatehouse_domain::org::Role)]) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.to_string(),
            display_name: a.display_name.clone(),
            account_type: a.account_type.as_str().to_owned(),
            owner_org_id: a.owner_org_id.clone(),
            operator: a.operator,
            disabled: a.disabled,
            email_verified: a.email_verified,
            has_password: a.password_hash.is_some(),
            orgs: orgs
                .iter()
                .map(|(o, r)| MembershipOut {
                    org_id: o.id.to_string(),
                    org_name: o.name.clone(),
                    role: r.as_str().to_owned(),
                })
                .collect(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }

    fn of(s: &AccountSummary) -> Self {
        Self::new(&s.account, &s.orgs)
    }
}

/// One account in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorAccountDetail {
    #[serde(flatten)]
    pub account: OperatorAccountOut,
    /// Live sessions.
    pub sessions: usize,
    pub totp: bool,
    pub recovery_codes: usize,
    pub passkeys: usize,
    /// The account's personal integrations.
    pub integrations: Vec<IntegrationOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// A part of the email address or display name (case-insensitive).
    #[serde(default)]
    pub q: String,
    /// `personal` or `enterprise`.
    #[serde(default, rename = "type")]
    #[param(rename = "type")]
    pub account_type: String,
    /// Members of this organization (its ID) only.
    #[serde(default)]
    pub org: String,
}

/// Every account matching the filters, oldest first.
#[utoipa::path(get, path = "/api/v1/operator/accounts", tag = "operator", params(AccountQuery),
    responses((status = 200, body = [OperatorAccountOut]), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem), (status = 422, description = "An unknown account type", body = Problem)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> OpResult<ApiJson<Vec<OperatorAccountOut>>> {
    let filter = AccountFilter {
        q: q.q,
        account_type: q.account_type,
        org_id: q.org,
    };
    let all = accounts::list(&state, &caller, &filter).await?;
    Ok(ApiJson(all.iter().map(OperatorAccountOut::of).collect()))
}

#[utoipa::path(get, path = "/api/v1/operator/accounts/{account}", tag = "operator",
    params(("account" = String, Path, description = "Account ID")),
    responses((status = 200, body = OperatorAccountDetail), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem), (status = 404, body = Problem)))]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<OperatorAccountDetail>> {
    let d = accounts::get(&state, &caller, &id).await?;
    let used = gatehouse_core::console::integrations::last_used(&state, &d.integrations).await?;
    Ok(ApiJson(OperatorAccountDetail {
        account: OperatorAccountOut::of(&d.summary),
        sessions: d.sessions,
        totp: d.totp,
        recovery_codes: d.recovery_codes,
        passkeys: d.passkeys,
        integrations: d
            .integrations
            .iter()
            .map(|i| IntegrationOut::new(i, &[]).last_used(used.get(&i.id).copied()))
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/operator/accounts/{account}/{action}", tag = "operator",
    params(("account" = String, Path, description = "Account ID"),
           ("action" = super::schema::OperatorActionName, Path, description = "`disable` (ends its sessions, refresh and access tokens), `enable`, \
            `password-reset` (the password stops working; a link to choose a new one is mailed), `mfa-reset` (removes \
            its authenticator app, recovery codes and passkeys; ends its sessions) or `sign-out` (ends its sessions, \
            refresh and access tokens)")),
    responses((status = 200, description = "Done; the account as it is now (the audit entry records before and after)", body = OperatorAccountOut),
              (status = 401, body = Problem), (status = 403, description = "Not an operator", body = Problem),
              (status = 404, body = Problem),
              (status = 409, description = "Disabled already, or not disabled", body = Problem),
              (status = 422, description = "Unknown action, or disabling yourself", body = Problem)))]
pub async fn account_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> OpResult<ApiJson<OperatorAccountOut>> {
    gatehouse_core::policy::operate(&caller.principal)?;
    let action = OperatorAction::parse(&action).map_err(gatehouse_core::Error::from)?;
    accounts::act(&state, &caller, &id, action).await?;
    let d = accounts::get(&state, &caller, &id).await?;
    Ok(ApiJson(OperatorAccountOut::of(&d.summary)))
}

/// An organization with its counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorOrgOut {
    pub id: String,
    pub name: String,
    pub require_mfa: bool,
    pub members: usize,
    pub integrations: usize,
    pub domains: usize,
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgMemberOut {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
    pub disabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDomainOut {
    pub domain: String,
    pub verified: bool,
    pub verified_at: Option<i64>,
}

/// One organization in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorOrgDetail {
    pub id: String,
    pub name: String,
    pub require_mfa: bool,
    pub members: Vec<OrgMemberOut>,
    pub integrations: Vec<IntegrationOut>,
    pub domains: Vec<OrgDomainOut>,
    pub created_at: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// A part of the name or ID (case-insensitive).
    #[serde(default)]
    pub q: String,
}

/// Every organization, by name.
#[utoipa::path(get, path = "/api/v1/operator/orgs", tag = "operator", params(OrgQuery),
    responses((status = 200, body = [OperatorOrgOut]), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> OpResult<ApiJson<Vec<OperatorOrgOut>>> {
    let all = orgs::list(&state, &caller, &q.q).await?;
    Ok(ApiJson(
        all.into_iter()
            .map(|s| OperatorOrgOut {
                id: s.org.id.to_string(),
                name: s.org.name,
                require_mfa: s.org.require_mfa,
                members: s.members,
                integrations: s.integrations,
                domains: s.domains,
                created_at: s.org.created_at,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/operator/orgs/{org}", tag = "operator",
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 200, body = OperatorOrgDetail), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem), (status = 404, body = Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<OperatorOrgDetail>> {
    let d = orgs::get(&state, &caller, &id).await?;
    let used = gatehouse_core::console::integrations::last_used(&state, &d.integrations).await?;
    Ok(ApiJson(OperatorOrgDetail {
        id: d.org.id.to_string(),
        name: d.org.name.clone(),
        require_mfa: d.org.require_mfa,
        members: d
            .members
            .iter()
            .map(|m| OrgMemberOut {
                account_id: m.account.id.clone(),
                email: m.account.email.to_string(),
                display_name: m.account.display_name.clone(),
                role: m.membership.role.as_str().to_owned(),
                disabled: m.account.disabled,
            })
            .collect(),
        integrations: d
            .integrations
            .iter()
            .map(|i| IntegrationOut::new(i, &[]).last_used(used.get(&i.id).copied()))
            .collect(),
        domains: d
            .domains
            .iter()
            .map(|c| OrgDomainOut {
                domain: c.domain.to_string(),
                verified: c.verified.is_some(),
                verified_at: c.verified.as_ref().map(|(t, _)| *t),
            })
            .collect(),
        created_at: d.org.created_at,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// An email address, an account ID, or an actor as recorded (`integration:<id>`, `cli:apply`, `system`).
    #[serde(default)]
    pub actor: String,
    /// An organization ID.
    #[serde(default)]
    pub org: String,
    /// An integration's ID or client ID.
    #[serde(default)]
    pub integration: String,
    /// An action (`account.disabled`) or a family of actions (`account`).
    #[serde(default)]
    pub action: String,
    /// At or after: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or Unix seconds.
    #[serde(default)]
    pub since: String,
    /// Before: the same forms; a bare date includes that day.
    #[serde(default)]
    pub until: String,
    /// Entries older than this entry ID (`next_before` of the previous page).
    pub before: Option<i64>,
    /// Entries per page (1 to 1000, default 100).
    pub limit: Option<i64>,
    /// Exports only: `jsonl` (the default) or `csv`.
    #[serde(default)]
    pub format: String,
}

impl AuditParams {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            org: self.org.clone(),
            integration: self.integration.clone(),
            action: self.action.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            before: self.before,
            limit: self.limit,
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// RFC 3339, UTC.
    pub time: String,
    /// `account:<id>`, `integration:<id>`, `cli:<command>` or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub org_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the entry recorded: for changes, the state before and after where it was recorded
    /// (`before`/`after`, `from`/`to`, or `previous_role`/`role`).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<&AuditRecord> for AuditEntryOut {
    fn from(r: &AuditRecord) -> Self {
        let e = &r.entry;
        Self {
            id: r.id,
            at: e.at,
            time: audit::rfc3339(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            org_id: e.org_id.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            details: e.details.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntryOut>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A page of the audit log, newest first.
#[utoipa::path(get, path = "/api/v1/operator/audit", tag = "operator", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem),
              (status = 422, description = "A date that cannot be read", body = Problem)))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> OpResult<ApiJson<AuditPage>> {
    let filter = p.filter();
    let limit = filter.limit.unwrap_or(audit::PAGE).clamp(1, audit::MAX_PAGE);
    let records = audit::search(&state, &caller, &filter).await?;
    let next_before = (i64::try_from(records.len()).unwrap_or(0) == limit)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    Ok(ApiJson(AuditPage {
        entries: records.iter().map(AuditEntryOut::from).collect(),
        next_before,
    }))
}

/// The export of every entry matching `filter` as a download, in `format` (`jsonl` or `csv`).
pub async fn export_response(state: &AppState, caller: &Caller, p: &AuditParams) -> OpResult<Response> {
    let (body, mime, ext) = match p.format.as_str() {
        "" | "jsonl" => {
            let records = audit::export(state, caller, &p.filter()).await?;
            (audit::jsonl(&records), "application/jsonl; charset=utf-8", "jsonl")
        }
        "csv" => {
            let records = audit::export(state, caller, &p.filter()).await?;
            (audit::csv(&records), "text/csv; charset=utf-8", "csv")
        }
        _ => {
            return Err(ConsoleError::new(
                gatehouse_core::Kind::Invalid,
                "invalid_format",
                "The export format is jsonl or csv.",
            )
            .on("format"));
        }
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"gatehouse-audit.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Every entry matching the filters (up to 100,000), newest first, as JSON lines or CSV.
#[utoipa::path(get, path = "/api/v1/operator/audit/export", tag = "operator", params(AuditParams),
    responses((status = 200, description = "JSON lines (one entry per line, as in the audit page) or CSV with a header row \
               (id, time, actor, action, target, org_id, ip, user_agent, details as JSON)", content_type = "application/jsonl", body = String),
              (status = 401, body = Problem), (status = 403, description = "Not an operator", body = Problem),
              (status = 422, description = "A date that cannot be read, or an unknown format", body = Problem)))]
pub async fn audit_export(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> OpResult<Response> {
    export_response(&state, &caller, &p).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationOut {
    pub version: i64,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DispatcherOut {
    /// Whether this node's configuration runs the dispatcher (`[events] dispatcher`).
    pub runs_here: bool,
    /// `idle`, `keeping up` or `behind` (a due delivery has waited over a minute).
    pub health: String,
    /// Deliveries not yet delivered nor given up on.
    pub pending: i64,
    /// Of those, due now.
    pub due: i64,
    pub oldest_due_at: Option<i64>,
    /// Attempts in the last hour.
    pub succeeded_last_hour: i64,
    pub failed_last_hour: i64,
    /// Event registrations by status.
    #[schema(value_type = Object)]
    pub registrations: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailOut {
    /// `smtp` or `outbox` (no SMTP server configured: development mode).
    pub transport: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub from: Option<String>,
    /// Where messages are written instead of being sent (outbox only).
    pub outbox_dir: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    pub kid: String,
    pub alg: String,
    /// `next`, `signing`, `retired` (still published) or `expired`.
    pub state: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusOut {
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// `current`, `behind` or `ahead`.
    pub schema: String,
    pub known_schema_version: i64,
    pub migrations: Vec<MigrationOut>,
    pub dispatcher: DispatcherOut,
    pub mail: MailOut,
    pub signing_keys: Vec<KeyOut>,
    /// How long a key signs, in seconds.
    pub key_signing_period: i64,
    /// How long a retired key stays published, in seconds.
    pub key_retained_after_retiring: i64,
    /// What Gatehouse knows of the nodes sharing the database.
    pub nodes: String,
}

#[utoipa::path(get, path = "/api/v1/operator/status", tag = "operator",
    responses((status = 200, body = StatusOut), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem)))]
pub async fn get_status(State(state): State<AppState>, caller: Caller) -> OpResult<ApiJson<StatusOut>> {
    let s = status::status(&state, &caller).await?;
    let mail = match &s.mail {
        status::MailTransport::Smtp {
            host,
            port,
            security,
            from,
        } => MailOut {
            transport: "smtp".into(),
            host: Some(host.clone()),
            port: Some(*port),
            security: Some((*security).to_owned()),
            from: Some(from.clone()),
            outbox_dir: None,
        },
        status::MailTransport::Outbox { dir } => MailOut {
            transport: "outbox".into(),
            host: None,
            port: None,
            security: None,
            from: None,
            outbox_dir: Some(dir.clone()),
        },
    };
    let b = s.dispatcher.backlog;
    Ok(ApiJson(StatusOut {
        version: s.version.to_owned(),
        database: s.backend.to_owned(),
        schema: s.schema.to_owned(),
        known_schema_version: s.known_schema_version,
        migrations: s
            .migrations
            .iter()
            .map(|m| MigrationOut {
                version: m.version,
                description: m.description.clone(),
            })
            .collect(),
        dispatcher: DispatcherOut {
            runs_here: s.dispatcher.runs_here,
            health: s.dispatcher.health.to_owned(),
            pending: b.pending,
            due: b.due,
            oldest_due_at: b.oldest_due_at,
            succeeded_last_hour: b.succeeded,
            failed_last_hour: b.failed,
            registrations: s
                .dispatcher
                .registrations
                .iter()
                .map(|(k, v)| (k.clone(), (*v).into()))
                .collect(),
        },
        mail,
        signing_keys: s
            .keys
            .iter()
            .map(|k| KeyOut {
                kid: k.kid.clone(),
                alg: k.alg.to_owned(),
                state: k.state.to_owned(),
                created_at: k.created_at,
                activates_at: k.activates_at,
                retires_at: k.retires_at,
                expires_at: k.expires_at,
            })
            .collect(),
        key_signing_period: s.rotation.signing_period,
        key_retained_after_retiring: s.rotation.retain_after_retire,
        nodes: s.nodes.to_owned(),
    }))
}

/// A message kept in the development outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntryOut {
    /// Names the message in `/api/v1/operator/outbox/{message}`.
    pub name: String,
    pub to: String,
    pub subject: String,
    /// When it was written (Unix seconds).
    pub at: i64,
    /// Only when reading one message: its plain-text body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxOut {
    /// The directory messages are written to.
    pub dir: String,
    /// Newest first, at most 200.
    pub messages: Vec<OutboxEntryOut>,
}

/// The development outbox (no SMTP server configured): the newest messages Gatehouse wrote there
/// instead of sending them.
#[utoipa::path(get, path = "/api/v1/operator/outbox", tag = "operator",
    responses((status = 200, body = OutboxOut), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem),
              (status = 404, description = "Mail goes through SMTP: there is no outbox (`no_outbox`)", body = Problem)))]
pub async fn list_outbox(State(state): State<AppState>, caller: Caller) -> OpResult<ApiJson<OutboxOut>> {
    let (dir, entries) = outbox::list(&state, &caller).await?;
    Ok(ApiJson(OutboxOut {
        dir: dir.display().to_string(),
        messages: entries
            .into_iter()
            .map(|e| OutboxEntryOut {
                name: e.name,
                to: e.to,
                subject: e.subject,
                at: e.at,
                body: None,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/operator/outbox/{message}", tag = "operator",
    params(("message" = String, Path, description = "The message's name, as listed")),
    responses((status = 200, body = OutboxEntryOut), (status = 401, body = Problem),
              (status = 403, description = "Not an operator", body = Problem),
              (status = 404, description = "No such message, or mail goes through SMTP", body = Problem)))]
pub async fn read_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> OpResult<ApiJson<OutboxEntryOut>> {
    let m = outbox::read(&state, &caller, &name).await?;
    Ok(ApiJson(OutboxEntryOut {
        name: m.entry.name,
        to: m.entry.to,
        subject: m.entry.subject,
        at: m.entry.at,
        body: Some(m.body),
    }))
}
