//! The audit log as operators read it: filters by actor, organization, integration, action and
//! time range, pages of entries newest first, and exports as JSON lines and CSV.

use gatehouse_domain::{
    Timestamp,
    account::Email,
    audit::{AuditQuery, AuditRecord},
    ids::ClientId,
};
use gatehouse_store::{AccountStore, AuditStore, IntegrationStore};
use serde_json::{Value, json};

use super::{Caller, OpResult};
use crate::{Core, Error, Kind, policy};

/// Entries per page when the caller does not say.
pub const PAGE: i64 = 100;
/// Most entries in one page.
pub const MAX_PAGE: i64 = 1_000;
/// Most entries in one export.
pub const MAX_EXPORT: i64 = 100_000;

/// The filters as typed into the audit page or the API's query string; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// An email address, an account ID, or a rendered actor (`integration:<id>`, `cli:apply`, `system`).
    pub actor: String,
    pub org: String,
    /// An integration's ID or client ID.
    pub integration: String,
    /// An action (`account.disabled`) or a family (`account`).
    pub action: String,
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or Unix seconds; entries at or after it.
    pub since: String,
    /// Same forms; entries before it (a bare date includes that whole day).
    pub until: String,
    /// Entries older than this entry ID (the next page).
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

impl AuditFilter {
    /// Whether any filter is set (for the page's "clear filters" link).
    pub fn is_set(&self) -> bool {
        [
            &self.actor,
            &self.org,
            &self.integration,
            &self.action,
            &self.since,
            &self.until,
        ]
        .iter()
        .any(|s| !s.trim().is_empty())
    }
}

fn invalid(field: &str, message: &str) -> Error {
    Error::new(Kind::Invalid, "invalid_filter", message).on(field)
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or Unix seconds. A bare date is its first
/// instant, or with `end_of_day` the first instant of the next day.
pub fn parse_instant(s: &str, end_of_day: bool) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date_fmt) {
        let t = d.midnight().assume_utc().unix_timestamp();
        return Some(if end_of_day { t + 86_400 } else { t });
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let s = s.trim_end_matches('Z').replacen(' ', "T", 1);
    time::PrimitiveDateTime::parse(&s, &seconds)
        .or_else(|_| time::PrimitiveDateTime::parse(&s, &minutes))
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// The store's query for `f`, or `None` when a filter names something that does not exist (an
/// unknown email or client ID), which matches nothing.
async fn query(state: &Core, f: &AuditFilter, max: i64) -> OpResult<Option<AuditQuery>> {
    let mut conn = state.store.conn().await?;
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let actor = match some(&f.actor) {
        None => None,
        Some(a) if a.contains('@') && !a.contains(':') => {
            let Ok(email) = Email::parse(&a) else {
                return Err(invalid(
                    "actor",
                    "Enter an email address, an account ID or an actor such as system.",
                ));
            };
            match conn.account_by_email(&email).await? {
                Some(account) => Some(format!("account:{}", account.id)),
                None => return Ok(None),
            }
        }
        Some(a) if a.contains(':') || a == "system" => Some(a),
        Some(a) => Some(format!("account:{a}")),
    };
    let target = match some(&f.integration) {
        None => None,
        Some(i) => match ClientId::parse(&i) {
            Ok(client) if conn.integration_by_id(&i).await?.is_none() => {
                match conn.integration_by_client_id(&client).await? {
                    Some(found) => Some(format!("integration:{}", found.id)),
                    None => return Ok(None),
                }
            }
            _ => Some(format!("integration:{}", i.trim_start_matches("integration:"))),
        },
    };
    let instant = |field: &str, s: &str, end: bool| match some(s) {
        None => Ok(None),
        Some(v) => parse_instant(&v, end).map(Some).ok_or_else(|| {
            invalid(
                field,
                "Enter a date (2026-01-31), a date and time in UTC (2026-01-31T14:30) or Unix seconds.",
            )
        }),
    };
    Ok(Some(AuditQuery {
        actor,
        org_id: some(&f.org),
        target,
        action: some(&f.action),
        since: instant("since", &f.since, false)?,
        until: instant("until", &f.until, true)?,
        before_id: f.before,
        limit: f.limit.unwrap_or(PAGE).clamp(1, max),
    }))
}

/// A page of entries matching `filter`, newest first.
pub async fn search(state: &Core, caller: &Caller, filter: &AuditFilter) -> OpResult<Vec<AuditRecord>> {
    policy::operate(&caller.principal)?;
    let Some(q) = query(state, filter, MAX_PAGE).await? else {
        return Ok(Vec::new());
    };
    Ok(state.store.conn().await?.search_audit(&q).await?)
}

/// Every entry matching `filter` (up to [`MAX_EXPORT`]), newest first, for an export.
pub async fn export(state: &Core, caller: &Caller, filter: &AuditFilter) -> OpResult<Vec<AuditRecord>> {
    policy::operate(&caller.principal)?;
    let mut f = filter.clone();
    f.limit = Some(MAX_EXPORT);
    let Some(q) = query(state, &f, MAX_EXPORT).await? else {
        return Ok(Vec::new());
    };
    Ok(state.store.conn().await?.search_audit(&q).await?)
}

/// An instant as RFC 3339 in UTC.
pub fn rfc3339(at: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// One record as the API and the JSON lines export write it.
pub fn to_json(r: &AuditRecord) -> Value {
    let e = &r.entry;
    json!({
        "id": r.id,
        "at": e.at,
        "time": rfc3339(e.at),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "org_id": e.org_id,
        "ip": e.ip,
        "user_agent": e.user_agent,
        "details": e.details,
    })
}

/// JSON lines: one record per line.
pub fn jsonl(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&to_json(r).to_string());
        out.push('\n');
    }
    out
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`, so an attacker-chosen user agent cannot become one.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV with a header row; `details` is the entry's JSON.
pub fn csv(records: &[AuditRecord]) -> String {
    let mut out = String::from("id,time,actor,action,target,org_id,ip,user_agent,details\r\n");
    for r in records {
        let e = &r.entry;
        let row = [
            r.id.to_string(),
            rfc3339(e.at),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            e.org_id.clone().unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            if e.details.is_null() {
                String::new()
            } else {
                e.details.to_string()
            },
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The state before and after a change, where the entry recorded them (`before`/`after`,
/// `from`/`to` as role changes record them, or `previous_role`/`role`).
pub fn before_after(details: &Value) -> Option<(Value, Value)> {
    for (b, a) in [("before", "after"), ("from", "to")] {
        if let (Some(b), Some(a)) = (details.get(b), details.get(a)) {
            return Some((b.clone(), a.clone()));
        }
    }
    if let (Some(b), Some(a)) = (details.get("previous_role"), details.get("role")) {
        return Some((json!({ "role": b }), json!({ "role": a })));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_domain::audit::AuditEntry;

    #[test]
    fn instants_parse_in_every_documented_form() {
        assert_eq!(parse_instant("1767225600", false), Some(1_767_225_600));
        assert_eq!(parse_instant("2026-01-01", false), Some(1_767_225_600));
        assert_eq!(parse_instant("2026-01-01", true), Some(1_767_225_600 + 86_400));
        assert_eq!(parse_instant("2026-01-01T01:30", false), Some(1_767_225_600 + 5_400));
        assert_eq!(
            parse_instant("2026-01-01T01:30:05Z", false),
            Some(1_767_225_600 + 5_405)
        );
        assert_eq!(parse_instant("yesterday", false), None);
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_defuses_formulas() {
        let entry = AuditEntry::new(1_767_225_600, &gatehouse_domain::audit::Actor::System, "a.b", "x")
            .from_client(Some("203.0.113.9".into()), Some("=HYPERLINK(\"x\"), evil".into()))
            .details(json!({"k": "v"}));
        let out = csv(&[AuditRecord { id: 7, entry }]);
        let mut lines = out.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("id,time,actor,action,target,org_id,ip,user_agent,details")
        );
        assert_eq!(
            lines.next(),
            Some(
                "7,2026-01-01T00:00:00Z,system,a.b,x,,203.0.113.9,\"'=HYPERLINK(\"\"x\"\"), evil\",\"{\"\"k\"\":\"\"v\"\"}\""
            )
        );
    }

    #[test]
    fn before_and_after_are_found_where_recorded() {
        assert_eq!(
            before_after(&json!({"before": {"disabled": false}, "after": {"disabled": true}})),
            Some((json!({"disabled": false}), json!({"disabled": true})))
        );
        assert_eq!(
            before_after(&json!({"previous_role": "member", "role": "admin"})),
            Some((json!({"role": "member"}), json!({"role": "admin"})))
        );
        assert_eq!(
            before_after(&json!({"from": "member", "to": "developer"})),
            Some((json!("member"), json!("developer")))
        );
        assert_eq!(before_after(&json!({"email": "a@b.c"})), None);
    }
}
