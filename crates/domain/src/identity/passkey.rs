//! Passkeys (WebAuthn Level 3 through `webauthn-rs`): the relying party Gatehouse is, the names
//! people give their passkeys, and the three ceremonies — registration, authentication as a second
//! factor, and passwordless (discoverable) authentication. User verification is always required.
//!
//! The ceremony state this module returns must be kept server-side and used once (the store's
//! `PasskeyStore` does that); HTTP and storage are not this module's business.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use url::Url;
pub use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};
use webauthn_rs::prelude::{DiscoverableKey, Uuid, Webauthn, WebauthnBuilder, WebauthnError};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::DomainError;

/// Seconds a ceremony (the challenge the browser signs) stays usable.
pub const CEREMONY_LIFETIME: i64 = 300;
/// Passkeys one account may register.
pub const MAX_PASSKEYS: usize = 20;
/// Characters in a passkey's name.
pub const MAX_NAME_CHARS: usize = 64;

/// What a stored ceremony is for; a state is only ever finished by the ceremony that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Adding a passkey to a signed-in account.
    Registration,
    /// The second step of sign-in, after the password.
    SecondFactor,
    /// Sign-in with a passkey alone (a discoverable credential).
    Passwordless,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SecondFactor => "second_factor",
            Self::Passwordless => "passwordless",
        }
    }
}

/// A passkey's name as its owner gave it: 1 to 64 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(DomainError::new(
                "passkey_name_missing",
                "Give the passkey a name, such as the device it is on.",
            ));
        }
        if t.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::new(
                "passkey_name_too_long",
                format!("The name can be at most {MAX_NAME_CHARS} characters long."),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(DomainError::new(
                "passkey_name_invalid",
                "The name cannot contain control characters.",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A credential ID as stored and compared: unpadded base64url of its bytes.
pub fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The credential ID of a passkey, as [`credential_id_text`].
pub fn passkey_id_text(p: &Passkey) -> String {
    credential_id_text(p.cred_id())
}

/// The user handle of an account (its UUID): what a discoverable credential gives back.
pub fn user_handle(account_id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(account_id).map_err(|_| DomainError::new("invalid_account_id", "account IDs are UUIDs"))
}

/// Turns a `webauthn-rs` refusal into a stable code and a message a person can act on.
fn refused(e: WebauthnError) -> DomainError {
    let (code, message) = match e {
        WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => (
            "passkey_wrong_site",
            "This passkey was made for another site, or the request did not come from this site.",
        ),
        WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => (
            "passkey_challenge_mismatch",
            "The passkey answered a different request. Try again.",
        ),
        WebauthnError::UserNotVerified | WebauthnError::UserNotPresent => (
            "passkey_user_not_verified",
            "Your device did not verify you (with a PIN, fingerprint or face). Try again and confirm on the device.",
        ),
        WebauthnError::CredentialPossibleCompromise => (
            "passkey_possibly_cloned",
            "This passkey's signature counter went backwards, which may mean it was copied. It was refused; \
             remove it and add a new one.",
        ),
        WebauthnError::CredentialNotFound => ("passkey_unknown", "This passkey is not registered with this account."),
        WebauthnError::CredentialExcludedFromRequest | WebauthnError::CredentialAlreadyExists => {
            ("passkey_already_registered", "This passkey is already registered.")
        }
        WebauthnError::InvalidUserUniqueId => ("passkey_unknown", "This passkey is not registered here."),
        _ => (
            "passkey_rejected",
            "The passkey's answer could not be verified. Try again.",
        ),
    };
    DomainError::new(code, message)
}

/// Gatehouse as a WebAuthn relying party: the RP ID is the host of the public URL and the only
/// accepted origin is the public URL itself.
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty").finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Fails when the public URL has no domain name: WebAuthn refuses IP addresses as RP IDs.
    pub fn for_public_url(public_url: &str, rp_name: &str) -> Result<Self, DomainError> {
        let unusable = |why: &str| {
            DomainError::new(
                "passkeys_unavailable",
                format!("Passkeys need the public URL to have a domain name ({why})."),
            )
        };
        let origin = Url::parse(public_url).map_err(|_| unusable("it is not a URL"))?;
        let rp_id = origin
            .domain()
            .ok_or_else(|| unusable("it has an IP address"))?
            .to_owned();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| b.rp_name(rp_name).build())
            .map_err(|_| unusable("webauthn-rs refused it"))?;
        Ok(Self { webauthn })
    }

    /// Starts adding a passkey to an account that already has `existing` (which the
    /// authenticator is told to refuse, so one device is not registered twice). The credential is
    /// asked to be discoverable, so it also serves passwordless sign-in.
    pub fn start_registration(
        &self,
        account_id: &str,
        email: &str,
        display_name: &str,
        existing: &[Passkey],
    ) -> Result<(CreationChallengeResponse, PasskeyRegistration), DomainError> {
        let exclude: Vec<_> = existing.iter().map(|p| p.cred_id().clone()).collect();
        let display = if display_name.trim().is_empty() {
            email
        } else {
            display_name
        };
        let (mut ccr, state) = self
            .webauthn
            .start_passkey_registration(
                user_handle(account_id)?,
                email,
                display,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(refused)?;
        if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Required);
            sel.require_resident_key = true;
        }
        Ok((ccr, state))
    }

    pub fn finish_registration(
        &self,
        response: &RegisterPublicKeyCredential,
        state: &PasskeyRegistration,
    ) -> Result<Passkey, DomainError> {
        self.webauthn
            .finish_passkey_registration(response, state)
            .map_err(refused)
    }

    /// Starts the second step of sign-in with the account's passkeys.
    pub fn start_authentication(
        &self,
        passkeys: &[Passkey],
    ) -> Result<(RequestChallengeResponse, PasskeyAuthentication), DomainError> {
        if passkeys.is_empty() {
            return Err(DomainError::new("no_passkey", "This account has no passkey."));
        }
        self.webauthn.start_passkey_authentication(passkeys).map_err(refused)
    }

    pub fn finish_authentication(
        &self,
        response: &PublicKeyCredential,
        state: &PasskeyAuthentication,
    ) -> Result<AuthenticationResult, DomainError> {
        self.webauthn
            .finish_passkey_authentication(response, state)
            .map_err(refused)
    }

    /// Starts a passwordless sign-in: any discoverable credential of this site may answer. The
    /// options ask for a modal prompt (the page's button), not conditional mediation.
    pub fn start_passwordless(&self) -> Result<(RequestChallengeResponse, DiscoverableAuthentication), DomainError> {
        let (mut rcr, state) = self.webauthn.start_discoverable_authentication().map_err(refused)?;
        rcr.mediation = None;
        Ok((rcr, state))
    }

    /// Who a passwordless answer claims to be: the user handle (an account ID) and the
    /// credential ID (as [`credential_id_text`]). Nothing is verified yet.
    pub fn identify(&self, response: &PublicKeyCredential) -> Result<(String, String), DomainError> {
        let (uuid, cred) = self
            .webauthn
            .identify_discoverable_authentication(response)
            .map_err(refused)?;
        Ok((uuid.to_string(), credential_id_text(cred)))
    }

    /// Verifies a passwordless answer against the passkey its credential ID names.
    pub fn finish_passwordless(
        &self,
        response: &PublicKeyCredential,
        state: DiscoverableAuthentication,
        passkey: &Passkey,
    ) -> Result<AuthenticationResult, DomainError> {
        self.webauthn
            .finish_discoverable_authentication(response, state, &[DiscoverableKey::from(passkey)])
            .map_err(refused)
    }
}

/// Records a successful use on the stored passkey (signature counter, backup state). Returns
/// whether anything changed; `webauthn-rs` already refused a counter that did not increase.
pub fn record_use(passkey: &mut Passkey, result: &AuthenticationResult) -> bool {
    passkey.update_credential(result).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(PasskeyName::parse("  Laptop ").unwrap().as_str(), "Laptop");
        assert_eq!(PasskeyName::parse("   ").unwrap_err().code, "passkey_name_missing");
        assert_eq!(
            PasskeyName::parse(&"x".repeat(65)).unwrap_err().code,
            "passkey_name_too_long"
        );
        assert!(PasskeyName::parse(&"é".repeat(64)).is_ok());
        assert_eq!(PasskeyName::parse("a\u{7}b").unwrap_err().code, "passkey_name_invalid");
    }

    #[test]
    fn the_relying_party_needs_a_domain_name() {
        assert!(RelyingParty::for_public_url("http://localhost:8080", "Gatehouse").is_ok());
        assert!(RelyingParty::for_public_url("https://id.example.com", "Gatehouse").is_ok());
        let e = RelyingParty::for_public_url("http://127.0.0.1:8080", "Gatehouse").unwrap_err();
        assert_eq!(e.code, "passkeys_unavailable");
        assert!(RelyingParty::for_public_url("not a url", "Gatehouse").is_err());
    }

    #[test]
    fn registration_asks_for_a_discoverable_verified_credential() {
        let rp = RelyingParty::for_public_url("http://localhost:8080", "Gatehouse").unwrap();
        let id = "8f14e45f-ceea-467f-a0e6-7d4fb6a1c0e2";
        let (ccr, _) = rp.start_registration(id, "a@example.com", "", &[]).unwrap();
        let json = serde_json::to_value(&ccr).unwrap();
        let sel = &json["publicKey"]["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["userVerification"], "required");
        assert_eq!(json["publicKey"]["rp"]["id"], "localhost");
        assert!(rp.start_registration("not-a-uuid", "a@example.com", "", &[]).is_err());
    }

    #[test]
    fn passwordless_options_are_modal_and_second_factor_needs_a_passkey() {
        let rp = RelyingParty::for_public_url("http://localhost:8080", "Gatehouse").unwrap();
        let (rcr, _) = rp.start_passwordless().unwrap();
        let json = serde_json::to_value(&rcr).unwrap();
        assert!(json.get("mediation").is_none_or(serde_json::Value::is_null));
        assert_eq!(json["publicKey"]["userVerification"], "required");
        assert_eq!(rp.start_authentication(&[]).unwrap_err().code, "no_passkey");
    }
}
