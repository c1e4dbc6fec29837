//! The authorization endpoint (RFC 6749 §3.1, §4.1.1–4.1.2; OIDC Core §3.1.2; RFC 7636 §4.3;
//! RFC 9207 for the `iss` response parameter), on the standard path `/oauth/authorize` and the
//! Adobe-compatible ones `/ims/authorize`, `/ims/authorize/v1` and `/ims/authorize/v2` (compat
//! §4; codes from those are JWT-shaped with a `type` claim).
//!
//! ```text
//!  browser ──GET /oauth/authorize?client_id&redirect_uri&…──▶ authorize_get
//!     │  client unknown/disabled, redirect URI not registered ──▶ error page (never redirected)
//!     │  bad parameters, prompt=none that cannot be honoured ──▶ 302 redirect_uri?error=…&state
//!     │  no session, prompt=login, max_age exceeded ──▶ /signin?return_to=<this request> (identity)
//!     │        └─ signs in ──303──▶ GET /oauth/authorize?… again
//!     │  scopes not yet approved, or prompt=consent ──▶ consent page (CSRF-protected form)
//!     │        └─ POST /oauth/authorize decision=allow|deny ──▶ authorize_post
//!     ▼
//!  code (random, single use, 60 s; bound to client, redirect URI, PKCE challenge, nonce)
//!     ──302──▶ redirect_uri?code=…&state=…&iss=…
//!  client ──POST /oauth/token grant_type=authorization_code&code&code_verifier──▶ user_grants
//! ```
//!
//! A browser that arrives here from one of Gatehouse's own forms (the sign-in or consent form)
//! gets the final hop to the client as a page that continues by itself, not as an HTTP redirect:
//! those pages' `form-action 'self'` policy would otherwise stop the browser at the redirect.

use gatehouse_core::tokens::service::{Client, Failure, ServiceError, TokenService};
use std::sync::Arc;

use askama::Template;
use axum::{
    Extension, Form, Router,
    extract::{State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use gatehouse_domain::{
    audit::{Actor, AuditEntry},
    identity::session::amr,
    integration::IntegrationType,
    secret,
    token::{
        authorize::{
            AuthorizationRequest, AuthorizeError, BrowserState, ClientRefusal, Next, PkceChallenge, RawRequest,
            ResponseMode, check_client, decide, parse_request,
        },
        claims::Flavour,
        grant::{Consent, GrantTokenKind},
        records::AuthorizationCodeRecord,
        scope::{self, GrantedScopes},
    },
};
use gatehouse_store::{AuditStore, ConsentStore, ServiceStore, TokenStore};

use gatehouse_core::tokens::user_grants::new_grant_token;

use super::params::Params;
use crate::{
    AppState,
    csrf::CsrfToken,
    error::PageError,
    extract::ClientInfo,
    identity::{OptionalSession, SignedIn, redirect_to_signin},
    pages,
};

/// The internal parameter that records when `prompt=login` demanded a new sign-in.
pub const LOGIN_DEMANDED_AT: &str = "gh_login_after";

/// The authorization endpoint on every path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize_get).post(authorize_post))
        .route("/ims/authorize", get(authorize_get).post(authorize_post))
        .route("/ims/authorize/v1", get(authorize_get).post(authorize_post))
        .route("/ims/authorize/v2", get(authorize_get).post(authorize_post))
}

fn flavour_of(path: &str) -> Flavour {
    if path.starts_with("/ims/") {
        Flavour::Adobe
    } else {
        Flavour::Standard
    }
}

/// The request as it arrived: its path (which surface) and parameters.
struct Incoming {
    path: String,
    params: Params,
    flavour: Flavour,
}

/// GET: the request from the client, or the browser coming back from sign-in.
async fn authorize_get(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    uri: Uri,
    headers: HeaderMap,
    csrf: CsrfToken,
    client_info: ClientInfo,
    OptionalSession(session): OptionalSession,
) -> Response {
    let pairs: Vec<(String, String)> = match uri.query().map(serde_urlencoded::from_str).transpose() {
        Ok(p) => p.unwrap_or_default(),
        Err(_) => return PageError::bad_request("The request's parameters could not be read.").into_response(),
    };
    let incoming = Incoming {
        path: uri.path().to_owned(),
        params: Params::from_pairs(pairs),
        flavour: flavour_of(uri.path()),
    };
    handle(&state, &svc, &incoming, session, None, csrf, &headers, &client_info).await
}

/// POST: an authorization request sent as a form (OpenID Connect Core §3.1.2.1), handled like a
/// GET, or the consent form's answer (every request parameter travels along as a hidden field),
/// which alone carries `decision` and must carry the CSRF token.
#[allow(clippy::too_many_arguments)]
async fn authorize_post(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<TokenService>>,
    uri: Uri,
    headers: HeaderMap,
    csrf: CsrfToken,
    client_info: ClientInfo,
    OptionalSession(session): OptionalSession,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return PageError::bad_request("The request's parameters could not be read.").into_response();
    };
    let decision = fields
        .iter()
        .find(|(k, _)| k == "decision")
        .map(|(_, v)| v.as_str() == "allow");
    if decision.is_some() && !crate::csrf::form_matches(&headers, state.settings.secure_cookies, &fields) {
        tracing::info!("consent answer refused: CSRF token missing or wrong");
        return PageError::forbidden(
            "This form has expired or was not sent from this site. Go back, reload the page and try again.",
        )
        .into_response();
    }
    let pairs: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(k, _)| k != "decision" && k != crate::csrf::FORM_FIELD)
        .collect();
    let incoming = Incoming {
        path: uri.path().to_owned(),
        params: Params::from_pairs(pairs),
        flavour: flavour_of(uri.path()),
    };
    handle(&state, &svc, &incoming, session, decision, csrf, &headers, &client_info).await
}

fn refusal_page(r: &ClientRefusal) -> Response {
    tracing::info!(code = r.code(), "authorization request refused on a page");
    PageError::new(
        StatusCode::BAD_REQUEST,
        "This sign-in request cannot be completed",
        // The OAuth error code too (RFC 6749 §4.1.2.1: with no trusted redirect URI, the error
        // is told to the person instead of the client).
        format!("{r} (OAuth error: {})", r.code()),
    )
    .into_response()
}

/// Where and how responses go back to the client, once its redirect URI is trusted.
struct Reply {
    redirect_uri: String,
    state: Option<String>,
    mode: ResponseMode,
    issuer: String,
    /// The browser came from one of Gatehouse's own forms (see the module documentation).
    from_own_form: bool,
}

impl Reply {
    fn url(&self, params: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if let Some(s) = &self.state {
            all.push(("state", s));
        }
        all.push(("iss", &self.issuer));
        let encoded = serde_urlencoded::to_string(&all).unwrap_or_default();
        match self.mode {
            ResponseMode::Query => {
                let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
                format!("{}{sep}{encoded}", self.redirect_uri)
            }
            ResponseMode::Fragment => format!("{}#{encoded}", self.redirect_uri),
        }
    }

    fn send(&self, params: &[(&str, &str)]) -> Response {
        let target = self.url(params);
        if self.from_own_form {
            continue_to(&target)
        } else {
            let mut res = Redirect::to(&target).into_response();
            *res.status_mut() = StatusCode::FOUND;
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
    }

    fn error(&self, e: &AuthorizeError) -> Response {
        tracing::info!(error = e.code(), "authorization request answered with an error");
        let description = e.to_string();
        self.send(&[("error", e.code()), ("error_description", &description)])
    }
}

#[derive(Template)]
#[template(path = "oauth/continue.html")]
struct ContinuePage<'a> {
    target: &'a str,
}

/// A page that sends the browser on to `target` by itself (a `Refresh` header), with a link.
pub fn continue_to(target: &str) -> Response {
    let mut res = pages::render(&ContinuePage { target });
    if let Ok(v) = HeaderValue::from_str(&format!("0;url={target}")) {
        res.headers_mut().insert(header::REFRESH, v);
    }
    res
}

/// Did the browser get here through a form of Gatehouse's own (same-origin navigation)?
fn came_from_own_form(headers: &HeaderMap) -> bool {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    h("sec-fetch-site") == Some("same-origin") && h("sec-fetch-mode") == Some("navigate")
}

/// The whole decision, for GET (`decision` = None) and the consent form's POST.
#[allow(clippy::too_many_arguments)]
async fn handle(
    state: &AppState,
    svc: &TokenService,
    incoming: &Incoming,
    session: Option<SignedIn>,
    decision: Option<bool>,
    csrf: CsrfToken,
    headers: &HeaderMap,
    client_info: &ClientInfo,
) -> Response {
    let params = &incoming.params;
    // 1. The client and the redirect URI: failures are shown here, never redirected.
    let client_id = match params.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => return refusal_page(&ClientRefusal::MissingClientId),
        Err(_) => return refusal_page(&ClientRefusal::RepeatedParameter("client_id")),
    };
    let client = match svc.client(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refusal_page(&ClientRefusal::UnknownClient),
        Err(e) => return PageError::internal(e).into_response(),
    };
    let redirect_param = match params.get("redirect_uri") {
        Ok(r) => r,
        Err(_) => return refusal_page(&ClientRefusal::RepeatedParameter("redirect_uri")),
    };
    let redirect_uri = match check_client(&client.integration, client.redirect_rules.as_ref(), redirect_param) {
        Ok(u) => u,
        Err(r) => return refusal_page(&r),
    };
    let mut reply = Reply {
        redirect_uri,
        state: params.get("state").ok().flatten().map(str::to_owned),
        mode: if params.get("response_mode").ok().flatten() == Some("fragment") {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        },
        issuer: svc.settings.issuer.issuer.clone(),
        from_own_form: decision.is_some() || came_from_own_form(headers),
    };
    // 2. The rest of the request: failures go back to the client.
    let (req, granted) = match validate(&client, params) {
        Ok(v) => v,
        Err(e) => return reply.error(&e),
    };
    reply.mode = req.response_mode;
    let asked = Asked {
        req: &req,
        granted: &granted,
        redirect_uri: &reply.redirect_uri,
        // Adobe's clients never repeat it at `/ims/token`, so codes of that surface do not ask.
        redirect_uri_sent: redirect_param.is_some() && incoming.flavour == Flavour::Standard,
    };
    match proceed(state, svc, incoming, &client, &asked, session, decision, client_info).await {
        Ok(Step::SignIn { force }) => {
            // prompt=login is satisfied by a sign-in after this moment, whether or not someone
            // was signed in already.
            let demanded = (force || req.prompt.login).then(|| svc.now());
            let return_to = own_url(incoming, demanded);
            redirect_to_signin(&return_to, force).into_response()
        }
        Ok(Step::Consent(who)) => {
            consent_page(state, incoming, &client, &granted, &who, &reply.redirect_uri, csrf).await
        }
        Ok(Step::Code(code)) => reply.send(&[("code", &code)]),
        Ok(Step::Error(e)) => reply.error(&e),
        Err(e) => PageError::internal(e).into_response(),
    }
}

/// Parses the parameters and selects the scopes the integration may be granted.
fn validate(client: &Client, params: &Params) -> Result<(AuthorizationRequest, GrantedScopes), AuthorizeError> {
    let one = |name: &'static str| {
        params
            .get(name)
            .map_err(|_| AuthorizeError::InvalidRequest(format!("the {name} parameter was given more than once")))
    };
    let raw = RawRequest {
        response_type: one("response_type")?,
        response_mode: one("response_mode")?,
        scope: one("scope")?,
        state: one("state")?,
        nonce: one("nonce")?,
        prompt: one("prompt")?,
        max_age: one("max_age")?,
        code_challenge: one("code_challenge")?,
        code_challenge_method: one("code_challenge_method")?,
        request: one("request")?,
        request_uri: one("request_uri")?,
    };
    let req = parse_request(&client.integration, &raw)?;
    let granted = scope::grant(IntegrationType::Oauth, &req.scopes, &client.subscriptions)
        .map_err(|e| AuthorizeError::InvalidScope(e.to_string()))?;
    Ok((req, granted))
}

/// What the client asked for, validated.
struct Asked<'a> {
    req: &'a AuthorizationRequest,
    granted: &'a GrantedScopes,
    redirect_uri: &'a str,
    /// The token request must repeat the redirect URI (RFC 6749 §4.1.3).
    redirect_uri_sent: bool,
}

enum Step {
    SignIn { force: bool },
    Consent(Box<SignedIn>),
    Code(String),
    Error(AuthorizeError),
}

#[allow(clippy::too_many_arguments)]
async fn proceed(
    state: &AppState,
    svc: &TokenService,
    incoming: &Incoming,
    client: &Client,
    asked: &Asked<'_>,
    session: Option<SignedIn>,
    decision: Option<bool>,
    client_info: &ClientInfo,
) -> Result<Step, Failure> {
    let now = svc.now();
    let granted = asked.granted;
    let consented = match &session {
        Some(s) => {
            svc.consent_covers(&s.account.id, &client.integration.id, &granted.scopes)
                .await?
        }
        None => false,
    };
    let browser = BrowserState {
        auth_time: session.as_ref().map(|s| s.session.auth_time),
        login_demanded_at: incoming
            .params
            .get(LOGIN_DEMANDED_AT)
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok()),
        // The consent form's answer stands in for a stored consent.
        consented: decision.is_some() || consented,
    };
    let mut req = asked.req.clone();
    if decision.is_some() {
        req.prompt.consent = false;
    }
    let next = match decide(&req, &browser, now) {
        Ok(n) => n,
        Err(e) => return Ok(Step::Error(e)),
    };
    let Some(who) = session else {
        return Ok(Step::SignIn { force: false });
    };
    match next {
        Next::SignIn { force } => Ok(Step::SignIn { force }),
        Next::Consent => Ok(Step::Consent(Box::new(who))),
        Next::Issue => {
            match decision {
                Some(false) => return Ok(Step::Error(AuthorizeError::AccessDenied)),
                Some(true) => record_consent(state, svc, &who, client, granted, client_info).await?,
                None => {}
            }
            let asked = Asked { req: &req, ..*asked };
            Ok(Step::Code(
                issue_code(svc, incoming.flavour, client, &asked, &who, now).await?,
            ))
        }
    }
}

/// Remembers the approval (widening an earlier one), with its audit entry.
async fn record_consent(
    state: &AppState,
    svc: &TokenService,
    who: &SignedIn,
    client: &Client,
    granted: &GrantedScopes,
    client_info: &ClientInfo,
) -> Result<(), Failure> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let consent = match tx.consent(&who.account.id, &client.integration.id).await? {
        Some(c) => c.widened(&granted.scopes, now),
        None => Consent {
            account_id: who.account.id.clone(),
            integration_id: client.integration.id.clone(),
            scopes: granted.scopes.clone(),
            created_at: now,
            updated_at: now,
        },
    };
    tx.upsert_consent(&consent).await?;
    let entry = AuditEntry::new(
        now,
        &Actor::Account(who.account.id.clone()),
        "consent.granted",
        format!("integration:{}", client.integration.id),
    )
    .from_client(client_info.ip.clone(), client_info.user_agent.clone())
    .details(serde_json::json!({ "client_id": client.client_id(), "scopes": consent.scopes }));
    tx.append_audit(&entry).await?;
    // Consents are not part of the cached catalog, so this change need not bump the catalog
    // generation (which would empty every node's caches); the audit entry still commits with it.
    // The token service's own memory of consents is updated here and told of withdrawals
    // through the deny-list (`TokenService::forget_consent`).
    tx.commit_unaudited().await?;
    svc.remember_consent(&who.account.id, &client.integration.id, Some(consent.scopes));
    Ok(())
}

/// Creates and stores a code for the signed-in person.
async fn issue_code(
    svc: &TokenService,
    flavour: Flavour,
    client: &Client,
    asked: &Asked<'_>,
    who: &SignedIn,
    now: i64,
) -> Result<String, Failure> {
    let (req, granted) = (asked.req, asked.granted);
    let lifetime = svc.settings.lifetimes.authorization_code;
    let code = new_grant_token(
        svc,
        GrantTokenKind::AuthorizationCode,
        flavour,
        client.client_id(),
        &who.account.id,
        &granted.scopes,
        lifetime,
    )
    .await?;
    let record = AuthorizationCodeRecord {
        code_digest: secret::digest(&code),
        client_id: client.client_id().to_owned(),
        account_id: who.account.id.clone(),
        redirect_uri: asked.redirect_uri.to_owned(),
        redirect_uri_sent: asked.redirect_uri_sent,
        scope: granted.scopes.join(" "),
        code_challenge: req.pkce.as_ref().map(|p| p.0.clone()),
        code_challenge_method: req.pkce.as_ref().map(|_| PkceChallenge::METHOD.to_owned()),
        nonce: req.nonce.clone(),
        auth_time: who.session.auth_time,
        amr: amr(&who.session.auth_methods).into_iter().map(str::to_owned).collect(),
        created_at: now,
        expires_at: now + lifetime,
        consumed_at: None,
        issued_family_id: None,
        issued_jti: None,
    };
    svc.store().conn().await?.insert_authorization_code(&record).await?;
    Ok(code)
}

/// This request's own URL (path and parameters), to come back to after sign-in. With
/// `demanded_at`, it records when `prompt=login` demanded the sign-in.
fn own_url(incoming: &Incoming, demanded_at: Option<i64>) -> String {
    let mut pairs: Vec<(String, String)> = incoming
        .params
        .pairs()
        .iter()
        .filter(|(k, _)| k != LOGIN_DEMANDED_AT)
        .cloned()
        .collect();
    if let Some(t) = demanded_at {
        pairs.push((LOGIN_DEMANDED_AT.to_owned(), t.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}?{query}", incoming.path)
}

/// One line per scope on the consent screen.
struct ScopeLine {
    scope: String,
    description: String,
}

#[derive(Template)]
#[template(path = "oauth/consent.html")]
struct ConsentPage<'a> {
    app_name: &'a str,
    email: &'a str,
    scopes: Vec<ScopeLine>,
    redirect_host: String,
    action: &'a str,
    csrf_token: &'a str,
    fields: Vec<(String, String)>,
}

async fn describe(state: &AppState, client: &Client, scopes: &[String]) -> Result<Vec<ScopeLine>, ServiceError> {
    let mut lines = Vec::with_capacity(scopes.len());
    let mut conn = state.store.conn().await?;
    for s in scopes {
        let description = match s.as_str() {
            "openid" => "Know who you are (your account ID)".to_owned(),
            "email" => "See your email address".to_owned(),
            "profile" => "See your name and basic profile".to_owned(),
            "offline_access" => "Keep access while you are not using it".to_owned(),
            other => {
                let service = client
                    .subscriptions
                    .iter()
                    .find(|sub| sub.scopes.iter().any(|x| x == other))
                    .map(|sub| sub.service_code.clone());
                match service {
                    Some(code) => {
                        let name = conn
                            .service_by_code(&code)
                            .await?
                            .map_or_else(|| code.as_str().to_owned(), |svc| svc.name);
                        format!("Use {name} for you")
                    }
                    None => format!("Use {other}"),
                }
            }
        };
        lines.push(ScopeLine {
            scope: s.clone(),
            description,
        });
    }
    Ok(lines)
}

/// `form-action` for the consent page: this server, and the client's origin (the form's answer
/// redirects there).
fn form_action(redirect_uri: &str) -> String {
    let origin = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    };
    format!("'self' {origin}").trim_end().to_owned()
}

async fn consent_page(
    state: &AppState,
    incoming: &Incoming,
    client: &Client,
    granted: &GrantedScopes,
    who: &SignedIn,
    redirect_uri: &str,
    csrf: CsrfToken,
) -> Response {
    let scopes = match describe(state, client, &granted.scopes).await {
        Ok(s) => s,
        Err(e) => return PageError::internal(e).into_response(),
    };
    let redirect_host = url::Url::parse(redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| redirect_uri.to_owned());
    let page = ConsentPage {
        app_name: &client.integration.name,
        email: who.account.email.as_str(),
        scopes,
        redirect_host,
        action: &incoming.path,
        csrf_token: csrf.value(),
        fields: incoming.params.pairs().to_vec(),
    };
    let mut res = pages::render(&page);
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action {}; frame-ancestors 'none'; base-uri 'none'",
        form_action(redirect_uri)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    (csrf, res).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_names_the_client_origin() {
        assert_eq!(
            form_action("https://app.example.com:8443/cb?x=1"),
            "'self' https://app.example.com:8443"
        );
        assert_eq!(form_action("com.example.app:/cb"), "'self' com.example.app:");
        assert_eq!(form_action("not a url"), "'self'");
    }

    #[test]
    fn replies_keep_the_redirect_uri_query_and_add_state_and_iss() {
        let r = Reply {
            redirect_uri: "https://app.example.com/cb?tenant=1".into(),
            state: Some("a b".into()),
            mode: ResponseMode::Query,
            issuer: "https://id.example.test".into(),
            from_own_form: false,
        };
        assert_eq!(
            r.url(&[("code", "c")]),
            "https://app.example.com/cb?tenant=1&code=c&state=a+b&iss=https%3A%2F%2Fid.example.test"
        );
        let f = Reply {
            mode: ResponseMode::Fragment,
            state: None,
            ..r
        };
        assert_eq!(
            f.url(&[("error", "login_required")]),
            "https://app.example.com/cb?tenant=1#error=login_required&iss=https%3A%2F%2Fid.example.test"
        );
    }
}
