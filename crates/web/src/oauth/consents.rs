//! The consents a person gave on the consent screen, listed and withdrawn from their account:
//! the "Connected apps" page under `/console/account` and `/api/v1/account/consents`.
//!
//! Withdrawing consent deletes it (the consent screen shows again next time) and revokes every
//! grant the integration holds for the person: their refresh tokens, and through the deny-list the
//! access tokens issued from them.

use std::sync::Arc;

use askama::Template;
use axum::{
    Extension, Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{delete, get, post},
};
use gatehouse_domain::{
    audit::{Actor, AuditEntry},
    ids::ClientId,
    token::grant::Consent,
};
use gatehouse_store::{AuditStore, ConsentStore, IntegrationStore, TokenStore};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::ApiSession,
    csrf::{CsrfForm, CsrfToken},
    error::{ApiError, PageError},
    extract::ClientInfo,
    identity::SignedIn,
    pages,
};
use gatehouse_core::tokens::service::{Failure, TokenService};

/// A UTC instant as shown on pages.
fn when(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/account/connected-apps", get(apps_page))
        .route("/console/account/connected-apps/revoke", post(revoke_form))
        .route("/api/v1/account/consents", get(list_api))
        .route("/api/v1/account/consents/{client_id}", delete(revoke_api))
}

/// One consent as shown and as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentView {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

async fn views(state: &AppState, account_id: &str) -> Result<Vec<ConsentView>, gatehouse_store::StoreError> {
    let mut conn = state.store.conn().await?;
    let consents: Vec<Consent> = conn.consents_of_account(account_id).await?;
    let mut out = Vec::with_capacity(consents.len());
    for c in consents {
        if let Some(i) = conn.integration_by_id(&c.integration_id).await? {
            out.push(ConsentView {
                client_id: i.client_id.to_string(),
                name: i.name,
                scopes: c.scopes,
                created_at: c.created_at,
                updated_at: c.updated_at,
            });
        }
    }
    Ok(out)
}

/// Withdraws the person's consent to the integration with `client_id` and revokes its grants.
/// `false` when there was no such consent.
pub async fn withdraw(
    state: &AppState,
    svc: &TokenService,
    who: &SignedIn,
    client_id: &str,
    client_info: &ClientInfo,
) -> Result<bool, Failure> {
    let Ok(id) = ClientId::parse(client_id) else {
        return Ok(false);
    };
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let Some(integration) = tx.integration_by_client_id(&id).await? else {
        return Ok(false);
    };
    if !tx.delete_consent(&who.account.id, &integration.id).await? {
        return Ok(false);
    }
    let families = tx.revoke_refresh_tokens_of(&who.account.id, client_id, now).await?;
    let entry = AuditEntry::new(
        now,
        &Actor::Account(who.account.id.clone()),
        "consent.revoked",
        format!("integration:{}", integration.id),
    )
    .from_client(client_info.ip.clone(), client_info.user_agent.clone())
    .details(serde_json::json!({ "client_id": client_id }));
    tx.append_audit(&entry).await?;
    // Not part of the cached catalog; see `authorize::record_consent`.
    tx.commit_unaudited().await?;
    svc.forget_consent(&who.account.id, &integration.id, client_id).await?;
    for family in families {
        svc.revoke_grant(&family, client_id).await?;
    }
    Ok(true)
}

struct AppRow {
    client_id: String,
    name: String,
    scopes: Vec<String>,
    since: String,
}

#[derive(Template)]
#[template(path = "oauth/connected_apps.html")]
struct AppsPage<'a> {
    csrf_token: &'a str,
    notice: Option<&'static str>,
    apps: Vec<AppRow>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

async fn apps_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let apps = views(&state, &who.account.id)
        .await?
        .into_iter()
        .map(|v| AppRow {
            since: when(v.created_at),
            client_id: v.client_id,
            name: v.name,
            scopes: v.scopes,
        })
        .collect();
    let p = AppsPage {
        csrf_token: csrf.value(),
        notice: (q.done.as_deref() == Some("revoked")).then_some("The app no longer has access to your account."),
        apps,
    };
    let html = pages::render(&p);
    Ok((csrf, html).into_response())
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    client_id: String,
}

async fn revoke_form(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    who: SignedIn,
    client_info: ClientInfo,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, PageError> {
    withdraw(&state, &svc, &who, &form.client_id, &client_info)
        .await
        .map_err(PageError::internal)?;
    Ok(Redirect::to("/console/account/connected-apps?done=revoked").into_response())
}

/// `GET /api/v1/account/consents`: the apps the signed-in person allowed.
#[utoipa::path(get, path = "/api/v1/account/consents", tag = "account",
    responses((status = 200, description = "The consents", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem)))]
pub(crate) async fn list_api(State(state): State<AppState>, ApiSession(who): ApiSession) -> Result<Response, ApiError> {
    Ok(Json(views(&state, &who.account.id).await?).into_response())
}

/// `DELETE /api/v1/account/consents/{client_id}`: withdraws consent; 204, or 404 without one.
#[utoipa::path(delete, path = "/api/v1/account/consents/{client_id}", tag = "account",
    params(("client_id" = String, Path, description = "The app's client ID")),
    responses((status = 204, description = "Withdrawn"), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn revoke_api(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    ApiSession(who): ApiSession,
    client_info: ClientInfo,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    match withdraw(&state, &svc, &who, &client_id, &client_info).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(false) => Err(ApiError::not_found("You have not allowed an app with this client ID.")),
        Err(e) => Err(ApiError::internal(e)),
    }
}
