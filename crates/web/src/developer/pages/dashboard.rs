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
use gatehouse_domain::integration::IntegrationStatus;
use serde::Deserialize;

use super::{Ctx, type_label};
use crate::{
    AppState,
    console::{Nav, page, when},
    csrf::CsrfToken,
    developer::ops,
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
    let all = ops::integrations::list(&state, &ctx.caller).await?;
    let rows = all
        .iter()
        .map(|(i, subs)| Row {
            id: i.id.clone(),
            name: i.name.clone(),
            type_label: type_label(i.integration_type),
            platform: i.platform.map(|p| p.as_str()),
            owner: match i.org_id() {
                Some(o) => o.to_owned(),
                None => "Personal".to_owned(),
            },
            services: subs.iter().map(|s| s.service_code.to_string()).collect(),
            active: i.status == IntegrationStatus::Active,
            created: when(i.created_at),
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
