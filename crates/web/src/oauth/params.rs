//! Request parameters of the token-service endpoints: the query string merged with a body that is
//! `application/x-www-form-urlencoded` or `multipart/form-data` (Adobe's Node clients send
//! multipart, with and without a space before `boundary=`), plus the `Authorization` header.
//!
//! RFC 6749 §3.2 forbids repeating a parameter; a parameter given in both the query and the body
//! with the same value is accepted (some clients do that), with different values it is refused.

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::{HeaderMap, header},
};
use gatehouse_domain::token::{
    TokenError,
    client_auth::{PresentedClient, parse_basic},
};

use crate::OAuthError;

/// Most parameters a request may carry, and the longest value.
const MAX_PARAMS: usize = 64;
const MAX_VALUE: usize = 64 * 1024;

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

    fn read_authorization(&mut self, headers: &HeaderMap) -> Result<(), TokenError> {
        let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Ok(());
        };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            self.basic = Some(parse_basic(rest)?);
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.bearer = Some(rest.trim().to_owned()).filter(|t| !t.is_empty());
        }
        Ok(())
    }
}

fn invalid(detail: impl Into<String>) -> OAuthError {
    OAuthError::invalid_request(detail)
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut pairs: Vec<(String, String)> = match req.uri().query() {
            Some(q) => serde_urlencoded::from_str(q).map_err(|_| invalid("the query string is malformed"))?,
            None => Vec::new(),
        };
        let mut params = Params::default();
        params
            .read_authorization(req.headers())
            .map_err(|e| invalid(e.to_string()))?;
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, state)
                .await
                .map_err(|e| invalid(format!("the multipart body is malformed: {}", e.body_text())))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| invalid(format!("the multipart body is malformed: {}", e.body_text())))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|e| invalid(format!("a multipart field is malformed: {}", e.body_text())))?;
                pairs.push((name, value));
                if pairs.len() > MAX_PARAMS {
                    break;
                }
            }
        } else {
            let body = axum::body::to_bytes(req.into_body(), 1024 * 1024)
                .await
                .map_err(|_| invalid("the body is too large or was cut off"))?;
            if !body.is_empty() {
                if !content_type.starts_with("application/x-www-form-urlencoded") && !content_type.is_empty() {
                    return Err(invalid(
                        "the body must be application/x-www-form-urlencoded or multipart/form-data",
                    ));
                }
                let body_pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&body).map_err(|_| invalid("the form body is malformed"))?;
                pairs.extend(body_pairs);
            }
        }
        if pairs.len() > MAX_PARAMS || pairs.iter().any(|(_, v)| v.len() > MAX_VALUE) {
            return Err(invalid("too many or too long parameters"));
        }
        params.pairs = pairs;
        Ok(params)
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
