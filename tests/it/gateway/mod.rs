//! The API gateway through the real server: `/services/{code}/…` in front of a tiny upstream (the
//! harness's recording receiver). Every refusal is tried with its positive control, and the
//! upstream's record shows that refused calls never reached it; the identity header verifies
//! against `/oauth/jwks` with `jsonwebtoken` here and with `joserfc` (PyPI) in `interop`.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod interop;
mod limits;
mod origins_and_paths;
mod refusals;
mod streaming;

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    gateway::{GatewaySettings, IdentityForwarding, Limits},
    ids::{ClientId, OrgId},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
    org::Organization,
    service::{ActsFor, Service, ServiceCode},
    token::claims::{AccessTokenRequest, Flavour},
};
use serde_json::Value;

use crate::harness::{
    fixtures::{Fixtures, Provisioned},
    receiver::TestReceiver,
    server::{TestResponse, TestServer},
};

pub const SCOPE: &str = "docs.read";

/// A server, an upstream, the service `docs` in front of it (scopes `docs.read`, `docs.write`) and
/// four integrations of one organization: an OAuth Server-to-Server integration (`sa`) and a
/// confidential OAuth app subscribed with `docs.read`, an API key subscribed, and an OAuth
/// Server-to-Server integration not subscribed.
pub struct World {
    pub server: TestServer,
    pub upstream: TestReceiver,
    pub org_id: String,
    pub sa: Provisioned,
    pub web: Provisioned,
    pub key: Provisioned,
    pub outsider: Provisioned,
}

pub fn docs_service(upstream: &TestReceiver, acts_for: ActsFor, gateway: GatewaySettings, now: i64) -> Service {
    Service {
        code: ServiceCode::parse("docs").unwrap(),
        name: "Docs API".into(),
        description: String::new(),
        allowed_types: IntegrationType::ALL.to_vec(),
        scopes: vec![SCOPE.into(), "docs.write".into()],
        acts_for,
        upstream_url: Some(upstream.url("/base")),
        gateway,
        created_at: now,
        updated_at: now,
    }
}

impl World {
    pub async fn new() -> Self {
        Self::with(ActsFor::Organization, GatewaySettings::default()).await
    }

    pub async fn with(acts_for: ActsFor, gateway: GatewaySettings) -> Self {
        Self::on(TestServer::start().await, acts_for, gateway).await
    }

    /// The same world on a server the caller started (a node of a cluster, a manual clock).
    pub async fn on(server: TestServer, acts_for: ActsFor, gateway: GatewaySettings) -> Self {
        let upstream = TestReceiver::start().await;
        let now = server.state().now();
        let org = Organization {
            id: OrgId::parse(&format!(
                "{}@GatehouseOrg",
                &uuid::Uuid::new_v4().simple().to_string()[..24]
            ))
            .unwrap(),
            name: "Acme".into(),
            require_mfa: false,
            created_at: now,
            updated_at: now,
        };
        let service = docs_service(&upstream, acts_for, gateway, now);
        let sa = Fixtures::new(server.store())
            .at(now)
            .server_to_server("Robot")
            .new_org(&org)
            .service(&service)
            .secret()
            .subscribe("docs", &[SCOPE])
            .insert()
            .await;
        let web = Fixtures::new(server.store())
            .at(now)
            .oauth(Platform::Web, "Web app")
            .org(org.id.as_str())
            .secret()
            .subscribe("docs", &[SCOPE])
            .insert()
            .await;
        let key = Fixtures::new(server.store())
            .at(now)
            .integration(api_key_integration(org.id.as_str(), now))
            .subscribe("docs", &[] as &[&str])
            .insert()
            .await;
        let outsider = Fixtures::new(server.store())
            .at(now)
            .server_to_server("Not subscribed")
            .org(org.id.as_str())
            .secret()
            .insert()
            .await;
        Self {
            server,
            upstream,
            org_id: org.id.to_string(),
            sa,
            web,
            key,
            outsider,
        }
    }

    /// A client-credentials token of `p` with `scope`.
    pub async fn token(&self, p: &Provisioned, scope: &str) -> String {
        let c = self.server.new_client();
        let res = c
            .send(
                c.request(Method::POST, "/oauth/token")
                    .basic_auth(&p.client_id, p.secret.as_deref())
                    .form(&[("grant_type", "client_credentials"), ("scope", scope)]),
                StatusCode::OK,
            )
            .await;
        res.json_value()["access_token"].as_str().unwrap().to_owned()
    }

    /// An access token issued to the person `account_id` through `p` (signed by the node's one
    /// token service, as the code flow would).
    pub async fn person_token(&self, p: &Provisioned, account_id: &str, scopes: &[&str]) -> String {
        let req = AccessTokenRequest {
            subject: account_id.to_owned(),
            client_id: p.client_id.clone(),
            org_id: None,
            audience: vec![self.server.base_url().to_owned()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            lifetime: 600,
            auth_time: Some(self.server.state().now()),
            grant_id: None,
            flavour: Flavour::Standard,
        };
        self.server
            .state()
            .tokens
            .issue_access_token(&req, None)
            .await
            .unwrap()
            .0
    }

    /// A console token of the service account (it acts as an admin of its organization there).
    pub async fn console_token(&self) -> String {
        self.sa_token(&[gatehouse_domain::console::API_SCOPE]).await
    }

    /// A token of the technical account `sa` with `scopes`, whatever its subscriptions grant (signed by
    /// the node's one token service).
    pub async fn sa_token(&self, scopes: &[&str]) -> String {
        let req = AccessTokenRequest {
            subject: self.sa.integration.technical_account_id.clone().unwrap(),
            client_id: self.sa.client_id.clone(),
            org_id: Some(self.org_id.clone()),
            audience: vec![self.server.base_url().to_owned()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            lifetime: 600,
            auth_time: None,
            grant_id: None,
            flavour: Flavour::Standard,
        };
        self.server
            .state()
            .tokens
            .issue_access_token(&req, None)
            .await
            .unwrap()
            .0
    }

    /// `method /services/docs{path}` with the API key and token given, expecting `status`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        api_key: Option<&str>,
        token: Option<&str>,
        status: StatusCode,
    ) -> TestResponse {
        let c = self.server.new_client();
        let mut req = c.request(method, &format!("/services/docs{path}"));
        if let Some(k) = api_key {
            req = req.header("x-api-key", k);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        c.send(req, status).await
    }
}

fn api_key_integration(org: &str, now: i64) -> Integration {
    Integration {
        id: uuid::Uuid::new_v4().to_string(),
        client_id: ClientId::parse(&uuid::Uuid::new_v4().simple().to_string()).unwrap(),
        name: "Browser key".into(),
        description: String::new(),
        integration_type: IntegrationType::ApiKey,
        platform: None,
        owner: Owner::Organization(org.to_owned()),
        created_by: None,
        redirect_uri: None,
        redirect_patterns: Vec::new(),
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: uuid::Uuid::new_v4().to_string(),
        status: IntegrationStatus::Active,
        created_at: now,
        updated_at: now,
    }
}

/// Gateway settings that forward the caller's token.
pub fn forwarding_the_token() -> GatewaySettings {
    GatewaySettings {
        path: None,
        identity: IdentityForwarding::Token,
        limits: Limits::default(),
    }
}

/// The identity JWT's claims, verified with `jsonwebtoken` against the server's JWKS (ES256),
/// for the audience `docs` and the server as issuer.
pub async fn verified_identity(server: &TestServer, jwt: &str) -> Value {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    let jwks: JwkSet = server.client().get("/oauth/jwks", StatusCode::OK).await.json();
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("gatehouse-identity+jwt"));
    let kid = header.kid.expect("the identity names its key");
    let jwk = jwks.find(&kid).expect("the identity's key is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&["docs"]);
    v.set_issuer(&[server.base_url()]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    decode::<Value>(jwt, &key, &v).unwrap().claims
}

#[tokio::test]
async fn an_admitted_call_streams_through_with_a_signed_identity_instead_of_the_token() {
    let w = World::new().await;
    let token = w.token(&w.sa, SCOPE).await;
    w.upstream.set_default(
        crate::harness::receiver::Reply::status(StatusCode::CREATED)
            .header("x-upstream", "yes")
            .body("made"),
    );
    let c = w.server.new_client();
    let body = "x".repeat(256 * 1024);
    let res = c
        .send(
            c.request(Method::POST, "/services/docs/v1/items%20a/b?q=1&r=two")
                .header("x-api-key", &w.sa.client_id)
                .header("x-gatehouse-identity", "forged")
                .header("x-custom", "kept")
                .bearer_auth(&token)
                .body(body.clone()),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(res.text(), "made");
    assert_eq!(res.header("x-upstream"), Some("yes"));
    let got = w.upstream.requests();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(
        r.path, "/base/v1/items%20a/b?q=1&r=two",
        "the path below the prefix, as sent"
    );
    assert_eq!(r.body.len(), body.len(), "the body, whole");
    assert_eq!(r.header("x-custom"), Some("kept"));
    assert_eq!(r.header("x-api-key"), Some(w.sa.client_id.as_str()));
    assert_eq!(
        r.header("authorization"),
        None,
        "the caller's token stays at the gateway"
    );
    let identity = r.header("x-gatehouse-identity").unwrap();
    assert_ne!(identity, "forged", "a caller cannot make up its identity");
    let claims = verified_identity(&w.server, identity).await;
    assert_eq!(claims["sub"], w.sa.integration.technical_account_id.clone().unwrap());
    assert_eq!(claims["sub_type"], "technical_account");
    assert_eq!(claims["client_id"], w.sa.client_id);
    assert_eq!(claims["integration_id"], w.sa.integration.id);
    assert_eq!(claims["org_id"], w.org_id);
    assert_eq!(claims["scope"], SCOPE);
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 60, "short-lived: {claims}");
}

#[tokio::test]
async fn a_service_may_take_the_callers_token_instead() {
    let w = World::with(ActsFor::Organization, forwarding_the_token()).await;
    let token = w.token(&w.sa, SCOPE).await;
    w.call(Method::GET, "/x", Some(&w.sa.client_id), Some(&token), StatusCode::OK)
        .await;
    let r = &w.upstream.requests()[0];
    assert_eq!(r.header("authorization"), Some(format!("Bearer {token}").as_str()));
    assert_eq!(r.header("x-gatehouse-identity"), None);
    // An API Key integration's call brings no verified token: whatever it sends is not forwarded.
    w.call(
        Method::GET,
        "/x",
        Some(&w.key.client_id),
        Some("made-up"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(w.upstream.requests()[1].header("authorization"), None);
}

#[tokio::test]
async fn api_key_integrations_call_anonymously_and_people_call_where_the_service_acts_for_them() {
    let w = World::with(ActsFor::User, GatewaySettings::default()).await;
    w.call(Method::GET, "/", Some(&w.key.client_id), None, StatusCode::OK)
        .await;
    let anon = verified_identity(
        &w.server,
        w.upstream.requests()[0].header("x-gatehouse-identity").unwrap(),
    )
    .await;
    assert_eq!(anon["sub"], w.key.client_id);
    assert_eq!(anon["sub_type"], "integration");
    assert_eq!(anon["scope"], "");

    let person = w.person_token(&w.web, "acct-ada", &[SCOPE, "openid"]).await;
    w.call(
        Method::GET,
        "/me",
        Some(&w.web.client_id),
        Some(&person),
        StatusCode::OK,
    )
    .await;
    let got = w.upstream.requests();
    let claims = verified_identity(&w.server, got[1].header("x-gatehouse-identity").unwrap()).await;
    assert_eq!(claims["sub"], "acct-ada");
    assert_eq!(claims["sub_type"], "person");
    assert_eq!(
        claims["scope"], SCOPE,
        "only the scopes the subscription grants on this service"
    );
}

#[tokio::test]
async fn usage_is_counted_per_integration_and_service_in_metrics_and_the_api() {
    let w = World::new().await;
    let token = w.token(&w.sa, SCOPE).await;
    w.call(Method::GET, "/a", Some(&w.sa.client_id), Some(&token), StatusCode::OK)
        .await;
    w.call(Method::GET, "/a", Some(&w.sa.client_id), None, StatusCode::UNAUTHORIZED)
        .await;
    w.call(Method::GET, "/a", Some("nobody"), None, StatusCode::UNAUTHORIZED)
        .await;
    let metrics = w.server.client().get("/metrics", StatusCode::OK).await.text();
    let line = format!(
        "gatehouse_gateway_requests_total{{service=\"docs\",integration=\"{}\",outcome=\"token_required\"}}",
        w.sa.client_id
    );
    assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    assert!(
        metrics.contains("integration=\"unknown\",outcome=\"invalid_api_key\""),
        "unknown API keys are one label, not one each"
    );
    assert!(!metrics.contains("nobody"));
    assert!(
        metrics.contains("gatehouse_gateway_upstream_duration_seconds_count{service=\"docs\"}"),
        "the upstream's latency by service: {metrics}"
    );

    gatehouse_core::gateway::flush_usage(w.server.state()).await.unwrap();
    // A service account's console token reads its own integration's usage.
    let console = w.console_token().await;
    let c = w.server.new_client();
    let usage = c
        .send(
            c.request(
                Method::GET,
                &format!("/api/v1/integrations/{}/usage?days=7", w.sa.integration.id),
            )
            .bearer_auth(&console),
            StatusCode::OK,
        )
        .await
        .json_value();
    let day = &usage[0];
    assert_eq!(day["service"], "docs", "{usage}");
    assert_eq!(day["allowed"], 1, "{usage}");
    assert_eq!(day["refused"]["token_required"], 1, "{usage}");
    assert_eq!(usage.as_array().unwrap().len(), 1, "{usage}");
    // Without a credential, nothing.
    w.server
        .new_client()
        .get(
            &format!("/api/v1/integrations/{}/usage", w.sa.integration.id),
            StatusCode::UNAUTHORIZED,
        )
        .await;
}

#[tokio::test]
async fn an_api_key_the_gateway_lets_through_is_a_use_of_its_integration() {
    use gatehouse_store::LastUsedStore;
    let w = World::new().await;
    w.call(Method::GET, "/a", Some(&w.key.client_id), None, StatusCode::OK)
        .await;
    w.call(
        Method::GET,
        "/a",
        Some(&w.outsider.client_id),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    gatehouse_core::tokens::last_used::flush(&w.server.state().tokens)
        .await
        .unwrap();
    let ids = [w.key.integration.id.clone(), w.outsider.integration.id.clone()];
    let used = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .integrations_last_used(&ids)
        .await
        .unwrap();
    assert!(used.contains_key(&w.key.integration.id), "{used:?}");
    assert!(
        !used.contains_key(&w.outsider.integration.id),
        "a refused call is no use: {used:?}"
    );
}
