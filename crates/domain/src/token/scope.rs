//! Which scopes a token gets: the requested scopes intersected with what the integration's
//! subscriptions grant (RFC 6749 §3.3). OAuth integrations may also get the identity scopes.
//!
//! Scope lists arrive space-separated (RFC 6749) or comma-separated (Adobe's surface); both parse.

use crate::{
    integration::IntegrationType,
    service::{ServiceCode, Subscription},
};

use super::error::TokenError;

/// Identity scopes every OAuth integration may request, whatever it subscribes to.
pub const IDENTITY_SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];

/// At most this many scopes in one request.
pub const MAX_REQUESTED_SCOPES: usize = 100;

/// Splits a scope parameter on spaces and commas, dropping empties and duplicates, keeping order.
pub fn parse_scope_list(s: &str) -> Result<Vec<String>, TokenError> {
    let mut out: Vec<String> = Vec::new();
    for item in s.split([' ', ',']).filter(|i| !i.is_empty()) {
        if crate::service::parse_scope(item).is_err() {
            return Err(TokenError::InvalidParameter {
                name: "scope",
                detail: format!("{item:?} is not a valid scope"),
            });
        }
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    if out.len() > MAX_REQUESTED_SCOPES {
        return Err(TokenError::InvalidParameter {
            name: "scope",
            detail: format!("at most {MAX_REQUESTED_SCOPES} scopes may be requested"),
        });
    }
    Ok(out)
}

/// Space-separated, as in RFC 6749 responses and RFC 9068 tokens.
pub fn join_space(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// Comma-separated, as Adobe's clients expect in tokens and requests.
pub fn join_comma(scopes: &[String]) -> String {
    scopes.join(",")
}

/// The outcome of scope selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedScopes {
    pub scopes: Vec<String>,
    /// The services whose subscriptions contributed a granted scope (the token's audiences).
    pub services: Vec<ServiceCode>,
}

/// Granted = requested ∩ (the scopes of the integration's subscriptions, plus [`IDENTITY_SCOPES`]
/// for OAuth integrations). An empty request means "everything subscribed" (RFC 6749 §3.3 lets
/// the server pick a default); a non-empty request of which nothing is granted is `invalid_scope`.
pub fn grant(
    integration_type: IntegrationType,
    requested: &[String],
    subscriptions: &[Subscription],
) -> Result<GrantedScopes, TokenError> {
    let subscribed = |scope: &str| subscriptions.iter().any(|s| s.scopes.iter().any(|x| x == scope));
    let identity = |scope: &str| integration_type == IntegrationType::Oauth && IDENTITY_SCOPES.contains(&scope);
    let scopes: Vec<String> = if requested.is_empty() {
        let mut all: Vec<String> = Vec::new();
        for s in subscriptions.iter().flat_map(|s| s.scopes.iter()) {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        all
    } else {
        let granted: Vec<String> = requested
            .iter()
            .filter(|r| subscribed(r) || identity(r))
            .cloned()
            .collect();
        if granted.is_empty() {
            return Err(TokenError::ScopeNotGranted(requested.to_vec()));
        }
        granted
    };
    let services = subscriptions
        .iter()
        .filter(|s| s.scopes.iter().any(|x| scopes.contains(x)))
        .map(|s| s.service_code.clone())
        .collect();
    Ok(GrantedScopes { scopes, services })
}

/// For the Adobe JWT exchange: every metascope in the assertion must be a scope of one of the
/// integration's subscriptions, and there must be at least one (compat §2).
pub fn check_metascopes(metascopes: &[String], subscriptions: &[Subscription]) -> Result<(), TokenError> {
    if metascopes.is_empty() {
        return Err(TokenError::NoMetascope);
    }
    let missing: Vec<String> = metascopes
        .iter()
        .filter(|m| !subscriptions.iter().any(|s| s.scopes.contains(m)))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TokenError::MetascopeNotSubscribed(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(code: &str, scopes: &[&str]) -> Subscription {
        Subscription {
            integration_id: "i".into(),
            service_code: ServiceCode::parse(code).unwrap(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            limits: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scope_lists_split_on_spaces_and_commas() {
        assert_eq!(parse_scope_list("a b,c  a,,").unwrap(), v(&["a", "b", "c"]));
        assert_eq!(parse_scope_list("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_scope_list("a\"b").unwrap_err().reason(), "invalid_parameter");
    }

    #[test]
    fn granted_is_the_intersection_with_subscriptions() {
        let subs = [sub("pdf", &["pdf_read", "pdf_write"]), sub("stock", &["stock_search"])];
        let g = grant(IntegrationType::ServiceAccount, &v(&["pdf_read", "admin"]), &subs).unwrap();
        assert_eq!(g.scopes, v(&["pdf_read"]));
        assert_eq!(g.services, vec![ServiceCode::parse("pdf").unwrap()]);
    }

    #[test]
    fn nothing_granted_is_invalid_scope() {
        let subs = [sub("pdf", &["pdf_read"])];
        let e = grant(IntegrationType::ServiceAccount, &v(&["admin", "root"]), &subs).unwrap_err();
        assert_eq!(e.error().as_str(), "invalid_scope");
    }

    #[test]
    fn an_empty_request_gets_everything_subscribed() {
        let subs = [sub("pdf", &["pdf_read"]), sub("stock", &["stock_search", "pdf_read"])];
        let g = grant(IntegrationType::ServiceAccount, &[], &subs).unwrap();
        assert_eq!(g.scopes, v(&["pdf_read", "stock_search"]));
        assert_eq!(g.services.len(), 2);
    }

    #[test]
    fn identity_scopes_only_for_oauth() {
        let subs = [sub("pdf", &["pdf_read"])];
        let g = grant(
            IntegrationType::Oauth,
            &v(&["openid", "offline_access", "pdf_read"]),
            &subs,
        )
        .unwrap();
        assert_eq!(g.scopes, v(&["openid", "offline_access", "pdf_read"]));
        let g = grant(IntegrationType::ServiceAccount, &v(&["openid", "pdf_read"]), &subs).unwrap();
        assert_eq!(g.scopes, v(&["pdf_read"]));
        // No subscription at all: a service account cannot get identity scopes either.
        assert!(grant(IntegrationType::ServiceAccount, &v(&["openid"]), &[]).is_err());
    }

    #[test]
    fn metascopes_must_be_a_non_empty_subset() {
        let subs = [sub("pdf", &["ent_documentcloud_sdk"])];
        assert!(check_metascopes(&v(&["ent_documentcloud_sdk"]), &subs).is_ok());
        assert_eq!(
            check_metascopes(&v(&["ent_documentcloud_sdk", "ent_user_sdk"]), &subs),
            Err(TokenError::MetascopeNotSubscribed(v(&["ent_user_sdk"])))
        );
        assert_eq!(check_metascopes(&[], &subs), Err(TokenError::NoMetascope));
    }
}
