//! The attack catalogue's own tests (docs/security.md, "The attack catalogue"): each sends the
//! attacker's input to a running server, checks the refusal, and checks that the legitimate
//! variant still works.

// Test helpers fail the test loudly when their set-up cannot be done.
#![allow(clippy::unwrap_used)]

use axum::http::{Method, StatusCode};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_domain::{
    ids::OrgId,
    integration::{IntegrationType, Platform},
    org::Organization,
    service::{ActsFor, Service, ServiceCode},
    token::keys::{SigningAlg, generate},
};
use serde_json::{Value, json};

use crate::{
    console::helpers::{api, world},
    events::client::{Caller, caller, token as client_token},
    harness::{fixtures::Fixtures, server::TestServer},
    identity::helpers::{PASSWORD, account, post, signed_in},
    token::{
        flow::{OAuthApp, authorize, authorize_url, location},
        server_to_server,
    },
};

/// An OAuth web app whose default redirect URI is `https://app.example.com/callback` and whose
/// pattern is as wide as they come: anything under `/cb/`.
async fn wide_app(server: &TestServer) -> OAuthApp {
    let now = server.state().now();
    let org = Organization {
        id: OrgId::parse("00112233445566778899aabb@GatehouseOrg").unwrap(),
        name: "Wide".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let service = Service {
        code: ServiceCode::parse("pdf_services").unwrap(),
        name: "PDF Services".into(),
        description: String::new(),
        allowed_types: vec![IntegrationType::Oauth],
        scopes: vec!["pdf_read".into()],
        acts_for: ActsFor::User,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let app = Fixtures::new(server.store())
        .at(now)
        .oauth(Platform::Web, "Wide App")
        .new_org(&org)
        .service(&service)
        .redirect(
            "https://app.example.com/callback",
            &[r"https://app\.example\.com/cb/.*"],
        )
        .subscribe("pdf_services", &["pdf_read"])
        .secret()
        .insert()
        .await;
    OAuthApp {
        client_id: app.client_id,
        secret: app.secret,
        integration: app.integration,
    }
}

/// Each named open-redirect variant of a redirect URI, against [`wide_app`]'s rules.
const REDIRECT_VARIANTS: [&str; 13] = [
    // `@`: the registered host as user information of another.
    "https://app.example.com@evil.example/cb/x",
    "https://app.example.com:443@evil.example/callback",
    // Backslashes, which browsers read as `/`.
    "https://app.example.com\\@evil.example/cb/x",
    "https://app.example.com/cb/..\\..\\elsewhere",
    // Dot segments, plain and `%2e`, which leave /cb/ for another path of the host.
    "https://app.example.com/cb/../elsewhere",
    "https://app.example.com/cb/%2e%2e/elsewhere",
    "https://app.example.com/cb/%2E./elsewhere",
    // Full-width and ideographic dots, which IDNA reads as `.`.
    "https://app\u{ff0e}example\u{ff0e}com/callback",
    "https://app.example.com\u{3002}evil.example/callback",
    // Ports.
    "https://app.example.com:8443/callback",
    "https://app.example.com:443/callback",
    // Fragments.
    "https://app.example.com/callback#@evil.example",
    "https://app.example.com/cb/x#",
];

#[tokio::test]
async fn redirect_uri_and_post_logout_redirect_uri_variants_are_shown_on_a_page_never_followed() {
    let server = TestServer::start().await;
    let app = wide_app(&server).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    for bad in REDIRECT_VARIANTS {
        for path in ["/oauth/authorize", "/ims/authorize/v1"] {
            let res = c
                .get(
                    &authorize_url(path, &app, &[("redirect_uri", bad)]),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            assert!(res.header("location").is_none(), "{path}: {bad} was redirected to");
            assert!(res.header("refresh").is_none(), "{path}: {bad} was redirected to");
            assert!(res.text().contains("not registered"), "{path}: {bad}: {}", res.text());
        }
        let logout = format!(
            "/oauth/logout?{}",
            serde_urlencoded::to_string([
                ("client_id", app.client_id.as_str()),
                ("post_logout_redirect_uri", bad),
                ("state", "bye"),
            ])
            .unwrap()
        );
        let res = server.new_client().get(&logout, StatusCode::BAD_REQUEST).await;
        assert!(res.header("location").is_none(), "logout: {bad} was redirected to");
    }
    // Under /cb/ the pattern admits what it was written for, on both endpoints.
    let reply = authorize(
        &c,
        &authorize_url(
            "/oauth/authorize",
            &app,
            &[("redirect_uri", "https://app.example.com/cb/v1.2/done")],
        ),
    )
    .await;
    assert!(reply.contains_key("code"), "{reply:?}");
    let logout = format!(
        "/oauth/logout?{}",
        serde_urlencoded::to_string([
            ("client_id", app.client_id.as_str()),
            ("post_logout_redirect_uri", "https://app.example.com/cb/bye"),
            ("state", "bye"),
        ])
        .unwrap()
    );
    let res = server.new_client().get(&logout, StatusCode::SEE_OTHER).await;
    assert_eq!(location(&res), "https://app.example.com/cb/bye?state=bye");
}

#[tokio::test]
async fn return_to_variants_never_leave_gatehouse() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    for given in [
        "//evil.example/",
        "//gatehouse.example@evil.example/",
        "https://evil.example/",
        "@evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "//evil.example:443/",
        "//evil\u{ff0e}example/",
        "javascript:alert(1)",
    ] {
        let c = server.new_client();
        let res = post(
            &c,
            "/signin",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("return_to", given),
            ],
            StatusCode::SEE_OTHER,
        )
        .await;
        assert_eq!(res.header("location"), Some("/console"), "{given:?}");
    }
    // Gatehouse's own paths, however spelled, are kept as they are: they stay on this host.
    for own in [
        "/console/account",
        "/%2e%2e/console",
        "/@evil.example",
        "/console#//evil.example",
    ] {
        let c = server.new_client();
        let res = post(
            &c,
            "/signin",
            &[("email", "ada@example.com"), ("password", PASSWORD), ("return_to", own)],
            StatusCode::SEE_OTHER,
        )
        .await;
        assert_eq!(res.header("location"), Some(own), "{own:?}");
    }
}

fn header_values(res: &crate::harness::server::TestResponse, name: &str) -> Vec<String> {
    res.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_cannot_be_framed_send_no_referrer_and_the_session_cookie_is_http_only() {
    let server = TestServer::start().await;
    let app = wide_app(&server).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    // A page, an error page and the consent page: none may be framed (clickjacking), none sends
    // a Referer (links carry one-time tokens, and the consent page the request).
    let signin = server.new_client().get("/signin", StatusCode::OK).await;
    let error = c
        .get(
            &authorize_url("/oauth/authorize", &app, &[("redirect_uri", "https://evil.example/")]),
            StatusCode::BAD_REQUEST,
        )
        .await;
    let consent = c
        .get(&authorize_url("/oauth/authorize", &app, &[]), StatusCode::OK)
        .await;
    assert!(consent.text().contains("Allow"), "{}", consent.text());
    for (what, res) in [("sign-in", &signin), ("error", &error), ("consent", &consent)] {
        let csp = res.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("base-uri 'none'"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"), "{what}");
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{what}");
    }
    // Forms post to this server only; the consent form to the client's redirect as well.
    assert!(
        signin
            .header("content-security-policy")
            .unwrap()
            .contains("form-action 'self'")
    );

    // The session cookie, on plain http: HttpOnly and SameSite=Lax.
    let fresh = server.new_client();
    let res = post(
        &fresh,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    let cookies = header_values(&res, "set-cookie");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("gatehouse_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");

    // Over https: the `__Host-` name, Secure, Path=/ and no Domain.
    let https = TestServer::start_with(|c| c.public_url = "https://id.example.com".into()).await;
    account(&https, "ada@example.com").await;
    let c = https.new_client();
    let page = c.get("/signin", StatusCode::OK).await;
    let csrf = header_values(&page, "set-cookie")
        .iter()
        .find_map(|c| {
            c.strip_prefix("__Host-gatehouse_csrf=")
                .map(|v| v.split(';').next().unwrap().to_owned())
        })
        .expect("a host-bound CSRF cookie");
    let res = c
        .send(
            c.request(Method::POST, "/signin")
                .header("cookie", format!("__Host-gatehouse_csrf={csrf}"))
                .form(&[
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                    ("csrf_token", csrf.as_str()),
                ]),
            StatusCode::SEE_OTHER,
        )
        .await;
    let cookies = header_values(&res, "set-cookie");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-gatehouse_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(part), "{part}: {session}");
    }
    assert!(!session.to_ascii_lowercase().contains("domain="), "{session}");
}

/// A compact JWS with `header` and `claims`, signed by `sign` (base64url signature of the message).
fn jws(header: &Value, claims: &Value, sign: impl Fn(&str) -> String) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(&message);
    format!("{message}.{signature}")
}

fn hmac_sha256(key: &[u8], message: &str) -> String {
    use sha2::{Digest, Sha256};
    // HMAC (RFC 2104) from SHA-256, so the forger needs no crate Gatehouse itself trusts.
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.iter().map(|k| k ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    let outer = Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
    URL_SAFE_NO_PAD.encode(outer)
}

#[tokio::test]
async fn forged_access_tokens_are_refused_by_the_apis_and_introspect_as_inactive() {
    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let genuine = Caller {
        client: server.new_client(),
        integration_id: sa.integration.id.clone(),
        client_id: sa.client_id.clone(),
        org: sa.org_id.clone(),
        token: client_token(&server, &sa.client_id, &sa.secret).await,
    };
    genuine.get("/api/v1/events/providers", StatusCode::OK).await;
    let parts: Vec<&str> = genuine.token.split('.').collect();
    let decode = |s: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
    let (header, claims) = (decode(parts[0]), decode(parts[1]));
    let kid = header["kid"].as_str().unwrap().to_owned();
    let jwks = server.client().get("/oauth/jwks", StatusCode::OK).await;
    let published = jwks.json_value()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .cloned()
        .unwrap();

    // The forger's own ES256 key, published as a JWK in the header or behind a URL.
    let forger = generate(SigningAlg::ES256, &mut rand::thread_rng()).unwrap();
    let forger_key = jsonwebtoken::EncodingKey::from_ec_der(&forger.private_pkcs8);
    let by_forger =
        |m: &str| jsonwebtoken::crypto::sign(m.as_bytes(), &forger_key, jsonwebtoken::Algorithm::ES256).unwrap();
    let forger_jwk = serde_json::to_value(&forger.public_jwk).unwrap();
    let with = |extra: Value| {
        let mut h = header.clone();
        h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        h
    };
    let mut changed = claims.clone();
    changed["sub"] = json!("someone-else");
    changed["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let forgeries: Vec<(&str, String)> = vec![
        (
            "alg none",
            jws(&with(json!({"alg": "none"})), &claims, |_| String::new()),
        ),
        (
            "alg None",
            jws(&with(json!({"alg": "None"})), &claims, |_| String::new()),
        ),
        (
            "HS256 keyed with the published JWK",
            jws(&with(json!({"alg": "HS256"})), &claims, |m| {
                hmac_sha256(published.to_string().as_bytes(), m)
            }),
        ),
        (
            "HS256 keyed with the JWKS document",
            jws(&with(json!({"alg": "HS256"})), &claims, |m| hmac_sha256(&jwks.body, m)),
        ),
        (
            "an embedded jwk under the real kid",
            jws(&with(json!({"jwk": forger_jwk})), &claims, by_forger),
        ),
        (
            "an embedded jwk under its own kid",
            jws(
                &with(json!({"jwk": forger_jwk, "kid": forger.kid()})),
                &claims,
                by_forger,
            ),
        ),
        (
            "jku",
            jws(
                &with(json!({"jku": "https://evil.example/jwks.json", "kid": forger.kid()})),
                &claims,
                by_forger,
            ),
        ),
        (
            "x5u",
            jws(
                &with(json!({"x5u": "https://evil.example/cert.pem", "kid": forger.kid()})),
                &claims,
                by_forger,
            ),
        ),
        (
            "kid traversal",
            jws(
                &with(json!({"kid": format!("../../{kid}/../../../../dev/null")})),
                &claims,
                by_forger,
            ),
        ),
        (
            "kid naming the real key's file",
            jws(&with(json!({"kid": format!("./{kid}")})), &claims, by_forger),
        ),
        (
            "a changed payload under the real signature",
            format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode(changed.to_string()),
                parts[2]
            ),
        ),
    ];
    for (what, token) in forgeries {
        let forged = Caller {
            token: token.clone(),
            ..genuine.clone()
        };
        let res = forged.get("/api/v1/events/providers", StatusCode::UNAUTHORIZED).await;
        assert!(
            res.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")),
            "{what}: {:?}",
            res.headers
        );
        let c = server.client();
        let res = c
            .send(
                c.request(Method::POST, "/oauth/introspect")
                    .basic_auth(&sa.client_id, Some(&sa.secret))
                    .form(&[("token", token.as_str())]),
                StatusCode::OK,
            )
            .await;
        assert_eq!(res.json_value()["active"], false, "{what}");
    }
    // The genuine token is still accepted, and introspects as active.
    genuine.get("/api/v1/events/providers", StatusCode::OK).await;
    let c = server.client();
    let res = c
        .send(
            c.request(Method::POST, "/oauth/introspect")
                .basic_auth(&sa.client_id, Some(&sa.secret))
                .form(&[("token", genuine.token.as_str())]),
            StatusCode::OK,
        )
        .await;
    assert_eq!(res.json_value()["active"], true);
}

#[tokio::test]
async fn webhook_urls_in_every_spelling_of_loopback_and_private_addresses_are_refused() {
    let server = TestServer::start().await;
    let a = caller(&server).await;
    let p = a.provider(&["com.acme.paid"]).await;
    for url in [
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://0177.0.0.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://127.1/hook",
        "https://0.0.0.0/hook",
        "https://0/hook",
        "https://[::]/hook",
        "https://[::1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "https://2852039166/latest/meta-data/",
        "https://3232235777/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
    ] {
        let body = json!({
            "name": "Hook", "delivery_method": "webhook", "webhook_url": url,
            "events_of_interest": [{"provider_id": p, "event_code": "com.acme.paid"}],
        });
        let res = a
            .post("/api/v1/events/registrations", &body, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .json_value();
        assert_eq!(res["code"], "address_not_allowed", "{url}: {res}");
    }
    let list = a.get("/api/v1/events/registrations", StatusCode::OK).await.json_value();
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing was created");
}

#[tokio::test]
async fn oversized_and_malformed_input_is_refused_with_a_4xx() {
    let w = world().await;
    let c = w.server.new_client();
    let big = "a".repeat(3 * 1024 * 1024);
    // Bodies beyond the limit, on the token endpoint (an OAuth `invalid_request`), a form page and
    // the API.
    let res = c
        .send(
            c.request(Method::POST, "/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=client_credentials&client_id={big}")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(res.json_value()["error"], "invalid_request");
    assert!(!res.text().contains(&big[..100]));
    let page = c
        .send(
            c.request(Method::POST, "/signin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("email={big}")),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(page.text().contains("could not be understood"), "{}", page.text());
    let problem = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": big, "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(problem["code"], "invalid_body", "{problem}");
    // A name within the body limit but beyond the field's is refused by the rule.
    api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "n".repeat(10_000), "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Malformed: deep nesting, invalid UTF-8, a truncated body, a wrong type.
    let deep = |open: &str, close: &str| format!("{}{}", open.repeat(10_000), close.repeat(10_000));
    for (body, expected) in [
        (deep("[", "]").into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (deep("{\"a\":", "}").into_bytes(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            format!("{{\"name\": {}}}", deep("[", "]")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (b"{\"name\": \"\xff\xfe\"}".to_vec(), StatusCode::BAD_REQUEST),
        (b"{\"name\": \"x\"".to_vec(), StatusCode::BAD_REQUEST),
        (
            br#"{"name": 1, "integration_type": "api_key"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let token = crate::identity::helpers::csrf(&w.admin.client).await;
        w.admin
            .client
            .send(
                w.admin
                    .client
                    .request(Method::POST, "/api/v1/integrations")
                    .header("x-csrf-token", token)
                    .header("content-type", "application/json")
                    .body(body),
                expected,
            )
            .await;
    }
    // A token endpoint form that is not UTF-8 names no client; a bearer token far beyond any real
    // one is refused unread.
    let res = c
        .send(
            c.request(Method::POST, "/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"grant_type=client_credentials&client_id=%FF%FE\xff".to_vec()),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert_eq!(res.json_value()["error"], "invalid_client", "no such client");
    let huge = format!("{}.{}.{}", "a".repeat(20_000), "b".repeat(20_000), "c".repeat(20_000));
    c.send(
        c.request(Method::GET, "/api/v1/integrations").bearer_auth(huge),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Nothing was created by any of it; a well-formed request still works.
    let list = api(
        &w.admin.client,
        Method::GET,
        "/api/v1/integrations",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(!list.to_string().contains("\"name\":\"n"), "{list}");
    api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Fine", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn markup_in_names_is_escaped_on_every_page_that_shows_it() {
    let w = world().await;
    let name = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let created = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": name, "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    for path in [
        format!("/console/integrations/{id}"),
        "/console/integrations".to_owned(),
    ] {
        let page = w.admin.client.get(&path, StatusCode::OK).await;
        let html = page.text();
        assert!(!html.contains("<script>alert(2)"), "{path}: {html}");
        assert!(!html.contains("<img src=x"), "{path}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(2)") || html.contains("&#60;script&#62;alert(2)"),
            "{path}: {html}"
        );
    }
    // A reflected value: the sign-in page's return_to is escaped into its form.
    let page = w
        .server
        .new_client()
        .get(
            "/signin?return_to=%2F%22%3E%3Cscript%3Ealert(3)%3C%2Fscript%3E",
            StatusCode::OK,
        )
        .await;
    assert!(!page.text().contains("<script>alert(3)"), "{}", page.text());
}

#[tokio::test]
async fn a_planted_session_cookie_is_never_adopted_by_a_sign_in() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    // The attacker's own session, planted in the victim's browser, and a value of their choosing.
    let (attacker, _) = signed_in(&server, "mallory@example.com").await;
    let attackers = attacker.cookie("gatehouse_session").unwrap();
    for planted in [attackers.clone(), "f".repeat(64)] {
        let victim = server.new_client();
        victim.set_cookie("gatehouse_session", &planted);
        post(
            &victim,
            "/signin",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            StatusCode::SEE_OTHER,
        )
        .await;
        let issued = victim.cookie("gatehouse_session").unwrap();
        assert_ne!(issued, planted, "the sign-in issued a session of its own");
        // The planted value does not carry the victim's sign-in.
        let with_planted = server.new_client();
        with_planted.set_cookie("gatehouse_session", &planted);
        // The planted value opens nothing now: a sign-in ends the session its browser held.
        with_planted.get("/console/account", StatusCode::SEE_OTHER).await;
        let page = victim.get("/console/account", StatusCode::OK).await.text();
        assert!(page.contains("ada@example.com"), "{page}");
    }
}

#[tokio::test]
async fn no_dynamic_client_registration_is_offered() {
    let server = TestServer::start().await;
    let c = server.client();
    for path in [
        "/.well-known/openid-configuration",
        "/ims/.well-known/openid-configuration",
    ] {
        let d = c.get(path, StatusCode::OK).await.json_value();
        assert!(d.get("registration_endpoint").is_none(), "{path}: {d}");
        assert!(d["token_endpoint"].is_string(), "{path}: {d}");
    }
    // The usual registration paths create nothing (RFC 7591 §3).
    let client = json!({
        "redirect_uris": ["https://evil.example/cb"],
        "client_name": "Totally Legit",
        "token_endpoint_auth_method": "none",
    });
    for path in ["/oauth/register", "/register", "/connect/register", "/oauth/clients"] {
        let res = c.request(Method::POST, path).json(&client).send().await.unwrap();
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&res.status()),
            "{path}: {}",
            res.status()
        );
    }
}

#[tokio::test]
async fn a_forged_forwarding_header_is_not_taken_for_the_client_address() {
    use gatehouse_store::AuditStore;
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    // A failed and a successful sign-in, each claiming to come from elsewhere.
    for (password, expected) in [
        ("not the password", StatusCode::UNPROCESSABLE_ENTITY),
        (PASSWORD, StatusCode::SEE_OTHER),
    ] {
        let c = server.new_client();
        let token = crate::identity::helpers::csrf(&c).await;
        c.send(
            c.request(Method::POST, "/signin")
                .header("x-forwarded-for", "203.0.113.9")
                .header("x-real-ip", "203.0.113.9")
                .header("forwarded", "for=203.0.113.9")
                .form(&[
                    ("email", "ada@example.com"),
                    ("password", password),
                    ("csrf_token", token.as_str()),
                ]),
            expected,
        )
        .await;
    }
    // The audit log records the peer the connection came from.
    let entries = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 50)
        .await
        .unwrap();
    let signins: Vec<_> = entries
        .iter()
        .filter(|r| r.entry.action.starts_with("signin"))
        .collect();
    assert!(signins.iter().any(|r| r.entry.action == "signin.failed"), "{signins:?}");
    for r in &signins {
        assert_eq!(r.entry.ip.as_deref(), Some("127.0.0.1"), "{:?}", r.entry);
    }
    assert!(!format!("{entries:?}").contains("203.0.113.9"), "{entries:?}");
}
