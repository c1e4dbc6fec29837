//! Helpers for the user grants: provisioning an OAuth integration, and the browser's side of the
//! authorization-code flow done with plain HTTP (the session cookie from a real sign-in, the
//! consent form with its CSRF token, the redirect back to the client).

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    ids::OrgId,
    integration::{Integration, IntegrationType, Platform},
    org::Organization,
    service::{ActsFor, Service, ServiceCode},
};
use serde_json::Value;

use crate::harness::{
    fixtures::Fixtures,
    server::{TestClient, TestResponse, TestServer},
};

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://app.example.com/callback";
pub const PATTERN: &str = r"https://app\.example\.com/cb/[a-z]+";

/// A provisioned OAuth integration.
pub struct OAuthApp {
    pub integration: Integration,
    pub client_id: String,
    /// `None` for public clients (spa, native).
    pub secret: Option<String>,
}

/// An OAuth integration of `platform` with the default redirect URI [`REDIRECT`], the pattern
/// [`PATTERN`], and a subscription to `pdf_services` (scope `pdf_read`).
pub async fn oauth_app(server: &TestServer, platform: Platform) -> OAuthApp {
    let now = server.state().now();
    let hex24 = || uuid::Uuid::new_v4().simple().to_string()[..24].to_owned();
    let org = Organization {
        id: OrgId::parse(&format!("{}@GatehouseOrg", hex24())).unwrap(),
        name: "Example Apps".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let service = Service {
        code: ServiceCode::parse("pdf_services").unwrap(),
        name: "PDF Services".into(),
        description: String::new(),
        allowed_types: vec![IntegrationType::ServiceAccount, IntegrationType::Oauth],
        scopes: vec!["pdf_read".into()],
        acts_for: ActsFor::User,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let mut app = Fixtures::new(server.store())
        .at(now)
        .oauth(platform, "Example App")
        .new_org(&org)
        .service(&service)
        .redirect(REDIRECT, &[PATTERN])
        .subscribe(service.code.as_str(), &service.scopes);
    if platform.is_confidential() {
        app = app.secret();
    }
    let app = app.insert().await;
    OAuthApp {
        client_id: app.client_id,
        secret: app.secret,
        integration: app.integration,
    }
}

/// `/oauth/authorize?…` with the usual parameters (code flow, S256 challenge, state, nonce,
/// `openid offline_access pdf_read`), each replaced or removed (empty value) by `overrides`.
pub fn authorize_url(path: &str, app: &OAuthApp, overrides: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email profile offline_access pdf_read"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        params.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            params.push((k.to_string(), v.to_string()));
        }
    }
    format!("{path}?{}", serde_urlencoded::to_string(&params).unwrap())
}

/// Where a response sends the browser: a `Location` header, or the `Refresh` header of the page
/// that continues to the client by itself.
pub fn location(res: &TestResponse) -> String {
    if let Some(l) = res.header("location") {
        return l.to_owned();
    }
    let refresh = res
        .header("refresh")
        .unwrap_or_else(|| panic!("no Location or Refresh header: {:?}\n{}", res.headers, res.text()));
    refresh.split_once("url=").unwrap().1.to_owned()
}

/// The parameters of a redirect back to the client (query or fragment).
pub fn reply_params(url: &str) -> HashMap<String, String> {
    let part = url
        .split_once('#')
        .map(|(_, f)| f)
        .or_else(|| url.split_once('?').map(|(_, q)| q))
        .unwrap_or("");
    serde_urlencoded::from_str::<Vec<(String, String)>>(part)
        .unwrap()
        .into_iter()
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Every hidden input of an HTML form, in order.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = chunk.split_once('"').unwrap();
        let value = rest
            .split_once("value=\"")
            .and_then(|(_, v)| v.split_once('"'))
            .map(|(v, _)| v)
            .unwrap_or("");
        out.push((unescape(name), unescape(value)));
    }
    out
}

/// Answers a consent page: posts its hidden fields with `decision` to `action`.
pub async fn answer_consent(c: &TestClient, page: &TestResponse, action: &str, allow: bool) -> TestResponse {
    let html = page.text();
    assert!(html.contains("Allow"), "not a consent page:\n{html}");
    let mut form = hidden_fields(&html);
    form.push(("decision".into(), if allow { "allow" } else { "deny" }.into()));
    c.post_form(action, &form, StatusCode::OK).await
}

/// Runs the browser's part for a signed-in `c`: authorize, approve the consent screen if shown,
/// and return the parameters the client receives.
pub async fn authorize(c: &TestClient, url: &str) -> HashMap<String, String> {
    let res = c.send(c.request(Method::GET, url), StatusCode::OK).await;
    let res = if res.header("refresh").is_some() {
        res
    } else {
        let path = url.split('?').next().unwrap();
        answer_consent(c, &res, path, true).await
    };
    reply_params(&location(&res))
}

/// The GET of an authorization URL when consent is already given: a 302 to the client.
pub async fn authorize_again(c: &TestClient, url: &str) -> HashMap<String, String> {
    let res = c.get(url, StatusCode::FOUND).await;
    reply_params(&location(&res))
}

/// Redeems a code at `path` (`/oauth/token` or `/ims/token/vN`) with the app's credentials.
pub async fn redeem(
    c: &TestClient,
    path: &str,
    app: &OAuthApp,
    code: &str,
    verifier: Option<&str>,
    expected: StatusCode,
) -> Value {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("client_id", app.client_id.clone()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v.to_owned()));
    }
    if let Some(s) = &app.secret {
        form.push(("client_secret", s.clone()));
    }
    c.send(c.request(Method::POST, path).form(&form), expected)
        .await
        .json_value()
}

/// Uses a refresh token at `/oauth/token`.
pub async fn refresh(c: &TestClient, app: &OAuthApp, token: &str, expected: StatusCode) -> Value {
    let mut form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", token.to_owned()),
        ("client_id", app.client_id.clone()),
    ];
    if let Some(s) = &app.secret {
        form.push(("client_secret", s.clone()));
    }
    c.send(c.request(Method::POST, "/oauth/token").form(&form), expected)
        .await
        .json_value()
}

/// Introspects `token` as the app (which must be confidential).
pub async fn introspect(c: &TestClient, app: &OAuthApp, token: &str) -> Value {
    let req = c
        .request(Method::POST, "/oauth/introspect")
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token)]);
    c.send(req, StatusCode::OK).await.json_value()
}

pub const PASSWORD: &str = "violet tractor harbour 42";

/// Creates a verified personal account directly in the store.
pub async fn account(server: &TestServer, email: &str) -> gatehouse_domain::account::Account {
    use gatehouse_domain::account::{Account, AccountType, Email};
    use gatehouse_store::AccountStore;
    let now = server.state().now();
    let a = Account {
        id: gatehouse_domain::ids::new_row_id(&mut rand::thread_rng()),
        email: Email::parse(email).unwrap(),
        account_type: AccountType::Personal,
        display_name: "Ada Lovelace".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        country: "GB".into(),
        email_verified: true,
        password_hash: Some(gatehouse_domain::password::hash(PASSWORD, &mut rand::thread_rng()).unwrap()),
        operator: false,
        disabled: false,
        owner_org_id: None,
        created_at: now,
        updated_at: now,
    };
    server.store().conn().await.unwrap().insert_account(&a).await.unwrap();
    a
}

/// Signs `c` in through the hosted sign-in form; returns where the sign-in sends the browser.
pub async fn sign_in(c: &TestClient, email: &str, return_to: Option<&str>) -> String {
    if c.cookie("gatehouse_csrf").is_none() {
        c.get("/signin", StatusCode::OK).await;
    }
    let csrf = c.cookie("gatehouse_csrf").unwrap();
    let mut form = vec![("email", email), ("password", PASSWORD), ("csrf_token", csrf.as_str())];
    if let Some(rt) = return_to {
        form.push(("return_to", rt));
    }
    let res = c.post_form("/signin", &form, StatusCode::SEE_OTHER).await;
    res.header("location").unwrap().to_owned()
}

/// A browser signed in as a new account.
pub async fn signed_in(server: &TestServer, email: &str) -> (TestClient, gatehouse_domain::account::Account) {
    let a = account(server, email).await;
    let c = server.new_client();
    sign_in(&c, email, None).await;
    (c, a)
}
