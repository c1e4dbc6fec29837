//! `/console/integrations`: the integrations the signed-in person may see, with their type,
//! services and status, and the way to create one.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use gatehouse_core::console;
use gatehouse_domain::{ids::OrgId, integration::IntegrationStatus};
use gatehouse_store::OrgStore;
use serde::Deserialize;

use super::{Ctx, type_label};
use crate::{
    AppState,
    account::{Nav, page, when},
    csrf::CsrfToken,
    error::PageError,
    extract::ClientInfo,
    identity::SignedIn,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/integrations", get(dashboard))
}

struct Row {
    id: String,
    name: String,
    type_label: &'static str,
    platform: Option<&'static str>,
    owner: String,
    owner_id: Option<String>,
    services: Vec<String>,
    active: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "developer/dashboard.html")]
struct Dashboard {
    nav: Nav,
    rows: Vec<Row>,
    notice: Option<String>,
    operator: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    deleted: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let all = console::integrations::list(&state, &ctx.caller).await?;
    let mut org_names = std::collections::HashMap::new();
    let mut conn = state.store.conn().await?;
    for r in &ctx.caller.principal.roles {
        if let Ok(id) = OrgId::parse(&r.org_id)
            && let Some(o) = conn.org_by_id(&id).await?
        {
            org_names.insert(r.org_id.clone(), o.name);
        }
    }
    let rows = all
        .iter()
        .map(|(i, subs)| Row {
            id: i.id.clone(),
            name: i.name.clone(),
            type_label: type_label(i.integration_type),
            platform: i.platform.map(|p| p.as_str()),
            owner: match i.org_id() {
                Some(o) => org_names.get(o).cloned().unwrap_or_else(|| o.to_owned()),
                None => "Personal".to_owned(),
            },
            owner_id: i.org_id().map(str::to_owned),
            services: subs.iter().map(|s| s.service_code.to_string()).collect(),
            active: i.status == IntegrationStatus::Active,
            created: when(i.created_at).get(..10).unwrap_or_default().to_owned(),
        })
        .collect();
    let p = Dashboard {
        nav: ctx.nav,
        rows,
        notice: q
            .deleted
            .map(|name| format!("The integration {name:?} was deleted. Its tokens no longer work.")),
        operator: ctx.who.account.operator,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}
