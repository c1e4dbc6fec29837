//! Email domains an organization claims. An organization creates enterprise accounts only in
//! domains it has shown it controls — by publishing a TXT record Gatehouse gave it, or by an
//! operator's approval — so nobody can create (and then manage) an account for an address at
//! someone else's domain.

use rand::RngCore;

use crate::{DomainError, Timestamp, account::Email};

/// The label under which an organization publishes its TXT record: `_gatehouse.<domain>`.
pub const TXT_LABEL: &str = "_gatehouse";
/// The prefix of the TXT record's value: `gatehouse-verification=<token>`.
pub const TXT_PREFIX: &str = "gatehouse-verification=";
/// At most this many domains per organization.
pub const MAX_DOMAINS_PER_ORG: usize = 50;

/// A lower-case DNS name of at least two labels (`example.com`), without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Parses an ASCII domain name (internationalized names in their `xn--` form).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let text = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let bad = |why: &str| DomainError::new("invalid_domain", format!("{s:?} is not a domain name: {why}"));
        if text.is_empty() || text.len() > 253 {
            return Err(bad("it must be 1–253 characters"));
        }
        let labels: Vec<&str> = text.split('.').collect();
        if labels.len() < 2 {
            return Err(bad("it needs at least two labels, such as example.com"));
        }
        for label in &labels {
            let ok = (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(bad(
                    "each label must be 1–63 letters, digits or '-', not starting or ending with '-'",
                ));
            }
        }
        if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad("an IP address is not a domain"));
        }
        Ok(Self(text))
    }

    /// The domain of an email address.
    pub fn of_email(email: &Email) -> Result<Self, DomainError> {
        let (_, domain) = email.as_str().rsplit_once('@').unwrap_or(("", ""));
        Self::parse(domain)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name that carries the organization's TXT record.
    pub fn txt_name(&self) -> String {
        format!("{TXT_LABEL}.{}", self.0)
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a claim was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedBy {
    /// The TXT record was found.
    Dns,
    /// An operator approved the claim.
    Operator,
}

impl VerifiedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "dns" => Ok(Self::Dns),
            "operator" => Ok(Self::Operator),
            _ => Err(DomainError::new(
                "invalid_verification",
                format!("unknown verification {s:?}"),
            )),
        }
    }
}

/// An organization's claim on an email domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub org_id: String,
    pub domain: DomainName,
    /// The value the TXT record must carry after [`TXT_PREFIX`].
    pub token: String,
    pub created_at: Timestamp,
    /// When and how it was verified; `None` while pending.
    pub verified: Option<(Timestamp, VerifiedBy)>,
}

impl DomainClaim {
    /// A new, unverified claim with a fresh 128-bit token.
    pub fn new(org_id: &str, domain: DomainName, rng: &mut impl RngCore, now: Timestamp) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self {
            org_id: org_id.to_owned(),
            domain,
            token: hex::encode(bytes),
            created_at: now,
            verified: None,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.verified.is_some()
    }

    /// The TXT record's value that proves the claim.
    pub fn txt_value(&self) -> String {
        format!("{TXT_PREFIX}{}", self.token)
    }

    /// Does one of the TXT records found at [`DomainName::txt_name`] carry this claim's value?
    /// Records split into several strings arrive joined; surrounding spaces are ignored.
    pub fn txt_matches<S: AsRef<str>>(&self, records: &[S]) -> bool {
        let expected = self.txt_value();
        records.iter().any(|r| r.as_ref().trim() == expected)
    }
}

/// May an organization with these claims create an account for `email`? Only in a domain it has
/// verified. The refusal names the domain only, never whether the address has an account.
pub fn check_account_domain(email: &Email, claims: &[DomainClaim]) -> Result<(), DomainError> {
    let domain = DomainName::of_email(email)?;
    if claims.iter().any(|c| c.is_verified() && c.domain == domain) {
        return Ok(());
    }
    Err(DomainError::new(
        "domain_not_verified",
        format!(
            "This organization has not verified the domain {domain}. Claim it and verify it (a DNS TXT record, or an \
             operator's approval) before creating accounts there, or invite the person instead."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn claim(domain: &str, verified: bool) -> DomainClaim {
        let mut c = DomainClaim::new(
            "org",
            DomainName::parse(domain).unwrap(),
            &mut rand::rngs::StdRng::seed_from_u64(1),
            10,
        );
        if verified {
            c.verified = Some((11, VerifiedBy::Dns));
        }
        c
    }

    #[test]
    fn domain_names_are_normalised_and_checked() {
        assert_eq!(
            DomainName::parse(" BigCorp.Example. ").unwrap().as_str(),
            "bigcorp.example"
        );
        assert_eq!(
            DomainName::parse("xn--bcher-kva.example").unwrap().txt_name(),
            "_gatehouse.xn--bcher-kva.example"
        );
        for bad in [
            "",
            "localhost",
            "-a.example",
            "a-.example",
            "a..example",
            "a_b.example",
            "10.0.0.1",
            "bücher.example",
            &format!("{}.example", "a".repeat(64)),
        ] {
            assert_eq!(DomainName::parse(bad).unwrap_err().code, "invalid_domain", "{bad}");
        }
    }

    #[test]
    fn only_the_exact_txt_value_proves_a_claim() {
        let c = claim("bigcorp.example", false);
        assert_eq!(c.token.len(), 32);
        assert!(c.txt_matches(&["v=spf1 -all".to_owned(), format!(" {} ", c.txt_value())]));
        assert!(!c.txt_matches(std::slice::from_ref(&c.token)));
        assert!(!c.txt_matches(&[format!("{}x", c.txt_value())]));
        assert!(!c.txt_matches::<String>(&[]));
    }

    #[test]
    fn accounts_are_created_only_in_verified_domains() {
        let email = |s: &str| Email::parse(s).unwrap();
        let claims = [claim("bigcorp.example", true), claim("pending.example", false)];
        assert!(check_account_domain(&email("ceo@BigCorp.example"), &claims).is_ok());
        for refused in ["ceo@pending.example", "ceo@sub.bigcorp.example", "ceo@other.example"] {
            let e = check_account_domain(&email(refused), &claims).unwrap_err();
            assert_eq!(e.code, "domain_not_verified", "{refused}");
            assert!(
                !e.message.contains("ceo"),
                "the refusal names no address: {}",
                e.message
            );
        }
    }
}
