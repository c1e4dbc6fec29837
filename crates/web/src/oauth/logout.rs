//! Signing out from a relying party: RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0
//! §2–§3) on `/oauth/logout`, and Adobe's `/ims/logout/v1` (compat §5.6).
//!
//! ```text
//!  browser ──GET /oauth/logout?id_token_hint&post_logout_redirect_uri&state──▶ logout_get
//!     ├─ a valid id_token_hint for the signed-in person (or nobody signed in) ─▶ session ended
//!     └─ otherwise ─▶ "Sign out?" page ──POST /oauth/logout (CSRF)──▶ logout_post ─▶ session ended
//!  then ─▶ post_logout_redirect_uri?state=… (registered redirect URIs of the client only)
//!          or the "You have signed out" page
//!  browser/app ──GET|POST /ims/logout/v1?client_id&redirect_uri[&access_token]──▶ ims_logout
//! ```
//!
//! A `post_logout_redirect_uri` must pass the same redirect rules as the authorization endpoint
//! (default redirect URI or a pattern of the client named by `client_id` or the hint's `aud`);
//! anything else is shown on a page, never followed.

use gatehouse_core::identity::audit;
use gatehouse_core::tokens::{
    introspection,
    service::{Client, Failure, TokenService},
};
use std::sync::Arc;

use askama::Template;
use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use gatehouse_domain::{audit::Actor, token::id_token::ID_TOKEN_TYP};
use serde_json::json;

use super::params::Params;
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{OptionalSession, SignedIn, session},
    pages,
};

#[derive(Template)]
#[template(path = "oauth/logout.html")]
struct ConfirmPage<'a> {
    app_name: Option<&'a str>,
    email: &'a str,
    csrf_token: &'a str,
    fields: Vec<(String, String)>,
}

fn refusal(message: impl Into<String>) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "This sign-out request cannot be completed",
        message,
    )
}

fn refuse(message: impl Into<String>) -> Response {
    refusal(message).into_response()
}

/// What a logout request names, checked.
struct LogoutRequest {
    client: Option<Arc<Client>>,
    /// The subject of a valid `id_token_hint`.
    hinted_subject: Option<String>,
    redirect: Option<String>,
}

async fn check(svc: &TokenService, params: &Params) -> Result<LogoutRequest, PageError> {
    let get = |name: &'static str| {
        params
            .get(name)
            .map_err(|_| refusal(format!("The {name} parameter was given more than once.")))
    };
    let mut hinted_subject = None;
    let mut hinted_client = None;
    if let Some(hint) = get("id_token_hint")? {
        let claims = svc
            .verify_own_jwt(hint, ID_TOKEN_TYP)
            .await
            .map_err(PageError::internal)?
            .ok_or_else(|| refusal("The id_token_hint is not an ID token Gatehouse issued."))?;
        hinted_subject = claims.get("sub").and_then(|v| v.as_str()).map(str::to_owned);
        hinted_client = claims.get("aud").and_then(|v| v.as_str()).map(str::to_owned);
    }
    let client_id = match (get("client_id")?, hinted_client.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(refusal("The client_id differs from the id_token_hint's audience."));
        }
        (Some(a), _) => Some(a.to_owned()),
        (None, b) => b.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) => Some(
            svc.client(id)
                .await
                .map_err(PageError::internal)?
                .ok_or_else(|| refusal("No application with this client ID is registered."))?,
        ),
        None => None,
    };
    let redirect = match get("post_logout_redirect_uri")? {
        None => None,
        Some(uri) => {
            let allowed = client
                .as_ref()
                .and_then(|c| c.redirect_rules.as_ref())
                .is_some_and(|rules| rules.allows(uri));
            if !allowed {
                return Err(refusal(
                    "The post_logout_redirect_uri is not registered for the application (or no application was named).",
                ));
            }
            let state = get("state")?;
            Some(match state {
                Some(s) => {
                    let sep = if uri.contains('?') { '&' } else { '?' };
                    format!(
                        "{uri}{sep}{}",
                        serde_urlencoded::to_string([("state", s)]).unwrap_or_default()
                    )
                }
                None => uri.to_owned(),
            })
        }
    };
    Ok(LogoutRequest {
        client,
        hinted_subject,
        redirect,
    })
}

/// Ends the browser's session (with its audit entry) and sends it on.
async fn sign_out(
    state: &AppState,
    headers: &HeaderMap,
    who: Option<&SignedIn>,
    client_info: &ClientInfo,
    redirect: Option<&str>,
    from_form: bool,
) -> Response {
    if let Some(s) = who {
        let entry = audit::entry(
            state,
            &Actor::Account(s.account.id.clone()),
            "signout",
            audit::account_target(&s.account.id),
            client_info,
        );
        if let Err(e) = audit::record(state, &entry).await {
            return PageError::internal(e).into_response();
        }
    }
    let cookie = match session::end_session(state, headers).await {
        Ok(c) => c,
        Err(e) => return PageError::internal(e).into_response(),
    };
    match redirect {
        Some(to) if from_form => (cookie, super::authorize::continue_to(to)).into_response(),
        Some(to) => (cookie, Redirect::to(to)).into_response(),
        None => (cookie, Redirect::to("/signin?signed_out=1")).into_response(),
    }
}

/// RP-Initiated Logout §2: the relying party sends the browser here.
pub async fn logout_get(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    headers: HeaderMap,
    csrf: CsrfToken,
    client_info: ClientInfo,
    OptionalSession(who): OptionalSession,
    params: Params,
) -> Response {
    let req = match check(&svc, &params).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let confirmed_by_hint = match (&who, &req.hinted_subject) {
        (None, _) => true,
        (Some(s), Some(sub)) => *sub == s.account.id,
        (Some(_), None) => false,
    };
    if confirmed_by_hint {
        return sign_out(
            &state,
            &headers,
            who.as_ref(),
            &client_info,
            req.redirect.as_deref(),
            false,
        )
        .await;
    }
    // RP-Initiated Logout §2: without a hint for this person, ask, so another site cannot sign
    // people out with a link.
    let Some(s) = who else {
        return sign_out(&state, &headers, None, &client_info, req.redirect.as_deref(), false).await;
    };
    let page = ConfirmPage {
        app_name: req.client.as_ref().map(|c| c.integration.name.as_str()),
        email: s.account.email.as_str(),
        csrf_token: csrf.value(),
        fields: params.pairs().to_vec(),
    };
    let html = pages::render(&page);
    (csrf, html).into_response()
}

/// The "Sign out?" page's answer.
pub async fn logout_post(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    headers: HeaderMap,
    client_info: ClientInfo,
    OptionalSession(who): OptionalSession,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let pairs: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(k, _)| k != "confirm" && k != crate::csrf::FORM_FIELD)
        .collect();
    let params = Params::from_pairs(pairs);
    let req = match check(&svc, &params).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    sign_out(
        &state,
        &headers,
        who.as_ref(),
        &client_info,
        req.redirect.as_deref(),
        true,
    )
    .await
}

/// `/ims/logout/v1` (compat §5.6): ends the browser's session, revokes `access_token` when it is
/// the client's, then redirects to `redirect_uri` (which must be registered for `client_id`) or,
/// without one (the back-channel form), answers 200 with `{}`. A browser with a session is signed
/// out only when the request names the client's registered redirect or carries an
/// `id_token_hint` for this person; otherwise the person is asked first, as on `/oauth/logout`,
/// so another site cannot sign people out with a link.
#[allow(clippy::too_many_arguments)]
pub async fn ims_logout(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    headers: HeaderMap,
    csrf: CsrfToken,
    client_info: ClientInfo,
    OptionalSession(who): OptionalSession,
    params: Params,
) -> Response {
    let get = |name: &'static str| params.get(name).ok().flatten();
    let client = match get("client_id") {
        Some(id) => match svc.client(id).await {
            Ok(Some(c)) => Some(c),
            Ok(None) => return refuse("No application with this client ID is registered."),
            Err(e) => return PageError::internal(e).into_response(),
        },
        None => None,
    };
    let redirect = get("redirect_uri");
    if let Some(uri) = redirect {
        let allowed = client
            .as_ref()
            .and_then(|c| c.redirect_rules.as_ref())
            .is_some_and(|rules| rules.allows(uri));
        if !allowed {
            return refuse("The redirect_uri is not registered for the application (or no client_id was sent).");
        }
    }
    if let Some(s) = &who
        && redirect.is_none()
    {
        let hinted = match get("id_token_hint") {
            Some(hint) => match svc.verify_own_jwt(hint, ID_TOKEN_TYP).await {
                Ok(claims) => claims.and_then(|c| c.get("sub").and_then(|v| v.as_str()).map(str::to_owned)),
                Err(e) => return PageError::internal(e).into_response(),
            },
            None => None,
        };
        if hinted.as_deref() != Some(s.account.id.as_str()) {
            let fields = client
                .as_ref()
                .map(|c| vec![("client_id".to_owned(), c.client_id().to_owned())])
                .unwrap_or_default();
            let page = ConfirmPage {
                app_name: client.as_ref().map(|c| c.integration.name.as_str()),
                email: s.account.email.as_str(),
                csrf_token: csrf.value(),
                fields,
            };
            let html = pages::render(&page);
            let mut res = (csrf, html).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return res;
        }
    }
    // The client is only named here, not authenticated: its own token is revoked, another's is
    // left alone without a word, and the sign-out goes on.
    if let (Some(token), Some(c)) = (get("access_token"), &client) {
        match introspection::revoke(&svc, c, token).await {
            Ok(_) | Err(Failure::Token(_)) => {}
            Err(Failure::Internal(e)) => return PageError::internal(e).into_response(),
        }
    }
    let mut res = match redirect {
        Some(uri) => sign_out(&state, &headers, who.as_ref(), &client_info, Some(uri), false).await,
        None => {
            let ended = sign_out(&state, &headers, who.as_ref(), &client_info, None, false).await;
            // Keep the cookie removal, answer with JSON instead of the sign-in page.
            let mut res = Json(json!({})).into_response();
            for v in ended.headers().get_all(header::SET_COOKIE) {
                res.headers_mut().append(header::SET_COOKIE, v.clone());
            }
            res
        }
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
