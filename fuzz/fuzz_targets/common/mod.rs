//! What the token and authorization endpoints do with request parameters once they are read:
//! shared by the `form` and `multipart` targets.

use axum::{body::Body, extract::FromRequest, http::Request};
use gatehouse_domain::{
    ids::ClientId,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
    token::{
        assertion,
        authorize::{self, RawRequest},
        client_auth::{self, GrantType},
    },
};
use gatehouse_web::oauth::params::Params;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime =
        tokio::runtime::Builder::new_current_thread().build().expect("a single-threaded runtime");
}

/// Runs a future to completion on this thread's runtime (built once: the extractors are async).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}

/// Reads a request with the token service's extractor (`oauth::params::Params`); `None` when the
/// extractor refuses it.
pub fn read_params(request: Request<Body>) -> Option<Params> {
    block_on(Params::from_request(request, &())).ok()
}

fn public_client() -> Integration {
    Integration {
        id: "int-1".into(),
        client_id: ClientId::parse("0123456789abcdef0123456789abcdef").expect("client ID"),
        name: "App".into(),
        description: String::new(),
        integration_type: IntegrationType::Oauth,
        platform: Some(Platform::Spa),
        owner: Owner::Organization("0123456789abcdef01234567@GatehouseOrg".into()),
        created_by: None,
        redirect_uri: Some("https://app.example.com/callback".into()),
        redirect_patterns: Vec::new(),
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: "w".into(),
        status: IntegrationStatus::Active,
        created_at: 0,
        updated_at: 0,
    }
}

/// The limits the extractor promises, then every rule that reads the parameters.
pub fn exercise(params: &Params) {
    let pairs = params.pairs();
    assert!(pairs.len() <= 64, "{} parameters accepted", pairs.len());
    assert!(pairs.iter().all(|(_, v)| v.len() <= 64 * 1024));
    // Parameters survive being written back as a form and read again.
    if let Ok(encoded) = serde_urlencoded::to_string(pairs) {
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).expect("re-encoded form parses");
        assert_eq!(back, pairs);
    }

    if let Ok(presented) = params.presented_client()
        && let Ok(claim) = client_auth::identify(&presented, |a| assertion::peek(a).and_then(|u| u.sub))
    {
        let _ = (claim.client_id.len(), claim.method.as_str());
    }
    if let Ok(Some(g)) = params.get("grant_type")
        && let Ok(grant) = GrantType::parse(g)
    {
        assert_eq!(grant.as_str(), g);
    }
    let _ = params.all("resource");
    let _ = params.require("code").map(str::len);

    let one = |name: &'static str| params.get(name).ok().flatten();
    let raw = RawRequest {
        response_type: one("response_type"),
        response_mode: one("response_mode"),
        scope: one("scope"),
        state: one("state"),
        nonce: one("nonce"),
        prompt: one("prompt"),
        max_age: one("max_age"),
        code_challenge: one("code_challenge"),
        code_challenge_method: one("code_challenge_method"),
        request: one("request"),
        request_uri: one("request_uri"),
    };
    let client = public_client();
    if let Ok(req) = authorize::parse_request(&client, &raw) {
        // A public client is never let through without PKCE.
        assert!(req.pkce.is_some());
        assert!(req.max_age.is_none_or(|a| a >= 0));
    }
    let rules = authorize::redirect_rules(&client).ok().flatten();
    let _ = authorize::check_client(&client, rules.as_ref(), one("redirect_uri"));
}
