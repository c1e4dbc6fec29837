//! Request parameters of the token-service endpoints, read off the request: the query string
//! merged with a body that is `application/x-www-form-urlencoded` or `multipart/form-data`
//! (Adobe's Node clients send multipart, with and without a space before `boundary=`), plus the
//! `Authorization` header. The rules on them are the core's (`gatehouse_core::tokens::params`).

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::header,
};

use crate::OAuthError;

/// Most parameters a request may carry, and the longest value.
const MAX_PARAMS: usize = 64;
const MAX_VALUE: usize = 64 * 1024;

/// The core's [`gatehouse_core::tokens::Params`] as an extractor.
#[derive(Debug, Default, Clone)]
pub struct Params(pub gatehouse_core::tokens::Params);

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(gatehouse_core::tokens::Params::from_pairs(pairs))
    }
}

impl std::ops::Deref for Params {
    type Target = gatehouse_core::tokens::Params;

    fn deref(&self) -> &Self::Target {
        &self.0
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
        let mut params = gatehouse_core::tokens::Params::default();
        if let Some(value) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            // RFC 6749 §5.2: credentials in the Authorization header that cannot be read failed
            // client authentication (401 with a challenge), not the request's syntax.
            params
                .read_authorization(value)
                .map_err(|e| OAuthError::invalid_client(e.to_string()))?;
        }
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
        params.set_pairs(pairs);
        Ok(Self(params))
    }
}
