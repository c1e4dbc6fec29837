//! Browser-like steps shared by the identity tests: sign-up, reading links from the outbox,
//! signing in, creating accounts directly in the store.

use axum::http::StatusCode;
use gatehouse_domain::{
    account::{Account, AccountType, Email},
    ids::new_row_id,
    password,
};
use gatehouse_store::AccountStore;

use crate::harness::server::{TestClient, TestResponse, TestServer, form_field};

pub const PASSWORD: &str = "violet tractor harbour 42";

/// The CSRF token of `client`, fetching a page first when it has none yet.
pub async fn csrf(client: &TestClient) -> String {
    if let Some(t) = client.cookie("gatehouse_csrf") {
        return t;
    }
    client.get("/password-reset", StatusCode::OK).await;
    client.cookie("gatehouse_csrf").expect("a CSRF cookie")
}

/// Posts a form with the client's CSRF token added.
pub async fn post(client: &TestClient, path: &str, fields: &[(&str, &str)], expected: StatusCode) -> TestResponse {
    let token = csrf(client).await;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", &token));
    client.post_form(path, &form, expected).await
}

fn outbox_now(server: &TestServer) -> Vec<std::path::PathBuf> {
    let dir = server.data_dir().join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
}

/// Every message in the outbox, oldest first, once the messages sent in the background have
/// landed: the outbox has stopped changing and holds no message half-written.
pub async fn outbox(server: &TestServer) -> Vec<String> {
    let mut before = outbox_now(server);
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        let now = outbox_now(server);
        let partial = now.iter().any(|p| p.extension().is_none_or(|e| e != "eml"));
        if now == before && !partial {
            break;
        }
        before = now;
    }
    before
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The path of the newest link in the outbox sent to `to` that contains `marker`.
pub async fn latest_link(server: &TestServer, to: &str, marker: &str) -> String {
    let base = server.base_url().to_owned();
    let mail = outbox(server).await;
    mail.iter()
        .rev()
        .filter(|m| m.contains(&format!("To: {to}")))
        .find_map(|m| {
            m.split_whitespace()
                .find(|w| w.starts_with(&base) && w.contains(marker))
                .map(|w| w.trim_start_matches(&base).to_owned())
        })
        .unwrap_or_else(|| panic!("no {marker} link to {to} in the outbox:\n{mail:#?}"))
}

/// Creates a verified personal account directly in the store; returns it.
pub async fn account(server: &TestServer, email: &str) -> Account {
    let now = server.state().now();
    let a = Account {
        id: new_row_id(&mut rand::thread_rng()),
        email: Email::parse(email).unwrap(),
        account_type: AccountType::Personal,
        display_name: email.split('@').next().unwrap().to_owned(),
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: true,
        password_hash: Some(password::hash(PASSWORD, &mut rand::thread_rng()).unwrap()),
        operator: false,
        disabled: false,
        owner_org_id: None,
        created_at: now,
        updated_at: now,
    };
    server.store().conn().await.unwrap().insert_account(&a).await.unwrap();
    a
}

/// Signs in with email and password in one post; expects the redirect and returns its target.
pub async fn sign_in(client: &TestClient, email: &str, pw: &str) -> String {
    let res = post(
        client,
        "/signin",
        &[("email", email), ("password", pw)],
        StatusCode::SEE_OTHER,
    )
    .await;
    res.header("location").unwrap().to_owned()
}

/// A signed-in client for a new verified account.
pub async fn signed_in(server: &TestServer, email: &str) -> (TestClient, Account) {
    let a = account(server, email).await;
    let client = server.new_client();
    assert_eq!(sign_in(&client, email, PASSWORD).await, "/console");
    (client, a)
}

pub fn hidden(html: &str, name: &str) -> String {
    form_field(html, name).unwrap_or_else(|| panic!("no field {name} in:\n{html}"))
}
