//! The state between the password step and the second-factor step of sign-in: which account
//! passed the password check, until when, and where to go afterwards. It lives in a short-lived
//! cookie (`gatehouse_signin`, Path=/signin, HttpOnly, SameSite=Lax) sealed with the master key
//! (AES-256-GCM), so it cannot be read or forged, and nothing is stored before sign-in completes.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_domain::{Timestamp, crypto::MasterKey};
use serde::{Deserialize, Serialize};

pub const COOKIE: &str = "gatehouse_signin";
/// Seconds to enter the second factor.
pub const LIFETIME: i64 = 600;
const AAD: &[u8] = b"gatehouse:signin_pending";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub account_id: String,
    pub return_to: String,
    pub expires_at: Timestamp,
    /// The session this sign-in replaces, if someone was signed in.
    pub replaces: Option<String>,
}

impl PendingSignIn {
    pub fn seal(&self, key: &MasterKey) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(key.encrypt(&mut rand::thread_rng(), &json, AAD))
    }

    pub fn open(key: &MasterKey, sealed: &str, now: Timestamp) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let json = key.decrypt(&bytes, AAD).ok()?;
        let p: Self = serde_json::from_slice(&json).ok()?;
        (now < p.expires_at).then_some(p)
    }

    /// The pending sign-in the request carries, if it is genuine and not expired.
    pub fn from_headers(key: &MasterKey, headers: &HeaderMap, now: Timestamp) -> Option<Self> {
        let jar = CookieJar::from_headers(headers);
        Self::open(key, jar.get(COOKIE)?.value(), now)
    }
}

/// Sets or clears the pending cookie.
pub struct PendingCookie(Option<HeaderValue>);

impl PendingCookie {
    pub fn set(value: String, secure: bool) -> Self {
        Self::build(value, secure, LIFETIME)
    }

    pub fn clear(secure: bool) -> Self {
        Self::build(String::new(), secure, 0)
    }

    fn build(value: String, secure: bool, max_age: i64) -> Self {
        let c = Cookie::build((COOKIE, value))
            .path("/signin")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(time::Duration::seconds(max_age))
            .build();
        Self(HeaderValue::from_str(&c.encoded().to_string()).ok())
    }
}

impl IntoResponseParts for PendingCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(v) = self.0 {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn sealed_state_opens_only_with_the_key_and_before_expiry() {
        let (key, _) = MasterKey::generate(&mut StdRng::seed_from_u64(1));
        let (other, _) = MasterKey::generate(&mut StdRng::seed_from_u64(2));
        let p = PendingSignIn {
            account_id: "acc".into(),
            return_to: "/console".into(),
            expires_at: 100,
            replaces: None,
        };
        let sealed = p.seal(&key);
        assert_eq!(PendingSignIn::open(&key, &sealed, 99), Some(p));
        assert_eq!(PendingSignIn::open(&key, &sealed, 100), None);
        assert_eq!(PendingSignIn::open(&other, &sealed, 0), None);
        assert_eq!(PendingSignIn::open(&key, "garbage", 0), None);
    }
}
