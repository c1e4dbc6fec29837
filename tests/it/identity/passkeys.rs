//! Passkeys end to end over HTTP, with `webauthn-authenticator-rs`'s `SoftPasskey` as the
//! authenticator: enrolment on the MFA page, passwordless sign-in, passkeys as the second factor,
//! and the server's refusals (replayed, expired, foreign and wrong-origin ceremonies, unknown,
//! removed and cloned credentials, no user verification). WebAuthn refuses IP addresses as relying
//! party IDs, so these servers' public URL is `http://localhost:<port>`.

use axum::http::{Method, StatusCode};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_domain::account::Account;
use gatehouse_store::{AuditStore, OrgStore, PasskeyStore, SessionStore};
use gatehouse_web::Clock;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::{WebauthnAuthenticator, softpasskey::SoftPasskey};
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

use super::helpers::*;
use crate::harness::server::{TestClient, TestResponse, TestServer};

type Authenticator = WebauthnAuthenticator<SoftPasskey>;

fn authenticator() -> Authenticator {
    // `true`: the soft authenticator reports user verification (as a device with a PIN would).
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

async fn localhost_server() -> TestServer {
    TestServer::start_with(|c| c.public_url = format!("http://localhost:{}", c.listen.port())).await
}

fn origin(server: &TestServer) -> Url {
    Url::parse(&server.state().settings.public_url).unwrap()
}

/// POSTs JSON with the client's CSRF token in the header, as `/static/passkeys.js` does.
async fn post_json(client: &TestClient, path: &str, body: &Value, expected: StatusCode) -> TestResponse {
    let token = csrf(client).await;
    let req = client
        .request(Method::POST, path)
        .header("x-csrf-token", token)
        .header("user-agent", "PasskeyTest/1.0")
        .json(body);
    client.send(req, expected).await
}

/// Adds a passkey named `name` to the signed-in client's account; returns its credential ID.
async fn register(client: &TestClient, auth: &mut Authenticator, origin: &Url, name: &str) -> String {
    let opts = post_json(
        client,
        "/console/account/mfa/passkeys/options",
        &json!({ "name": name }),
        StatusCode::OK,
    )
    .await
    .json_value();
    let cred = create(auth, origin, &opts);
    let id = cred["id"].as_str().unwrap().to_owned();
    let res = post_json(
        client,
        "/console/account/mfa/passkeys",
        &json!({ "ceremony": opts["ceremony"], "name": name, "credential": cred }),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(res.json_value()["redirect"], "/console/account/mfa?done=passkey_added");
    id
}

/// The soft authenticator's answer to registration options. It keeps no resident keys, so it is
/// not told that the options require one (a browser's authenticator is; see the browser test).
fn create(auth: &mut Authenticator, origin: &Url, opts: &Value) -> Value {
    let mut opts = opts.clone();
    assert_eq!(opts["publicKey"]["authenticatorSelection"]["residentKey"], "required");
    opts["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(false);
    let ccr: CreationChallengeResponse = serde_json::from_value(opts).unwrap();
    serde_json::to_value(auth.do_registration(origin.clone(), ccr).unwrap()).unwrap()
}

/// Starts a passwordless sign-in; returns the ceremony and the options.
async fn passwordless_options(client: &TestClient) -> (String, Value) {
    let opts = post_json(client, "/signin/passkey/options", &json!({}), StatusCode::OK)
        .await
        .json_value();
    (opts["ceremony"].as_str().unwrap().to_owned(), opts)
}

/// The soft authenticator's answer to a passwordless request. A browser finds a discoverable
/// credential by itself and returns its user handle; the soft authenticator needs the credential
/// named and returns no user handle, so both are filled in (the user handle is not signed).
fn answer_passwordless(
    auth: &mut Authenticator,
    origin: &Url,
    opts: &Value,
    cred_id: &str,
    account: &Account,
) -> Value {
    let mut opts = opts.clone();
    opts["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": cred_id }]);
    let rcr: RequestChallengeResponse = serde_json::from_value(opts).unwrap();
    let cred = auth.do_authentication(origin.clone(), rcr).unwrap();
    let mut v = serde_json::to_value(cred).unwrap();
    let handle = uuid::Uuid::parse_str(&account.id).unwrap();
    v["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    v
}

async fn passwordless(
    client: &TestClient,
    auth: &mut Authenticator,
    origin: &Url,
    cred_id: &str,
    account: &Account,
    expected: StatusCode,
) -> TestResponse {
    let (ceremony, opts) = passwordless_options(client).await;
    let credential = answer_passwordless(auth, origin, &opts, cred_id, account);
    post_json(
        client,
        "/signin/passkey",
        &json!({ "ceremony": ceremony, "credential": credential, "return_to": "/console/account" }),
        expected,
    )
    .await
}

fn code(res: &TestResponse) -> String {
    res.json_value()["code"].as_str().unwrap_or_default().to_owned()
}

async fn audit_actions(server: &TestServer) -> Vec<Value> {
    let mut c = server.store().conn().await.unwrap();
    c.recent_audit(None, 200)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let e = r.entry;
            json!({ "action": e.action, "actor": e.actor, "ip": e.ip, "user_agent": e.user_agent, "details": e.details })
        })
        .collect()
}

async fn audit_entry(server: &TestServer, action: &str) -> Value {
    audit_actions(server)
        .await
        .into_iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in the audit log"))
}

#[tokio::test]
async fn passkey_enrolment_then_passwordless_and_second_factor_sign_in() {
    let server = localhost_server().await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();

    let page = client.get("/console/account/mfa", StatusCode::OK).await.text();
    assert!(page.contains("You have no passkeys yet."), "{page}");
    assert!(page.contains("data-passkey=\"register\"") && page.contains("/static/passkeys.js"));
    let script = client.get("/static/passkeys.js", StatusCode::OK).await;
    assert!(script.text().contains("navigator.credentials.create"));

    // A name is needed before the device is asked; the CSRF header is required.
    let res = post_json(
        &client,
        "/console/account/mfa/passkeys/options",
        &json!({ "name": "  " }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_name_missing");
    let req = client
        .request(Method::POST, "/console/account/mfa/passkeys/options")
        .json(&json!({ "name": "Laptop" }));
    assert_eq!(code(&client.send(req, StatusCode::FORBIDDEN).await), "csrf_failed");

    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;
    let page = client
        .get("/console/account/mfa?done=passkey_added", StatusCode::OK)
        .await
        .text();
    assert!(
        page.contains("<strong>Laptop</strong>") && page.contains("not used yet"),
        "{page}"
    );
    assert!(page.contains("The passkey has been added."));
    let added = audit_entry(&server, "mfa.passkey_added").await;
    assert_eq!(added["actor"], format!("account:{}", acc.id));
    assert_eq!(added["ip"], "127.0.0.1");
    assert_eq!(added["user_agent"], "PasskeyTest/1.0", "{added}");
    let status = client.get("/api/v1/account/mfa", StatusCode::OK).await.json_value();
    assert_eq!(status["passkeys"], 1);

    // Passwordless: a new browser, no email, no password.
    let browser = server.new_client();
    let page = browser.get("/signin", StatusCode::OK).await.text();
    assert!(page.contains("Sign in with a passkey") && page.contains("data-passkey=\"signin\""));
    let res = passwordless(&browser, &mut auth, &origin, &cred_id, &acc, StatusCode::OK).await;
    assert_eq!(res.json_value()["redirect"], "/console/account");
    browser.get("/console/account", StatusCode::OK).await;
    let entry = audit_entry(&server, "signin.succeeded").await;
    assert_eq!(entry["details"]["amr"], json!(["hwk"]), "{entry}");
    let sessions = server
        .store()
        .conn()
        .await
        .unwrap()
        .sessions_of_account(&acc.id)
        .await
        .unwrap();
    assert!(
        sessions
            .iter()
            .any(|s| s.auth_methods == vec![gatehouse_domain::identity::session::AuthMethod::Passkey])
    );
    let used = server
        .store()
        .conn()
        .await
        .unwrap()
        .passkey_by_credential_id(&cred_id)
        .await
        .unwrap()
        .unwrap();
    assert!(used.last_used_at.is_some());

    // Second factor: the password now leads to the passkey step.
    let browser = server.new_client();
    let res = post(
        &browser,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(res.header("location"), Some("/signin/mfa"));
    let page = browser.get("/signin/mfa", StatusCode::OK).await.text();
    assert!(page.contains("Use your passkey"), "{page}");
    assert!(!page.contains("name=\"code\""), "no TOTP form without TOTP:\n{page}");
    let opts = post_json(&browser, "/signin/mfa/passkey/options", &json!({}), StatusCode::OK)
        .await
        .json_value();
    let rcr: RequestChallengeResponse = serde_json::from_value(opts.clone()).unwrap();
    let cred = auth.do_authentication(origin.clone(), rcr).unwrap();
    let res = post_json(
        &browser,
        "/signin/mfa/passkey",
        &json!({ "ceremony": opts["ceremony"], "credential": cred }),
        StatusCode::OK,
    )
    .await;
    assert_eq!(res.json_value()["redirect"], "/console");
    browser.get("/console/account", StatusCode::OK).await;
    let entry = audit_entry(&server, "signin.succeeded").await;
    assert_eq!(entry["details"]["amr"], json!(["pwd", "hwk", "mfa"]), "{entry}");

    // Without the pending sign-in, the second-factor step is refused.
    let stranger = server.new_client();
    let res = post_json(
        &stranger,
        "/signin/mfa/passkey/options",
        &json!({}),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(code(&res), "signin_expired");
}

#[tokio::test]
async fn passkey_ceremonies_refuse_replayed_foreign_and_wrong_origin_answers() {
    let server = localhost_server().await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;

    let browser = server.new_client();
    let (ceremony, opts) = passwordless_options(&browser).await;
    let credential = answer_passwordless(&mut auth, &origin, &opts, &cred_id, &acc);
    let body = json!({ "ceremony": ceremony, "credential": credential });
    post_json(&browser, "/signin/passkey", &body, StatusCode::OK).await;
    // The same answer again: the ceremony was used.
    let res = post_json(&browser, "/signin/passkey", &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(code(&res), "passkey_request_expired");
    // The old answer to a new ceremony: it signed another challenge.
    let (ceremony, _) = passwordless_options(&browser).await;
    let res = post_json(
        &browser,
        "/signin/passkey",
        &json!({ "ceremony": ceremony, "credential": credential }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_challenge_mismatch");

    // A ceremony started in one browser cannot be finished in another.
    let (ceremony, opts) = passwordless_options(&browser).await;
    let credential = answer_passwordless(&mut auth, &origin, &opts, &cred_id, &acc);
    let other = server.new_client();
    let res = post_json(
        &other,
        "/signin/passkey",
        &json!({ "ceremony": ceremony, "credential": credential }),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&res), "passkey_request_expired");

    // An answer made for another origin (a phishing site) is refused.
    let phishing = Url::parse(&format!("https://localhost:{}", origin.port().unwrap())).unwrap();
    let (ceremony, opts) = passwordless_options(&browser).await;
    let credential = answer_passwordless(&mut auth, &phishing, &opts, &cred_id, &acc);
    let res = post_json(
        &browser,
        "/signin/passkey",
        &json!({ "ceremony": ceremony, "credential": credential }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_wrong_site");
    let failed = audit_entry(&server, "signin.failed").await;
    assert_eq!(failed["details"]["reason"], "passkey_wrong_site", "{failed}");

    // A registration ceremony belongs to the session that started it, and is used once.
    let opts = post_json(
        &client,
        "/console/account/mfa/passkeys/options",
        &json!({ "name": "Phone" }),
        StatusCode::OK,
    )
    .await
    .json_value();
    let cred = create(&mut authenticator(), &origin, &opts);
    let (other_client, _) = signed_in(&server, "bob@example.com").await;
    let body = json!({ "ceremony": opts["ceremony"], "name": "Phone", "credential": cred });
    let res = post_json(
        &other_client,
        "/console/account/mfa/passkeys",
        &body,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&res), "passkey_request_expired");
    post_json(&client, "/console/account/mfa/passkeys", &body, StatusCode::CREATED).await;
    let res = post_json(&client, "/console/account/mfa/passkeys", &body, StatusCode::BAD_REQUEST).await;
    assert_eq!(code(&res), "passkey_request_expired");
    assert_eq!(
        server
            .store()
            .conn()
            .await
            .unwrap()
            .passkeys_of(&acc.id)
            .await
            .unwrap()
            .len(),
        2
    );
    // The same device cannot be registered twice: the options exclude it and a second
    // registration of the same credential is refused.
    let opts = post_json(
        &client,
        "/console/account/mfa/passkeys/options",
        &json!({ "name": "Again" }),
        StatusCode::OK,
    )
    .await
    .json_value();
    let excluded: Vec<&str> = opts["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(excluded.contains(&cred_id.as_str()), "{opts}");
}

#[tokio::test]
async fn passkey_ceremonies_expire_after_five_minutes() {
    let server = TestServer::start_with_clock(Clock::manual(1_800_000_000), |c| {
        c.public_url = format!("http://localhost:{}", c.listen.port())
    })
    .await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;
    let browser = server.new_client();
    let (ceremony, opts) = passwordless_options(&browser).await;
    let credential = answer_passwordless(&mut auth, &origin, &opts, &cred_id, &acc);
    server.state().clock.advance(301);
    let res = post_json(
        &browser,
        "/signin/passkey",
        &json!({ "ceremony": ceremony, "credential": credential }),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code(&res), "passkey_request_expired");
}

#[tokio::test]
async fn passkey_unknown_removed_and_cloned_credentials_are_refused() {
    let server = localhost_server().await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;

    // A credential this server never registered (made for another server on the same host).
    let elsewhere = localhost_server().await;
    let (other_client, _) = signed_in(&elsewhere, "ada@example.com").await;
    let mut stranger_auth = authenticator();
    let elsewhere_origin = self::origin(&elsewhere);
    let foreign_id = register(&other_client, &mut stranger_auth, &elsewhere_origin, "Other").await;
    let browser = server.new_client();
    let res = passwordless(
        &browser,
        &mut stranger_auth,
        &origin,
        &foreign_id,
        &acc,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_unknown");

    // Cloned: the stored counter is ahead of the authenticator's (another copy signed more).
    passwordless(&browser, &mut auth, &origin, &cred_id, &acc, StatusCode::OK).await;
    let stored = server
        .store()
        .conn()
        .await
        .unwrap()
        .passkey_by_credential_id(&cred_id)
        .await
        .unwrap()
        .unwrap();
    let mut doc: Value = serde_json::from_str(&stored.passkey).unwrap();
    assert_eq!(doc["cred"]["counter"], 1, "the counter was recorded: {doc}");
    doc["cred"]["counter"] = json!(50);
    let ahead = doc.to_string();
    assert!(
        server
            .store()
            .conn()
            .await
            .unwrap()
            .record_passkey_use(&stored.id, &stored.passkey, &ahead, 1)
            .await
            .unwrap()
    );
    let browser = server.new_client();
    let res = passwordless(
        &browser,
        &mut auth,
        &origin,
        &cred_id,
        &acc,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_possibly_cloned");
    assert!(browser.cookie("gatehouse_session").is_none());

    // Removed: needs the password, then the passkey no longer signs in.
    let res = post(
        &client,
        &format!("/console/account/mfa/passkeys/{}/remove", stored.id),
        &[("password", "wrong password")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("The password is incorrect."), "{}", res.text());
    let res = post(
        &client,
        &format!("/console/account/mfa/passkeys/{}/remove", stored.id),
        &[("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(
        res.header("location"),
        Some("/console/account/mfa?done=passkey_removed")
    );
    let removed = audit_entry(&server, "mfa.passkey_removed").await;
    assert_eq!(removed["details"]["passkey_id"], stored.id);
    let res = passwordless(
        &browser,
        &mut auth,
        &origin,
        &cred_id,
        &acc,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&res), "passkey_unknown");
    // And the password alone signs in again (no second factor left).
    assert_eq!(
        sign_in(&server.new_client(), "ada@example.com", PASSWORD).await,
        "/console"
    );
}

#[tokio::test]
async fn passkey_rename_and_remove_are_the_owners_and_keep_a_required_factor() {
    let server = localhost_server().await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    register(&client, &mut auth, &origin, "Laptop").await;
    let id = server.store().conn().await.unwrap().passkeys_of(&acc.id).await.unwrap()[0]
        .id
        .clone();

    let res = post(
        &client,
        &format!("/console/account/mfa/passkeys/{id}/rename"),
        &[("name", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let text = res.text();
    assert!(
        text.contains("Give the passkey a name") && text.contains("id=\"passkey-name\""),
        "{text}"
    );
    post(
        &client,
        &format!("/console/account/mfa/passkeys/{id}/rename"),
        &[("name", "Work laptop")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let renamed = audit_entry(&server, "mfa.passkey_renamed").await;
    assert_eq!(renamed["details"]["name"], "Work laptop");

    // Someone else cannot rename or remove it.
    let (bob, _) = signed_in(&server, "bob@example.com").await;
    post(
        &bob,
        &format!("/console/account/mfa/passkeys/{id}/rename"),
        &[("name", "Mine")],
        StatusCode::NOT_FOUND,
    )
    .await;
    post(
        &bob,
        &format!("/console/account/mfa/passkeys/{id}/remove"),
        &[("password", PASSWORD)],
        StatusCode::NOT_FOUND,
    )
    .await;

    // A member of an organization that requires two-step verification keeps their last factor.
    let mut org = crate::store::fixtures::org("Acme");
    org.require_mfa = true;
    let mut c = server.store().conn().await.unwrap();
    c.insert_org(&org).await.unwrap();
    c.upsert_membership(&crate::store::fixtures::membership(
        &org,
        &acc,
        gatehouse_domain::org::Role::Member,
    ))
    .await
    .unwrap();
    let page = client.get("/console/account/mfa", StatusCode::OK).await.text();
    assert!(
        !page.contains("requires two-step verification. Set it up"),
        "a passkey satisfies it"
    );
    let res = post(
        &client,
        &format!("/console/account/mfa/passkeys/{id}/remove"),
        &[("password", PASSWORD)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("this is your only second factor"), "{}", res.text());
    assert_eq!(c.passkeys_of(&acc.id).await.unwrap().len(), 1);

    // With an authenticator app as well, the passkey may go; and the second step then offers
    // both while both exist.
    super::mfa::enrol(&client, server.state().now()).await;
    let browser = server.new_client();
    post(
        &browser,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    let page = browser.get("/signin/mfa", StatusCode::OK).await.text();
    assert!(
        page.contains("Use your passkey") && page.contains("name=\"code\""),
        "{page}"
    );
    post(
        &client,
        &format!("/console/account/mfa/passkeys/{id}/remove"),
        &[("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(c.passkeys_of(&acc.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn passkey_sessions_put_hwk_in_id_tokens() {
    use crate::token::{
        decode,
        flow::{VERIFIER, authorize, authorize_url, oauth_app, redeem},
    };
    let server = localhost_server().await;
    let origin = origin(&server);
    let app = oauth_app(&server, gatehouse_domain::integration::Platform::Web).await;
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;

    let browser = server.new_client();
    passwordless(&browser, &mut auth, &origin, &cred_id, &acc, StatusCode::OK).await;
    let reply = authorize(&browser, &authorize_url("/oauth/authorize", &app, &[])).await;
    let tokens = redeem(
        &browser,
        "/oauth/token",
        &app,
        &reply["code"],
        Some(VERIFIER),
        StatusCode::OK,
    )
    .await;
    let (_, id) = decode(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["hwk"]));
    assert_eq!(id["sub"], acc.id.as_str());
}

#[tokio::test]
async fn passkey_failures_are_throttled_like_passwords() {
    // A stopped clock: the delay owed after the failures cannot run out during the test.
    let server = TestServer::start_with_clock(Clock::manual(1_800_000_000), |c| {
        c.public_url = format!("http://localhost:{}", c.listen.port())
    })
    .await;
    let origin = origin(&server);
    let (client, acc) = signed_in(&server, "ada@example.com").await;
    let mut auth = authenticator();
    let cred_id = register(&client, &mut auth, &origin, "Laptop").await;
    let phishing = Url::parse(&format!("https://localhost:{}", origin.port().unwrap())).unwrap();
    let browser = server.new_client();
    for _ in 0..6 {
        let res = passwordless(
            &browser,
            &mut auth,
            &phishing,
            &cred_id,
            &acc,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(code(&res), "passkey_wrong_site");
    }
    // Even a genuine answer now waits.
    let res = passwordless(
        &browser,
        &mut auth,
        &origin,
        &cred_id,
        &acc,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(code(&res), "too_many_attempts");
    assert!(
        res.json_value()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed attempts.")
    );
}

#[tokio::test]
async fn passkeys_are_not_offered_when_the_public_url_is_an_ip_address() {
    // The default test server's public URL is http://127.0.0.1:<port>.
    let server = TestServer::start().await;
    let browser = server.new_client();
    let page = browser.get("/signin", StatusCode::OK).await.text();
    assert!(!page.contains("Sign in with a passkey"), "{page}");
    let res = post_json(
        &browser,
        "/signin/passkey/options",
        &json!({}),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(code(&res), "passkeys_unavailable");
    let (client, _) = signed_in(&server, "ada@example.com").await;
    let page = client.get("/console/account/mfa", StatusCode::OK).await.text();
    assert!(page.contains("Passkeys cannot be added here") && !page.contains("data-passkey=\"register\""));
    let res = post_json(
        &client,
        "/console/account/mfa/passkeys/options",
        &json!({ "name": "Laptop" }),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(code(&res), "passkeys_unavailable");
}
