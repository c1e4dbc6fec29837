//! The parameters of a token-service request: the query string merged with the body, and the
//! credentials of the `Authorization` header (the web crate reads them off the request).
//!
//! RFC 6749 §3.2 forbids repeating a parameter; a parameter given in both the query and the body
//! with the same value is accepted (some clients do that), with different values it is refused.

use gatehouse_domain::token::{
    TokenError,
    client_auth::{PresentedClient, parse_basic},
};

/// The merged parameters and the credentials of the `Authorization` header.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// `Authorization: Basic` decoded, if sent.
    pub basic: Option<(String, String)>,
    /// `Authorization: Bearer` token, if sent.
    pub bearer: Option<String>,
}

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            pairs,
            ..Self::default()
        }
    }

    /// Replaces the parameters (the query string and the body, as read).
    pub fn set_pairs(&mut self, pairs: Vec<(String, String)>) {
        self.pairs = pairs;
    }

    /// Every parameter, in the order received.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The single value of `name`; `RepeatedParameter` when it has several different values.
    pub fn get(&self, name: &'static str) -> Result<Option<&str>, TokenError> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.pairs {
            if k == name {
                match found {
                    Some(prev) if prev != v => return Err(TokenError::RepeatedParameter(name)),
                    _ => found = Some(v),
                }
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    pub fn require(&self, name: &'static str) -> Result<&str, TokenError> {
        self.get(name)?.ok_or(TokenError::MissingParameter(name))
    }

    /// Every value of a repeatable parameter (`resource`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The client credentials in this request (RFC 6749 §2.3).
    pub fn presented_client(&self) -> Result<PresentedClient<'_>, TokenError> {
        Ok(PresentedClient {
            basic: self.basic.as_ref().map(|(i, s)| (i.as_str(), s.as_str())),
            client_id: self.get("client_id")?,
            client_secret: self.get("client_secret")?,
            client_assertion_type: self.get("client_assertion_type")?,
            client_assertion: self.get("client_assertion")?,
        })
    }

    /// Takes the credentials of an `Authorization` header's value (Basic or Bearer).
    pub fn read_authorization(&mut self, value: &str) -> Result<(), TokenError> {
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            self.basic = Some(parse_basic(rest)?);
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.bearer = Some(rest.trim().to_owned()).filter(|t| !t.is_empty());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_parameter_may_repeat_only_with_the_same_value() {
        assert_eq!(p(&[("a", "1"), ("a", "1")]).get("a"), Ok(Some("1")));
        assert_eq!(
            p(&[("a", "1"), ("a", "2")]).get("a"),
            Err(TokenError::RepeatedParameter("a"))
        );
        assert_eq!(p(&[("a", "")]).get("a"), Ok(None));
        assert_eq!(p(&[]).require("a"), Err(TokenError::MissingParameter("a")));
        assert_eq!(
            p(&[("resource", "x"), ("resource", "y")]).all("resource"),
            vec!["x", "y"]
        );
    }
}
