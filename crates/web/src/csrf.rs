//! Cross-site request forgery protection for forms and browser-called APIs: the double-submit
//! cookie pattern. A random token lives in the `__Host-gatehouse_csrf` cookie when the public URL is
//! https (`Secure`, `Path=/`, no `Domain`: a neighbouring subdomain cannot plant one — and then a
//! cookie named `gatehouse_csrf` counts for nothing), `gatehouse_csrf` on plain-http development
//! installs; always HttpOnly and SameSite=Strict. Each form carries the same value in a hidden
//! `csrf_token` field (or a script sends it in the `x-csrf-token` header), and a state-changing
//! request is accepted only when the two match, compared in constant time. Another site can make a
//! browser send the cookie but can neither read it nor guess it.
//!
//! Usage: a GET handler takes [`CsrfToken`], puts [`CsrfToken::value`] in the form and returns the
//! token among its response parts (it sets the cookie when it was new). The POST handler takes
//! [`CsrfForm<T>`] instead of `Form<T>`; it refuses a missing or wrong token with a 403 page.

use axum::{
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, header, request::Parts},
    response::{IntoResponseParts, ResponseParts},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::{
    AppState,
    error::{ApiError, PageError},
};

pub const COOKIE_NAME: &str = "gatehouse_csrf";
/// The cookie's name when the public URL is https: the `__Host-` prefix binds it to this host.
pub const SECURE_COOKIE_NAME: &str = "__Host-gatehouse_csrf";
pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER_NAME: &str = "x-csrf-token";

/// Forms are small; a larger body is refused before it is parsed.
const MAX_FORM_BYTES: usize = 64 * 1024;

const REFUSED: &str = "This form has expired or was not sent from this site. Go back, reload the page and try again.";

/// The CSRF token of this browser: the cookie's value, or a new one.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    value: String,
    fresh: bool,
    secure: bool,
}

impl CsrfToken {
    /// The value to put in the form's hidden `csrf_token` field.
    pub fn value(&self) -> &str {
        &self.value
    }

    fn new_value() -> String {
        gatehouse_domain::secret::random_token_hex(&mut rand::thread_rng())
    }

    fn from_headers(headers: &HeaderMap, secure: bool) -> Self {
        match cookie_value(headers, secure) {
            Some(value) => Self {
                value,
                fresh: false,
                secure,
            },
            None => Self {
                value: Self::new_value(),
                fresh: true,
                secure,
            },
        }
    }
}

/// The cookie's name: [`SECURE_COOKIE_NAME`] when cookies are secure (an https public URL).
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE_NAME } else { COOKIE_NAME }
}

/// The token in this browser's CSRF cookie, when it has a well-formed one under the name in use.
pub fn cookie_value(headers: &HeaderMap, secure: bool) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(cookie_name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Do the cookie and the submitted value match? Constant time in the token's contents.
pub fn tokens_match(cookie: Option<&str>, submitted: Option<&str>) -> bool {
    match (cookie, submitted) {
        (Some(c), Some(s)) if !c.is_empty() => c.as_bytes().ct_eq(s.as_bytes()).into(),
        _ => false,
    }
}

impl<S> FromRequestParts<S> for CsrfToken
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(Self::from_headers(&parts.headers, state.settings.secure_cookies))
    }
}

impl IntoResponseParts for CsrfToken {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if self.fresh {
            let cookie = Cookie::build((cookie_name(self.secure), self.value))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(self.secure)
                .build();
            if let Ok(v) = HeaderValue::from_str(&cookie.encoded().to_string()) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        Ok(res)
    }
}

/// A urlencoded form whose `csrf_token` field matched the cookie. `T` sees every other field
/// (it must not deny unknown fields, since `csrf_token` is among them).
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let secure = AppState::from_ref(state).settings.secure_cookies;
        let cookie = cookie_value(req.headers(), secure);
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::bad_request("Expected a form submission."));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::bad_request("The form could not be read."))?;
        if body.len() > MAX_FORM_BYTES {
            return Err(PageError::bad_request("The form is too large."));
        }
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| PageError::bad_request("The form could not be read."))?;
        let submitted = fields.iter().find(|(k, _)| k == FORM_FIELD).map(|(_, v)| v.as_str());
        if !tokens_match(cookie.as_deref(), submitted) {
            tracing::info!("form refused: CSRF token missing or wrong");
            return Err(PageError::forbidden(REFUSED));
        }
        let value = serde_urlencoded::from_bytes(&body)
            .map_err(|e| PageError::bad_request(format!("The form is incomplete: {e}.")))?;
        Ok(Self(value))
    }
}

/// Does a form already read (`fields`) repeat the cookie's token in `csrf_token`? For endpoints
/// that take both a request from another site and the answer to Gatehouse's own form (the
/// authorization endpoint: OpenID Connect Core §3.1.2.1 allows POST requests), which check the
/// token only for the answer.
pub fn form_matches(headers: &HeaderMap, secure: bool, fields: &[(String, String)]) -> bool {
    let submitted = fields.iter().find(|(k, _)| k == FORM_FIELD).map(|(_, v)| v.as_str());
    tokens_match(cookie_value(headers, secure).as_deref(), submitted)
}

/// For browser scripts calling the JSON API with the session cookie: the request must carry the
/// cookie's token in the `x-csrf-token` header. The cookie is HttpOnly, so the page hands the
/// token to its scripts (e.g. `<meta name="csrf-token" content="{{ csrf_token }}">` rendered from
/// [`CsrfToken::value`]). Refused with a 403 problem (`csrf_failed`).
#[derive(Debug, Clone, Copy)]
pub struct CsrfHeader;

impl<S> FromRequestParts<S> for CsrfHeader
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let secure = AppState::from_ref(state).settings.secure_cookies;
        let cookie = cookie_value(&parts.headers, secure);
        let submitted = parts.headers.get(HEADER_NAME).and_then(|v| v.to_str().ok());
        if tokens_match(cookie.as_deref(), submitted) {
            Ok(Self)
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf_failed",
                "The x-csrf-token header must repeat the CSRF cookie (gatehouse_csrf, or __Host-gatehouse_csrf \
                 over https).",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn tokens_must_be_present_and_equal() {
        let t = "a".repeat(64);
        assert!(tokens_match(Some(&t), Some(&t)));
        assert!(!tokens_match(Some(&t), Some(&"b".repeat(64))));
        assert!(!tokens_match(Some(&t), Some(&t[..63])));
        assert!(!tokens_match(Some(&t), None));
        assert!(!tokens_match(None, Some(&t)));
        assert!(!tokens_match(Some(""), Some("")));
        assert!(!tokens_match(None, None));
    }

    #[test]
    fn a_cookie_is_reused_and_a_missing_one_is_created() {
        let mut headers = HeaderMap::new();
        let fresh = CsrfToken::from_headers(&headers, false);
        assert!(fresh.fresh);
        assert_eq!(fresh.value().len(), 64);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE_NAME}={}", fresh.value())).unwrap(),
        );
        let again = CsrfToken::from_headers(&headers, false);
        assert!(!again.fresh);
        assert_eq!(again.value(), fresh.value());
    }

    #[test]
    fn over_https_the_cookie_is_host_bound_and_a_plain_one_counts_for_nothing() {
        let token = CsrfToken::from_headers(&HeaderMap::new(), true);
        let res = (token.clone(), "").into_response();
        let set = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set.starts_with(&format!("__Host-gatehouse_csrf={}", token.value())),
            "{set}"
        );
        for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(!set.contains("Domain"), "{set}");
        // A cookie planted under the plain name (by a neighbouring subdomain) is not the token.
        let mut headers = HeaderMap::new();
        let planted = "c".repeat(64);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE_NAME}={planted}")).unwrap(),
        );
        assert_eq!(cookie_value(&headers, true), None);
        assert!(!form_matches(&headers, true, &[(FORM_FIELD.into(), planted.clone())]));
        assert!(
            form_matches(&headers, false, &[(FORM_FIELD.into(), planted)]),
            "plain http uses the plain name"
        );
        let plain = (CsrfToken::from_headers(&HeaderMap::new(), false), "").into_response();
        let set = plain
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(set.starts_with("gatehouse_csrf=") && !set.contains("Secure"), "{set}");
    }

    #[test]
    fn malformed_cookies_are_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("gatehouse_csrf=short"));
        assert!(CsrfToken::from_headers(&headers, true).fresh);
    }
}
