//! Browser sessions. The cookie holds 256 random bits; the server stores only their SHA-256
//! digest, so a leaked database cannot be replayed as cookies. A session ends at whichever comes
//! first: the idle timeout after the last request, or the absolute timeout after sign-in. Every
//! sign-in creates a new session (a new cookie value), so a value planted before sign-in is
//! worthless afterwards (no fixation).
//!
//! `auth_time` is when the person last proved who they are; the token service's `max_age` and
//! `prompt=login` compare against it ([`Session::auth_age_exceeds`]).

use rand::RngCore;

use crate::{DomainError, Timestamp, secret};

/// How a person proved who they are, in the order they did. Stored by [`AuthMethod::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    Password,
    Totp,
    RecoveryCode,
    Passkey,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Totp => "otp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "pwd" => Ok(Self::Password),
            "otp" => Ok(Self::Totp),
            "recovery_code" => Ok(Self::RecoveryCode),
            "passkey" => Ok(Self::Passkey),
            _ => Err(DomainError::new(
                "invalid_auth_method",
                format!("unknown auth method {s:?}"),
            )),
        }
    }
}

/// The `amr` claim values (RFC 8176) for a list of methods: each method's value, plus `mfa` when
/// more than one kind of factor was used.
pub fn amr(methods: &[AuthMethod]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for m in methods {
        let v = match m {
            AuthMethod::Password => "pwd",
            AuthMethod::Totp => "otp",
            AuthMethod::RecoveryCode => "otp",
            AuthMethod::Passkey => "hwk",
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > 1 {
        out.push("mfa");
    }
    out
}

/// Idle and absolute timeouts, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout: i64,
    pub absolute_timeout: i64,
}

impl Default for SessionPolicy {
    /// Twelve hours idle, seven days at most.
    fn default() -> Self {
        Self {
            idle_timeout: 12 * 3600,
            absolute_timeout: 7 * 24 * 3600,
        }
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie value, hex.
    pub id_digest: String,
    pub account_id: String,
    pub auth_methods: Vec<AuthMethod>,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The absolute end: `created_at + absolute_timeout`.
    pub expires_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Seconds between two recordings of `last_seen_at`, so a busy browser does not write on every
/// request.
pub const TOUCH_INTERVAL: i64 = 60;

/// A new session's cookie value (64 hex digits, 256 bits) and the digest to store.
pub fn new_session_secret(rng: &mut impl RngCore) -> (String, String) {
    let value = secret::random_token_hex(rng);
    let digest = secret::digest(&value);
    (value, digest)
}

/// Could this be a session cookie value? (Anything else is not looked up.)
pub fn well_formed_secret(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Session {
    /// A session starting now, for an account that just signed in with `methods`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        id_digest: String,
        account_id: String,
        methods: Vec<AuthMethod>,
        policy: &SessionPolicy,
        now: Timestamp,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Self {
        Self {
            id_digest,
            account_id,
            auth_methods: methods,
            auth_time: now,
            created_at: now,
            last_seen_at: now,
            expires_at: now + policy.absolute_timeout,
            ip,
            user_agent,
        }
    }

    /// Is the session still usable at `now`?
    pub fn is_active(&self, policy: &SessionPolicy, now: Timestamp) -> bool {
        now < self.expires_at && now < self.last_seen_at + policy.idle_timeout
    }

    /// When it ends if no further request comes.
    pub fn ends_at(&self, policy: &SessionPolicy) -> Timestamp {
        self.expires_at.min(self.last_seen_at + policy.idle_timeout)
    }

    /// Should `last_seen_at` be recorded again?
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now - self.last_seen_at >= TOUCH_INTERVAL
    }

    /// Was the sign-in longer than `max_age` seconds ago (OIDC `max_age`)? A `max_age` of 0
    /// always asks for a fresh sign-in unless it happened in this very second.
    pub fn auth_age_exceeds(&self, max_age: i64, now: Timestamp) -> bool {
        now - self.auth_time > max_age.max(0)
    }

    /// Did the person sign in at or after `instant` (e.g. when a `prompt=login` request began)?
    pub fn authenticated_since(&self, instant: Timestamp) -> bool {
        self.auth_time >= instant
    }

    /// Did the sign-in use a second factor?
    pub fn used_second_factor(&self) -> bool {
        self.auth_methods
            .iter()
            .any(|m| matches!(m, AuthMethod::Totp | AuthMethod::RecoveryCode | AuthMethod::Passkey))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn session(now: Timestamp) -> Session {
        let (_, digest) = new_session_secret(&mut StdRng::seed_from_u64(1));
        Session::start(
            digest,
            "acc".into(),
            vec![AuthMethod::Password],
            &SessionPolicy::default(),
            now,
            None,
            None,
        )
    }

    #[test]
    fn secrets_are_256_bit_and_stored_by_digest() {
        let (value, digest) = new_session_secret(&mut StdRng::seed_from_u64(2));
        assert!(well_formed_secret(&value));
        assert_eq!(digest, secret::digest(&value));
        assert_ne!(new_session_secret(&mut StdRng::seed_from_u64(3)).0, value);
        assert!(!well_formed_secret("abc"));
    }

    #[test]
    fn idle_and_absolute_timeouts_end_a_session() {
        let p = SessionPolicy {
            idle_timeout: 100,
            absolute_timeout: 1000,
        };
        let mut s = session(0);
        s.expires_at = 1000;
        assert!(s.is_active(&p, 99));
        assert!(!s.is_active(&p, 100), "idle");
        s.last_seen_at = 950;
        assert!(s.is_active(&p, 999));
        assert!(!s.is_active(&p, 1000), "absolute, although recently seen");
        assert_eq!(s.ends_at(&p), 1000);
    }

    #[test]
    fn touches_are_rate_limited() {
        let s = session(0);
        assert!(!s.needs_touch(59));
        assert!(s.needs_touch(60));
    }

    #[test]
    fn max_age_and_prompt_login() {
        let s = session(1000);
        assert!(!s.auth_age_exceeds(60, 1060));
        assert!(s.auth_age_exceeds(60, 1061));
        assert!(!s.auth_age_exceeds(0, 1000));
        assert!(s.auth_age_exceeds(0, 1001));
        assert!(s.authenticated_since(1000));
        assert!(!s.authenticated_since(1001));
    }

    #[test]
    fn amr_values_follow_rfc_8176() {
        assert_eq!(amr(&[AuthMethod::Password]), ["pwd"]);
        assert_eq!(amr(&[AuthMethod::Password, AuthMethod::Totp]), ["pwd", "otp", "mfa"]);
        assert_eq!(amr(&[AuthMethod::Passkey]), ["hwk"]);
        assert_eq!(AuthMethod::parse("otp").unwrap(), AuthMethod::Totp);
        assert!(AuthMethod::parse("x").is_err());
    }
}
