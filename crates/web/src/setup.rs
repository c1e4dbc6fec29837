//! The first administrator. While no operator account exists, `gatehouse serve` issues a one-time
//! bootstrap link ([`issue_bootstrap_link`]) and prints it; the link opens a form here where the
//! first administrator chooses an email, a display name and a password.
//!
//! ```text
//!  gatehouse serve ── no operator? ──▶ issue_bootstrap_link ──▶ prints <public_url>/setup/<token>
//!  browser GET  /setup/{token} ──▶ setup_form     (token still valid? render form + CSRF cookie)
//!  browser POST /setup/{token} ──▶ create_operator (CSRF, validate, one Tx: consume token,
//!                                                    insert operator account, audit; then a
//!                                                    session: signed in) ──303──▶
//!  browser GET  /setup/complete ──▶ setup_complete (links to the home page and the operator area)
//! ```
//!
//! The token is 256 random bits, stored only as its SHA-256 digest, valid for 24 hours, and single
//! use; issuing a new one revokes the unused ones.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use gatehouse_domain::{
    Timestamp,
    account::{Account, AccountType, Email},
    audit::{Actor, AuditEntry},
    ids::new_row_id,
    password, secret,
};
use gatehouse_store::{AccountStore, AuditStore, OneTimeToken, OneTimeTokenStore, Store, StoreError};
use serde::Deserialize;

use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::OptionalSession,
    pages,
};

/// The one-time token purpose of bootstrap links.
pub const BOOTSTRAP_PURPOSE: &str = "bootstrap";
/// How long a bootstrap link stays valid.
pub const BOOTSTRAP_LIFETIME: i64 = 24 * 3600;
const MAX_DISPLAY_NAME: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup/complete", get(setup_complete))
        .route("/setup/{token}", get(setup_form).post(create_operator))
}

/// Issues a new bootstrap link if no operator account exists yet, and returns it.
pub async fn issue_bootstrap_link_if_needed(
    store: &Store,
    public_url: &str,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    if store.conn().await?.count_operators().await? > 0 {
        return Ok(None);
    }
    issue_bootstrap_link(store, public_url, now).await.map(Some)
}

/// Issues a bootstrap link (revoking unused earlier ones) and returns `<public_url>/setup/<token>`.
pub async fn issue_bootstrap_link(store: &Store, public_url: &str, now: Timestamp) -> Result<String, StoreError> {
    let token = secret::random_token_hex(&mut rand::thread_rng());
    let mut tx = store.begin().await?;
    tx.revoke_one_time_tokens(BOOTSTRAP_PURPOSE, now).await?;
    tx.insert_one_time_token(&OneTimeToken {
        digest: secret::digest(&token),
        purpose: BOOTSTRAP_PURPOSE.to_owned(),
        account_id: None,
        org_id: None,
        payload: serde_json::Value::Null,
        created_at: now,
        expires_at: now + BOOTSTRAP_LIFETIME,
        used_at: None,
    })
    .await?;
    tx.append_audit(&AuditEntry::new(
        now,
        &Actor::System,
        "bootstrap.link_issued",
        "bootstrap",
    ))
    .await?;
    tx.commit().await?;
    Ok(format!("{}/setup/{token}", public_url.trim_end_matches('/')))
}

fn link_unusable() -> PageError {
    PageError::gone(
        "This setup link can no longer be used",
        "It has been used already or it has expired. If no administrator exists yet, restart gatehouse serve: \
         it prints a new link.",
    )
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    action: String,
    csrf_token: &'a str,
    email: &'a str,
    display_name: &'a str,
    min_password: usize,
    errors: Vec<FieldError>,
}

impl SetupPage<'_> {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Debug, Clone)]
struct FieldError {
    field: &'static str,
    message: String,
}

fn render_form(token: &str, csrf: CsrfToken, email: &str, display_name: &str, errors: Vec<FieldError>) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = SetupPage {
        action: format!("/setup/{token}"),
        csrf_token: csrf.value(),
        email,
        display_name,
        min_password: password::MIN_LENGTH,
        errors,
    };
    let html = pages::render(&page);
    (status, csrf, html).into_response()
}

/// Tokens are 64 hex digits; anything else cannot be one (and is not looked up).
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn token_is_valid(state: &AppState, token: &str) -> Result<bool, PageError> {
    if !well_formed(token) {
        return Ok(false);
    }
    let mut conn = state.store.conn().await?;
    let found = conn
        .peek_one_time_token(&secret::digest(token), BOOTSTRAP_PURPOSE, state.now())
        .await?;
    Ok(found.is_some())
}

async fn setup_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    if !token_is_valid(&state, &token).await? {
        return Err(link_unusable());
    }
    Ok(render_form(&token, csrf, "", "", Vec::new()))
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

struct ValidSetup {
    email: Email,
    display_name: String,
}

fn validate(form: &SetupForm) -> Result<ValidSetup, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = Email::parse(&form.email)
        .map_err(|e| {
            errors.push(FieldError {
                field: "email",
                message: if form.email.trim().is_empty() {
                    "Enter an email address.".to_owned()
                } else {
                    format!("Enter a valid email address, like name@example.com ({}).", e.message)
                },
            });
        })
        .ok();
    let display_name = form.display_name.trim();
    if display_name.is_empty() {
        errors.push(FieldError {
            field: "display_name",
            message: "Enter a display name.".to_owned(),
        });
    } else if display_name.chars().count() > MAX_DISPLAY_NAME || display_name.chars().any(char::is_control) {
        errors.push(FieldError {
            field: "display_name",
            message: format!(
                "The display name must be at most {MAX_DISPLAY_NAME} characters, without control characters."
            ),
        });
    }
    if let Err(e) = password::check_length(&form.password) {
        errors.push(FieldError {
            field: "password",
            message: format!("{}.", capitalise(&e.message)),
        });
    } else if form.password != form.password_confirm {
        errors.push(FieldError {
            field: "password_confirm",
            message: "The two passwords do not match.".to_owned(),
        });
    }
    match email {
        Some(email) if errors.is_empty() => Ok(ValidSetup {
            email,
            display_name: display_name.to_owned(),
        }),
        _ => Err(errors),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

async fn create_operator(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<Response, PageError> {
    if !token_is_valid(&state, &token).await? {
        return Err(link_unusable());
    }
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return Ok(render_form(&token, csrf, &form.email, &form.display_name, errors)),
    };
    // Hashing is deliberately slow; it runs off the async workers and before the write lock.
    let pw = form.password.clone();
    let hash = gatehouse_core::pools::hashing::hash(pw)
        .await
        .map_err(PageError::internal)?
        .map_err(PageError::internal)?;

    let now = state.now();
    let id = new_row_id(&mut rand::thread_rng());
    let account = Account {
        id: id.clone(),
        email: valid.email,
        account_type: AccountType::Personal,
        display_name: valid.display_name,
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: true,
        password_hash: Some(hash),
        operator: true,
        disabled: false,
        owner_org_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    if tx
        .consume_one_time_token(&secret::digest(&token), BOOTSTRAP_PURPOSE, now)
        .await?
        .is_none()
    {
        return Err(link_unusable());
    }
    match tx.insert_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let errors = vec![FieldError {
                field: "email",
                message: "An account with this email address already exists. Choose another address.".to_owned(),
            }];
            return Ok(render_form(&token, csrf, &form.email, &form.display_name, errors));
        }
        Err(e) => return Err(e.into()),
    }
    let entry = AuditEntry::new(
        now,
        &Actor::Account(id.clone()),
        "account.created",
        format!("account:{id}"),
    )
    .from_client(client.0.ip.clone(), client.0.user_agent.clone())
    .details(serde_json::json!({ "email": account.email.as_str(), "operator": true, "via": "bootstrap" }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    tracing::info!(account_id = %id, "the first administrator was created through the bootstrap link");
    // The administrator has just proved the link and chosen the password: they are signed in.
    let (_, cookie) = crate::identity::session::start_session(
        &state,
        &account,
        vec![gatehouse_domain::identity::session::AuthMethod::Password],
        &client,
        None,
    )
    .await?;
    gatehouse_core::identity::audit::record(
        &state,
        &AuditEntry::new(
            now,
            &Actor::Account(id.clone()),
            "signin.succeeded",
            format!("account:{id}"),
        )
        .from_client(client.0.ip.clone(), client.0.user_agent.clone())
        .details(serde_json::json!({ "methods": ["pwd"], "via": "bootstrap" })),
    )
    .await?;
    Ok((cookie, Redirect::to("/setup/complete")).into_response())
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct SetupDonePage {
    signed_in: bool,
}

async fn setup_complete(OptionalSession(who): OptionalSession) -> Response {
    pages::render(&SetupDonePage {
        signed_in: who.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, name: &str, pw: &str, confirm: &str) -> SetupForm {
        SetupForm {
            email: email.into(),
            display_name: name.into(),
            password: pw.into(),
            password_confirm: confirm.into(),
        }
    }

    fn fields(r: Result<ValidSetup, Vec<FieldError>>) -> Vec<&'static str> {
        r.err().unwrap_or_default().iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_form_is_valid() {
        let v = validate(&form(
            " Admin@Example.COM ",
            " Ada ",
            "long enough password",
            "long enough password",
        ))
        .unwrap();
        assert_eq!(v.email.as_str(), "admin@example.com");
        assert_eq!(v.display_name, "Ada");
    }

    #[test]
    fn each_field_is_checked() {
        assert_eq!(
            fields(validate(&form("", "", "short", "short"))),
            ["email", "display_name", "password"]
        );
        assert_eq!(
            fields(validate(&form(
                "a@b.co",
                "A",
                "long enough password",
                "other password!!"
            ))),
            ["password_confirm"]
        );
        assert_eq!(
            fields(validate(&form(
                "a@b.co",
                &"x".repeat(101),
                "long enough password",
                "long enough password"
            ))),
            ["display_name"]
        );
    }

    #[test]
    fn only_well_formed_tokens_are_looked_up() {
        assert!(well_formed(&"a1".repeat(32)));
        assert!(!well_formed("../etc"));
        assert!(!well_formed(&"g".repeat(64)));
    }
}
