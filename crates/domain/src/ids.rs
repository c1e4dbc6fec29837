//! Identifiers: organization IDs (`<24 hex>@<suffix>`), client IDs (32 hex), technical accounts,
//! and opaque row IDs. Generators take the random source as a parameter.

use rand::RngCore;

use crate::DomainError;

fn random_hex(rng: &mut impl RngCore, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// An opaque row identifier (UUID v4 text) for accounts, integrations, secrets, certificates.
pub fn new_row_id(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Organization ID: 24 lowercase hex digits, `@`, and a suffix such as `GatehouseOrg` (Adobe: `AdobeOrg`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

impl OrgId {
    pub fn generate(rng: &mut impl RngCore, suffix: &str) -> Self {
        Self(format!("{}@{}", random_hex(rng, 12), suffix.trim_start_matches('@')))
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::new(
                "invalid_org_id",
                format!("organization ID {s:?} must look like <24 hex digits>@<suffix>"),
            )
        };
        let (hex_part, suffix) = s.split_once('@').ok_or_else(bad)?;
        let hex_ok = hex_part.len() == 24 && hex_part.bytes().all(|b| b.is_ascii_hexdigit());
        let suffix_ok = !suffix.is_empty()
            && suffix.len() <= 64
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if hex_ok && suffix_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<OrgId> for String {
    fn from(v: OrgId) -> String {
        v.0
    }
}

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Client ID, also called the API key: 32 hex digits when generated. Given IDs (from provisioning)
/// may be any 8–128 characters of `[A-Za-z0-9_.-]`, so existing deployments can keep theirs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        Self(random_hex(rng, 16))
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = (8..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "invalid_client_id",
                format!("client ID {s:?} must be 8–128 characters of letters, digits, '_', '-' or '.'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<ClientId> for String {
    fn from(v: ClientId) -> String {
        v.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A service account's technical account: ID `<24 hex>@techacct.<domain>` and email `<uuid>@techacct.<domain>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechnicalAccount {
    pub id: String,
    pub email: String,
}

impl TechnicalAccount {
    pub fn generate(rng: &mut impl RngCore, domain: &str) -> Self {
        let id = format!("{}@techacct.{domain}", random_hex(rng, 12));
        let email = format!("{}@techacct.{domain}", new_row_id(rng));
        Self { id, email }
    }

    /// Validates a given technical account ID (from provisioning): `<local>@techacct.<domain>`.
    pub fn parse_id(s: &str) -> Result<String, DomainError> {
        let ok = s.split_once("@techacct.").is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && s.len() <= 200
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b'-' | b'_'))
        });
        if ok {
            Ok(s.to_owned())
        } else {
            Err(DomainError::new(
                "invalid_technical_account_id",
                format!("technical account ID {s:?} must look like <id>@techacct.<domain>"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn org_ids_are_generated_in_adobe_shape_and_parse_back() {
        let mut rng = StdRng::seed_from_u64(7);
        let id = OrgId::generate(&mut rng, "GatehouseOrg");
        let (hex_part, suffix) = id.as_str().split_once('@').unwrap();
        assert_eq!(hex_part.len(), 24);
        assert_eq!(suffix, "GatehouseOrg");
        assert_eq!(OrgId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn org_ids_with_wrong_shape_are_refused() {
        for bad in [
            "",
            "abc@GatehouseOrg",
            "0123456789abcdef0123456g@X",
            "0123456789abcdef01234567@",
            "0123456789abcdef01234567",
        ] {
            assert_eq!(OrgId::parse(bad).unwrap_err().code, "invalid_org_id", "{bad}");
        }
    }

    #[test]
    fn generated_client_ids_are_32_hex() {
        let id = ClientId::generate(&mut StdRng::seed_from_u64(1));
        assert_eq!(id.as_str().len(), 32);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(ClientId::parse("has space in it").is_err());
        assert!(ClientId::parse("short").is_err());
    }

    #[test]
    fn technical_accounts_have_the_techacct_shape() {
        let t = TechnicalAccount::generate(&mut StdRng::seed_from_u64(2), "gatehouse");
        assert!(t.id.ends_with("@techacct.gatehouse"));
        assert_eq!(t.id.split('@').next().unwrap().len(), 24);
        assert!(t.email.ends_with("@techacct.gatehouse"));
        assert!(TechnicalAccount::parse_id(&t.id).is_ok());
        assert!(TechnicalAccount::parse_id("someone@example.com").is_err());
    }
}
