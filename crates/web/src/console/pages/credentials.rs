//! `/console/integrations/{id}/credentials`: the client ID and other identifiers with copy
//! buttons, client secrets (add one — shown once — and revoke the old one), a service account's
//! certificates (upload a PEM file or pasted text, generate a key pair whose private key can be
//! downloaded exactly once, remove one), the credentials file, the copy-ready commands that get a
//! token for each flow the integration's type allows, and "Generate access token" (a short-lived
//! test token, shown once).
//!
//! Adding a secret and generating a key pair are POST-redirect-GET: the POST creates it and
//! redirects to this page with a one-time handle (`?secret=` and `?token=`, opened by
//! [`console::reveal`]; `?key=`, the private key's download token), so a reload creates nothing and shows no secret again. The
//! page is sent with `Cache-Control: no-store`.

use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::Kind;
use gatehouse_core::console;
use gatehouse_domain::console::snippets::{Snippet, snippets};
use gatehouse_domain::integration::{Integration, IntegrationType, StoredCertificate, StoredSecret};
use serde::Deserialize;

use super::{Ctx, Tabs, form_errors, no_store};
use crate::{
    AppState,
    account::{Nav, page, when},
    api::certificates::MAX_UPLOAD,
    csrf::{self, CsrfForm, CsrfToken},
    error::ConsoleError,
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/integrations/{id}/credentials", get(credentials_page))
        .route("/console/integrations/{id}/credentials.json", get(download))
        .route("/console/integrations/{id}/secrets", post(add_secret))
        .route(
            "/console/integrations/{id}/secrets/{secret_id}/revoke",
            post(revoke_secret),
        )
        .route(
            "/console/integrations/{id}/certificates",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/console/integrations/{id}/certificates/generate", post(generate))
        .route(
            "/console/integrations/{id}/certificates/{cert_id}/remove",
            post(remove_certificate),
        )
        .route("/console/integrations/{id}/private-key/{token}", get(private_key))
        .route("/console/integrations/{id}/test-token", post(test_token))
}

struct SecretRow {
    id: String,
    hint: String,
    created: String,
    revoked: Option<String>,
    /// When it expires (or expired); `None`: never.
    expires: Option<String>,
    expired: bool,
    last_used: Option<String>,
    /// Revoking it is offered: it is not revoked, and it is not the last active one.
    revocable: bool,
}

struct CertRow {
    id: String,
    fingerprint: String,
    not_after: String,
    expires_soon: bool,
    expired: bool,
    created: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "developer/credentials.html")]
struct CredentialsPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    has_secret: bool,
    is_service_account: bool,
    /// When the integration was last used; `None`: never.
    last_used: Option<String>,
    secrets: Vec<SecretRow>,
    active_secrets: usize,
    certificates: Vec<CertRow>,
    active_certificates: usize,
    new_secret: Option<String>,
    /// A new secret was created but has been shown already (or its display expired).
    secret_gone: bool,
    key_token: Option<String>,
    /// A generated private key was downloaded already (or its download expired).
    key_gone: bool,
    notice: Option<&'static str>,
    errors: Errors,
    pem: String,
    snippets: Vec<Snippet>,
    /// Whether "Generate access token" is offered (the policy decides when it is pressed).
    offers_test_token: bool,
    test_token: Option<ShownToken>,
    /// A test token was generated but has been shown already (or its display expired).
    token_gone: bool,
    has_subscriptions: bool,
}

/// A test token as the page shows it, once.
#[derive(serde::Serialize, Deserialize)]
struct ShownToken {
    access_token: String,
    scopes: Vec<String>,
    expires_at: String,
}

fn secret_rows(secrets: &[StoredSecret], now: i64) -> Vec<SecretRow> {
    let active = gatehouse_domain::console::secrets::active(secrets, now).count();
    secrets
        .iter()
        .map(|s| {
            let expired = s.is_expired_at(now);
            SecretRow {
                id: s.id.clone(),
                hint: s.hint.clone(),
                created: when(s.created_at),
                revoked: s.revoked_at.map(when),
                expires: s.expires_at.map(when),
                expired,
                last_used: s.last_used_at.map(when),
                revocable: s.revoked_at.is_none() && (expired || active > 1),
            }
        })
        .collect()
}

/// The expiries the form offers, in days (0: never).
const EXPIRY_CHOICES: [i64; 6] = [0, 30, 90, 180, 365, 730];

fn cert_rows(certs: &[StoredCertificate], now: i64) -> Vec<CertRow> {
    certs
        .iter()
        .map(|c| CertRow {
            id: c.id.clone(),
            fingerprint: c.fingerprint.clone(),
            not_after: when(c.not_after),
            expires_soon: c.not_after > now && c.not_after - now <= 30 * 86_400,
            expired: c.not_after <= now,
            created: when(c.created_at),
            revoked: c.revoked_at.map(when),
        })
        .collect()
}

#[derive(Default)]
struct Extra {
    new_secret: Option<String>,
    secret_gone: bool,
    key_token: Option<String>,
    key_gone: bool,
    notice: Option<&'static str>,
    errors: Errors,
    pem: String,
    test_token: Option<ShownToken>,
    token_gone: bool,
}

async fn render(state: &AppState, ctx: Ctx, id: &str, extra: Extra) -> Result<CredentialsPage, PageError> {
    let d = console::integrations::details(state, &ctx.caller, id).await?;
    let i = d.integration;
    // The kinds that get tokens of their own; the policy decides when it is pressed.
    let offers_test_token = i.integration_type.is_technical_account();
    Ok(CredentialsPage {
        snippets: snippets(&state.settings.public_url, &i, &d.subscriptions, state.now()),
        offers_test_token,
        test_token: extra.test_token,
        token_gone: extra.token_gone,
        has_subscriptions: !d.subscriptions.is_empty(),
        nav: ctx.nav,
        tabs: Tabs::of(&i, "credentials"),
        has_secret: i.has_secret(),
        is_service_account: i.integration_type == IntegrationType::ServiceAccount,
        last_used: d.last_used_at.map(when),
        active_secrets: gatehouse_domain::console::secrets::active(&d.secrets, state.now()).count(),
        secrets: secret_rows(&d.secrets, state.now()),
        active_certificates: d.certificates.iter().filter(|c| c.revoked_at.is_none()).count(),
        certificates: cert_rows(&d.certificates, state.now()),
        new_secret: extra.new_secret,
        secret_gone: extra.secret_gone,
        key_token: extra.key_token,
        key_gone: extra.key_gone,
        notice: extra.notice,
        errors: extra.errors,
        pem: extra.pem,
        i,
    })
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    done: Option<String>,
    key: Option<String>,
    secret: Option<String>,
    token: Option<String>,
}

async fn credentials_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let notice = match q.done.as_deref() {
        Some("secret_revoked") => {
            Some("The client secret was revoked. Clients still using it can no longer authenticate.")
        }
        Some("certificate_added") => {
            Some("The certificate was added. Assertions signed with its private key are accepted now.")
        }
        Some("certificate_removed") => {
            Some("The certificate was removed. Assertions signed with its key are refused from now on.")
        }
        _ => None,
    };
    let key_asked = q.key.is_some();
    let key_token = q
        .key
        .filter(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()));
    // A reload after the download (or after 10 minutes) says the key is gone instead of offering it.
    let (key_token, key_gone) = match key_token {
        Some(t) if console::certificates::private_key_waits(&state, &ctx.caller, &id, &t).await? => (Some(t), false),
        Some(_) => (None, true),
        None => (None, key_asked),
    };
    let new_secret = match q.secret.as_deref() {
        Some(handle) => console::reveal::open(&state, &ctx.who, &id, handle).await?,
        None => None,
    };
    let test_token = match q.token.as_deref() {
        Some(handle) => console::reveal::open_as(&state, console::reveal::TOKEN_PURPOSE, &ctx.who, &id, handle)
            .await?
            .and_then(|json| serde_json::from_str::<ShownToken>(&json).ok()),
        None => None,
    };
    let extra = Extra {
        token_gone: q.token.is_some() && test_token.is_none(),
        test_token,
        secret_gone: q.secret.is_some() && new_secret.is_none(),
        new_secret,
        key_token,
        key_gone,
        notice,
        ..Extra::default()
    };
    let p = render(&state, ctx, &id, extra).await?;
    Ok(no_store(page(StatusCode::OK, csrf, &p)))
}

async fn download(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let file = console::integrations::credentials(&state, &ctx.caller, &id).await?;
    Ok(crate::api::credentials::attachment(&file))
}

/// Re-renders the page with a refusal (the page itself fails with 404 when the integration is not
/// visible), or fails with an internal error.
async fn refused(
    state: &AppState,
    ctx: Ctx,
    csrf: CsrfToken,
    id: &str,
    e: gatehouse_core::Error,
    pem: String,
) -> Result<Response, PageError> {
    if crate::error::status_of(e.kind).is_server_error() {
        return Err(e.into());
    }
    let extra = Extra {
        errors: form_errors(&e),
        pem,
        ..Extra::default()
    };
    let p = render(state, ctx, id, extra).await?;
    Ok(page(crate::error::status_of(e.kind), csrf, &p))
}

#[derive(Debug, Deserialize)]
struct Empty {}

#[derive(Debug, Deserialize)]
struct NewSecretForm {
    /// Days until it expires ([`EXPIRY_CHOICES`]); empty or `0`: never.
    #[serde(default)]
    expires_in_days: String,
}

async fn add_secret(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NewSecretForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let days = match form.expires_in_days.trim() {
        "" => Some(0),
        d => d.parse::<i64>().ok().filter(|d| EXPIRY_CHOICES.contains(d)),
    };
    let Some(days) = days else {
        let e = gatehouse_core::Error::new(
            Kind::Invalid,
            "invalid_expiry",
            "Choose when the new secret expires from the list.",
        )
        .on("expires_at");
        return refused(&state, ctx, csrf, &id, e, String::new()).await;
    };
    let expires_at = (days > 0).then(|| state.now() + days * 86_400);
    match console::secrets::add(&state, &ctx.caller, &id, expires_at).await {
        Ok((_, plaintext)) => {
            let handle = console::reveal::stash(&state, &ctx.who, &id, &plaintext).await?;
            Ok(Redirect::to(&format!("/console/integrations/{id}/credentials?secret={handle}")).into_response())
        }
        Err(e) => refused(&state, ctx, csrf, &id, e, String::new()).await,
    }
}

async fn revoke_secret(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, secret_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::secrets::revoke(&state, &ctx.caller, &id, &secret_id).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/console/integrations/{id}/credentials?done=secret_revoked")).into_response())
        }
        Err(e) => refused(&state, ctx, csrf, &id, e, String::new()).await,
    }
}

fn too_large() -> ConsoleError {
    ConsoleError::new(
        Kind::TooLarge,
        "payload_too_large",
        format!(
            "The file is larger than {} KB. A certificate is a few KB: choose the certificate file (it starts with \
             -----BEGIN CERTIFICATE-----), not an archive or a key store.",
            MAX_UPLOAD / 1024
        ),
    )
    .on("certificate")
}

/// Reads the upload form: the CSRF field, a certificate file and/or pasted PEM text.
async fn read_upload(headers: &HeaderMap, secure: bool, mut form: Multipart) -> Result<(String, String), ConsoleError> {
    let mut csrf_field = None;
    let mut file = String::new();
    let mut pasted = String::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(ConsoleError::new(Kind::Invalid, "invalid_body", e.body_text()));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(ConsoleError::new(Kind::Invalid, "invalid_body", e.body_text()));
            }
        };
        let text = || {
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                ConsoleError::new(
                    Kind::Invalid,
                    "certificate_not_pem",
                    "This file is not a PEM certificate (it is not text; a DER file can be converted with \
                     openssl x509 -inform der -in cert.der -out cert.pem).",
                )
                .on("certificate")
            })
        };
        match name.as_str() {
            csrf::FORM_FIELD => csrf_field = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "certificate_file" => file = text()?,
            "certificate_pem" => pasted = text()?,
            _ => {}
        }
    }
    let cookie = csrf::cookie_value(headers, secure);
    if !csrf::tokens_match(cookie.as_deref(), csrf_field.as_deref()) {
        return Err(ConsoleError::new(
            Kind::Forbidden,
            "csrf_failed",
            "This form has expired or was not sent from this site. Go back, reload the page and try again.",
        ));
    }
    Ok((file, pasted))
}

async fn upload(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let (file, pasted) = match read_upload(&headers, state.settings.secure_cookies, form).await {
        Ok(v) => v,
        Err(e) if e.code == "csrf_failed" => return Err(e.into()),
        Err(e) => return refused(&state, ctx, csrf, &id, e.0, String::new()).await,
    };
    let pem = if file.trim().is_empty() { pasted.clone() } else { file };
    if pem.trim().is_empty() {
        let e = ConsoleError::new(
            Kind::Invalid,
            "certificate_missing",
            "Choose a certificate file, or paste the certificate's PEM text.",
        )
        .on("certificate");
        return refused(&state, ctx, csrf, &id, e.0, pasted).await;
    }
    match console::certificates::upload(&state, &ctx.caller, &id, &pem).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/console/integrations/{id}/credentials?done=certificate_added"
        ))
        .into_response()),
        Err(e) => refused(&state, ctx, csrf, &id, e, pasted).await,
    }
}

async fn generate(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::certificates::generate_for_download(&state, &ctx.caller, &id).await {
        Ok((_, token)) => {
            Ok(Redirect::to(&format!("/console/integrations/{id}/credentials?key={token}")).into_response())
        }
        Err(e) => refused(&state, ctx, csrf, &id, e, String::new()).await,
    }
}

async fn private_key(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::certificates::take_private_key(&state, &ctx.caller, &id, &token).await? {
        Some(pem) => {
            let mut res = pem.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"private.key\""),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            Ok(res)
        }
        None => Err(PageError::gone(
            "This private key is no longer available",
            "A generated private key can be downloaded once, within 10 minutes; Gatehouse does not keep it. If you \
             do not have it, remove that certificate and generate a new key pair.",
        )),
    }
}

async fn remove_certificate(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, cert_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::certificates::remove(&state, &ctx.caller, &id, &cert_id).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/console/integrations/{id}/credentials?done=certificate_removed"
        ))
        .into_response()),
        Err(e) => refused(&state, ctx, csrf, &id, e, String::new()).await,
    }
}

async fn test_token(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::test_token::generate(&state, &ctx.caller, &id).await {
        Ok(t) => {
            let shown = ShownToken {
                access_token: t.access_token,
                scopes: t.scopes,
                expires_at: when(t.expires_at),
            };
            let json = serde_json::to_string(&shown).map_err(gatehouse_core::Error::internal)?;
            let handle =
                console::reveal::stash_as(&state, console::reveal::TOKEN_PURPOSE, &ctx.who, &id, &json).await?;
            Ok(Redirect::to(&format!(
                "/console/integrations/{id}/credentials?token={handle}#test-token"
            ))
            .into_response())
        }
        Err(e) => refused(&state, ctx, csrf, &id, e, String::new()).await,
    }
}
