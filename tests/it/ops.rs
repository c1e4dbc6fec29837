//! Operations: health and readiness, metrics, request IDs, error shapes outside any route, cache
//! invalidation, the first-administrator bootstrap page, and the `gatehouse` binary itself
//! (`serve` with zero configuration, a taken port, SIGTERM, an unwritable data directory, `migrate`).

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    account::Email,
    audit::{Actor, AuditEntry},
};
use gatehouse_store::{AccountStore, AuditStore};
use gatehouse_web::Clock;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::harness::{
    db::TestDatabase,
    receiver::{Reply, TestReceiver},
    server::{TestClient, TestServer, form_field},
};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start().await;
    let res = server.client().get("/healthz", StatusCode::OK).await;
    assert_eq!(res.text(), "ok");
}

#[tokio::test]
async fn readyz_reports_a_current_schema() {
    let server = TestServer::start().await;
    let res = server.client().get("/readyz", StatusCode::OK).await;
    let body = res.json_value();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["schema_version"], server.store().known_schema_version());
}

#[tokio::test]
async fn readyz_is_unavailable_without_the_database() {
    let server = TestServer::start().await;
    server.store().close().await;
    let res = server.client().get("/readyz", StatusCode::SERVICE_UNAVAILABLE).await;
    let body = res.json_value();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["reason"], "database_unreachable");
    // The process itself is still alive.
    server.client().get("/healthz", StatusCode::OK).await;
}

#[tokio::test]
async fn readyz_is_unavailable_when_the_schema_is_newer_than_this_build() {
    let server = TestServer::start().await;
    record_future_migration(&server.database().url).await;
    let res = server.client().get("/readyz", StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(res.json_value()["reason"], "schema_ahead");
}

#[tokio::test]
async fn metrics_count_requests_by_matched_route() {
    let server = TestServer::start().await;
    let client = server.client();
    let token = "ab".repeat(32);
    client.get(&format!("/setup/{token}"), StatusCode::GONE).await;
    client.get("/no/such/page", StatusCode::NOT_FOUND).await;
    client.get("/healthz", StatusCode::OK).await;
    let text = client.get("/metrics", StatusCode::OK).await.text();

    let line = |needles: &[&str]| {
        text.lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no metrics line with {needles:?} in:\n{text}"))
            .to_owned()
    };
    let setup = line(&[
        "gatehouse_http_requests_total{",
        "route=\"/setup/{token}\"",
        "status=\"410\"",
        "method=\"GET\"",
    ]);
    assert!(setup.ends_with(" 1"), "{setup}");
    line(&[
        "gatehouse_http_requests_total{",
        "route=\"unmatched\"",
        "status=\"404\"",
    ]);
    line(&["gatehouse_http_requests_total{", "route=\"/healthz\"", "status=\"200\""]);
    assert!(!text.contains(&token), "raw paths never become labels");
    assert!(!text.contains("/no/such/page"), "raw paths never become labels");
    line(&["gatehouse_http_request_duration_seconds_bucket{", "route=\"/healthz\""]);
    line(&["gatehouse_db_pool_connections{", "state=\"open\""]);
    line(&["gatehouse_db_pool_connections{", "state=\"idle\""]);
    line(&["gatehouse_catalog_generation"]);
}

#[tokio::test]
async fn request_ids_are_generated_or_echoed() {
    let server = TestServer::start().await;
    let client = server.client();
    let res = client.get("/healthz", StatusCode::OK).await;
    let generated = res.header("x-request-id").expect("a generated request ID");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let req = client
        .request(Method::GET, "/healthz")
        .header("x-request-id", "trace-me-42");
    let res = client.send(req, StatusCode::OK).await;
    assert_eq!(res.header("x-request-id"), Some("trace-me-42"));
}

#[tokio::test]
async fn unknown_paths_get_the_surface_error_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let res = client.get("/api/v1/nothing-here", StatusCode::NOT_FOUND).await;
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.json_value()["code"], "not_found");

    let res = client.get("/nothing-here", StatusCode::NOT_FOUND).await;
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(res.text().contains("Page not found"));

    let res = client
        .send(
            client.request(Method::DELETE, "/healthz"),
            StatusCode::METHOD_NOT_ALLOWED,
        )
        .await;
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn the_stylesheet_is_served() {
    let server = TestServer::start().await;
    let res = server.client().get("/static/gatehouse.css", StatusCode::OK).await;
    assert!(res.header("content-type").unwrap().starts_with("text/css"));
    assert!(res.text().contains(":focus-visible"));
}

#[tokio::test]
async fn caches_hear_about_changes_from_another_process_within_a_second() {
    let server = TestServer::start().await;
    let mut catalog = server.state().catalog.clone();
    let before = *catalog.borrow_and_update();

    // Another process (gatehouse apply, another node) commits an audited change.
    let other = server.database().connect().await;
    let mut tx = other.begin().await.unwrap();
    tx.append_audit(&AuditEntry::new(
        0,
        &Actor::Cli("apply"),
        "service.updated",
        "service:x",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(1), catalog.changed())
        .await
        .expect("the catalog generation changed within a second")
        .unwrap();
    assert!(*catalog.borrow() > before);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn the_test_receiver_records_requests_and_fails_on_demand() {
    let receiver = TestReceiver::start().await;
    receiver.respond_with(StatusCode::SERVICE_UNAVAILABLE, 2);
    receiver.enqueue(
        Reply::status(StatusCode::TOO_MANY_REQUESTS).header("retry-after", "7"),
        1,
    );
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..4 {
        let res = http
            .post(receiver.url(&format!("/hook?n={i}")))
            .header("x-signature", format!("sig-{i}"))
            .body(format!("{{\"n\":{i}}}"))
            .send()
            .await
            .unwrap();
        if i == 2 {
            assert_eq!(res.headers()["retry-after"], "7");
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [503, 503, 429, 200]);
    let got = receiver.wait_for(4, Duration::from_secs(1)).await;
    assert_eq!(got[1].path, "/hook?n=1");
    assert_eq!(got[1].header("x-signature"), Some("sig-1"));
    assert_eq!(got[3].json()["n"], 3);
}

// ---------------------------------------------------------------------------------------------
// The first administrator
// ---------------------------------------------------------------------------------------------

/// The path part of a bootstrap link.
fn path_of(link: &str, server: &TestServer) -> String {
    link.strip_prefix(server.base_url())
        .expect("the link is on the server")
        .to_owned()
}

/// GETs the setup page and returns its CSRF token (the cookie is now in the client's jar).
async fn open_setup_page(client: &TestClient, path: &str) -> String {
    let page = client.get(path, StatusCode::OK).await;
    let html = page.text();
    assert!(html.contains("<label for=\"email\">"), "{html}");
    assert!(html.contains("<label for=\"password\">"), "{html}");
    let token = form_field(&html, "csrf_token").expect("a CSRF field");
    assert_eq!(client.cookie("gatehouse_csrf").as_deref(), Some(token.as_str()));
    token
}

fn setup_form(csrf: Option<&str>, email: &str, password: &str, confirm: &str) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("email", email.to_owned()),
        ("display_name", "Ada Admin".to_owned()),
        ("password", password.to_owned()),
        ("password_confirm", confirm.to_owned()),
    ];
    if let Some(t) = csrf {
        form.push(("csrf_token", t.to_owned()));
    }
    form
}

async fn operator_count(server: &TestServer) -> i64 {
    server.store().conn().await.unwrap().count_operators().await.unwrap()
}

#[tokio::test]
async fn the_bootstrap_link_creates_the_first_administrator_once() {
    let server = TestServer::start().await;
    let link = server.bootstrap_link().await;
    assert!(link.starts_with(&format!("{}/setup/", server.base_url())), "{link}");
    let path = path_of(&link, &server);
    let client = server.client();
    let csrf = open_setup_page(client, &path).await;

    let created = client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "Ada@Example.com", PASSWORD, PASSWORD),
            StatusCode::SEE_OTHER,
        )
        .await;
    assert_eq!(created.header("location"), Some("/setup/complete"));
    let done = client.get("/setup/complete", StatusCode::OK).await.text();
    assert!(done.contains("You are signed in"), "{done}");
    // Completing the setup signed the administrator in: the home page and the operator area open.
    let home = client.get("/", StatusCode::OK).await.text();
    assert!(home.contains("Welcome, Ada Admin"), "{home}");
    client.get("/operator/status", StatusCode::OK).await;

    let mut conn = server.store().conn().await.unwrap();
    let account = conn
        .account_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .expect("the administrator exists");
    assert!(account.operator && account.email_verified && !account.disabled);
    assert_eq!(account.display_name, "Ada Admin");
    assert!(gatehouse_domain::password::verify(
        PASSWORD,
        account.password_hash.as_deref().unwrap()
    ));
    let audit = conn.recent_audit(None, 10).await.unwrap();
    let entry = audit
        .iter()
        .find(|r| r.entry.action == "account.created")
        .expect("an audit entry");
    assert_eq!(entry.entry.actor, format!("account:{}", account.id));
    assert_eq!(entry.entry.ip.as_deref(), Some("127.0.0.1"));

    // The link is spent: the page and the form both say so, and nothing more is created.
    let gone = client.get(&path, StatusCode::GONE).await;
    assert!(gone.text().contains("can no longer be used"));
    client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "eve@example.com", PASSWORD, PASSWORD),
            StatusCode::GONE,
        )
        .await;
    assert_eq!(operator_count(&server).await, 1);
}

#[tokio::test]
async fn the_setup_form_refuses_posts_without_the_csrf_token() {
    let server = TestServer::start().await;
    let path = path_of(&server.bootstrap_link().await, &server);
    let client = server.client();
    let csrf = open_setup_page(client, &path).await;

    let res = client
        .post_form(
            &path,
            &setup_form(None, "ada@example.com", PASSWORD, PASSWORD),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(
        res.text().contains("expired or was not sent from this site"),
        "{}",
        res.text()
    );
    client
        .post_form(
            &path,
            &setup_form(Some(&"0".repeat(64)), "ada@example.com", PASSWORD, PASSWORD),
            StatusCode::FORBIDDEN,
        )
        .await;
    // The right token in the form without the cookie (another site's forged post) is refused too.
    let stranger = server.new_client();
    stranger
        .post_form(
            &path,
            &setup_form(Some(&csrf), "ada@example.com", PASSWORD, PASSWORD),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(operator_count(&server).await, 0);

    // The link still works for the real form.
    client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "ada@example.com", PASSWORD, PASSWORD),
            StatusCode::SEE_OTHER,
        )
        .await;
    assert_eq!(operator_count(&server).await, 1);
}

#[tokio::test]
async fn invalid_setup_input_is_shown_on_the_form_and_keeps_the_link() {
    let server = TestServer::start().await;
    let path = path_of(&server.bootstrap_link().await, &server);
    let client = server.client();
    let csrf = open_setup_page(client, &path).await;

    let res = client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "ada@example.com", "too short", "too short"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    let html = res.text();
    assert!(html.contains("at least 12 characters"), "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"ada@example.com\""), "the email is kept: {html}");

    let res = client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "<script>@x", PASSWORD, "something else entirely"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    let html = res.text();
    assert!(!html.contains("<script>@x"), "input is escaped: {html}");
    assert!(html.contains("valid email address"), "{html}");
    assert_eq!(operator_count(&server).await, 0);

    client
        .post_form(
            &path,
            &setup_form(Some(&csrf), "ada@example.com", PASSWORD, PASSWORD),
            StatusCode::SEE_OTHER,
        )
        .await;
}

#[tokio::test]
async fn a_bootstrap_link_expires_after_24_hours() {
    let clock = Clock::manual(1_900_000_000);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let path = path_of(&server.bootstrap_link().await, &server);
    clock.advance(24 * 3600 - 1);
    server.client().get(&path, StatusCode::OK).await;
    clock.advance(1);
    server.client().get(&path, StatusCode::GONE).await;
}

#[tokio::test]
async fn expired_and_replaced_links_are_refused() {
    let server = TestServer::start().await;
    let now = server.state().now();
    let expired = gatehouse_web::setup::issue_bootstrap_link(server.store(), server.base_url(), now - 25 * 3600)
        .await
        .unwrap();
    server.client().get(&path_of(&expired, &server), StatusCode::GONE).await;

    let first = server.bootstrap_link().await;
    let second = server.bootstrap_link().await;
    server.client().get(&path_of(&first, &server), StatusCode::GONE).await;
    server.client().get(&path_of(&second, &server), StatusCode::OK).await;
    server.client().get("/setup/not-a-token", StatusCode::GONE).await;
}

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// `gatehouse <args>` with no GATEHOUSE_* variables from the test's own environment.
fn gatehouse(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("GATEHOUSE_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Database flags: none on SQLite (the data directory's default), the fresh database on PostgreSQL.
fn database_args(db: &TestDatabase) -> Vec<String> {
    if db.url.starts_with("postgres") {
        vec!["--database-url".to_owned(), db.url.clone()]
    } else {
        Vec::new()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn output_of(cmd: &mut Command) -> (bool, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the command finished within a minute")
        .expect("run gatehouse");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Reads the child's stdout until the bootstrap link appears.
async fn read_bootstrap_link(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(at) = line.find("http://") {
                return Some(line[at..].trim().to_owned());
            }
        }
        None
    })
    .await
    .expect("the bootstrap link within a minute");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found.expect("a bootstrap link on stdout")
}

#[tokio::test]
async fn serve_starts_with_zero_configuration_and_stops_on_sigterm() {
    let db = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("gatehouse-data");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["serve", "--listen", &listen, "--data-dir", data_dir.to_str().unwrap()];
    let db_args = database_args(&db);
    args.extend(db_args.iter().map(String::as_str));

    let mut server = gatehouse(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = server.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let link = read_bootstrap_link(&mut server).await;
    // On loopback the link names localhost, where passkeys work.
    assert!(
        link.starts_with(&format!("http://{}/setup/", listen.replace("127.0.0.1", "localhost"))),
        "{link}"
    );

    let mode = std::fs::metadata(data_dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "master.key mode {mode:o}");
    assert_eq!(
        std::fs::read_to_string(data_dir.join("master.key"))
            .unwrap()
            .trim()
            .len(),
        44
    );
    assert_private(&data_dir);
    if !db.url.starts_with("postgres") {
        assert!(data_dir.join("gatehouse.db").is_file());
    }

    let client = TestClient::new(&format!("http://{listen}"));
    client.get("/readyz", StatusCode::OK).await;
    client.get(&link, StatusCode::OK).await;

    // A second instance on the same port refuses to start and says why.
    let other_dir = dir.path().join("other");
    let (ok, _, err) = output_of(&mut gatehouse(&[
        "serve",
        "--listen",
        &listen,
        "--data-dir",
        other_dir.to_str().unwrap(),
    ]))
    .await;
    assert!(!ok, "the second instance must fail");
    assert!(
        err.contains(&format!("{listen} is already in use; choose another with --listen")),
        "{err}"
    );

    let pid = server.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .expect("stopped within 15 seconds of SIGTERM")
        .unwrap();
    let log = log.await.unwrap();
    assert!(status.success(), "exit status {status:?}; log:\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
}

#[tokio::test]
async fn sigterm_lets_the_requests_in_flight_finish() {
    let db = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("gatehouse-data");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["serve", "--listen", &listen, "--data-dir", data_dir.to_str().unwrap()];
    let db_args = database_args(&db);
    args.extend(db_args.iter().map(String::as_str));
    let mut server = gatehouse(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    read_bootstrap_link(&mut server).await;
    let base = format!("http://{listen}");

    // Sign-in attempts verify a password hash each (about 30 ms, two at a time): 24 of them keep the
    // server busy for a while after SIGTERM arrives.
    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/password-reset")).send().await.unwrap();
    let csrf = page
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("gatehouse_csrf=").and_then(|v| v.split(';').next()))
        .expect("a CSRF cookie")
        .to_owned();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..24 {
        let email = format!("nobody{i}@example.com");
        let request = http
            .post(format!("{base}/signin"))
            .header(reqwest::header::COOKIE, format!("gatehouse_csrf={csrf}"))
            .form(&[
                ("email", email.as_str()),
                ("password", "not the password"),
                ("csrf_token", csrf.as_str()),
            ]);
        attempts.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let pid = server.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    let answers = attempts.join_all().await;
    let status = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .expect("stopped within 15 seconds of SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    let failed: Vec<_> = answers.iter().filter(|a| a.is_err()).collect();
    assert!(
        failed.is_empty(),
        "every request in flight at SIGTERM got its answer: {answers:?}"
    );
    assert!(
        answers.iter().all(|a| matches!(a, Ok(s) if s.is_client_error())),
        "each attempt was answered as a wrong password (or a throttled one): {answers:?}"
    );
    // Afterwards the port is closed.
    assert!(http.get(format!("{base}/healthz")).send().await.is_err());
}

#[tokio::test]
async fn serve_refuses_an_unusable_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let data_dir = file.join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let (ok, _, err) = output_of(&mut gatehouse(&[
        "serve",
        "--listen",
        &listen,
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]))
    .await;
    assert!(!ok);
    assert!(err.contains("cannot create the data directory"), "{err}");
    assert!(err.contains("--data-dir"), "{err}");
}

#[tokio::test]
async fn serve_refuses_a_read_only_database() {
    let db = TestDatabase::fresh().await;
    db.store().await.close().await;
    let read_only = if db.url.starts_with("postgres") {
        format!("{}?options=-c%20default_transaction_read_only%3Don", db.url)
    } else {
        format!("{}?mode=ro", db.url)
    };
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let (ok, _, err) = output_of(&mut gatehouse(&[
        "serve",
        "--listen",
        &listen,
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &read_only,
    ]))
    .await;
    assert!(!ok);
    assert!(err.contains("is not writable"), "{err}");
}

#[tokio::test]
async fn serve_refuses_a_bad_configuration_with_the_key_named() {
    let (ok, _, err) = output_of(gatehouse(&["serve"]).env("GATEHOUSE_EVENTS__ALLOWED_NETWORK", "10.0.0.0/8")).await;
    assert!(!ok);
    assert!(err.contains("GATEHOUSE_EVENTS__ALLOWED_NETWORK"), "{err}");
}

#[tokio::test]
async fn migrate_reports_the_version_and_refuses_a_newer_schema() {
    let db = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut args = vec!["migrate", "--data-dir", data_dir.to_str().unwrap()];
    let db_args = database_args(&db);
    args.extend(db_args.iter().map(String::as_str));

    let (ok, out, err) = output_of(&mut gatehouse(&args)).await;
    assert!(ok, "{err}");
    assert!(out.contains("database schema is at version"), "{out}");
    let (ok, _, err) = output_of(&mut gatehouse(&args)).await;
    assert!(ok, "migrating twice is harmless: {err}");

    let url = if db.url.starts_with("postgres") {
        db.url.clone()
    } else {
        format!("sqlite://{}", data_dir.join("gatehouse.db").display())
    };
    record_future_migration(&url).await;
    let (ok, _, err) = output_of(&mut gatehouse(&args)).await;
    assert!(!ok);
    assert!(err.contains("newer than this Gatehouse"), "{err}");

    let listen = format!("127.0.0.1:{}", free_port());
    let mut serve = vec!["serve", "--listen", &listen];
    serve.extend_from_slice(&args[1..]);
    let (ok, _, err) = output_of(&mut gatehouse(&serve)).await;
    assert!(!ok);
    assert!(err.contains("refusing to start") && err.contains("newer"), "{err}");
}

/// Marks the database as migrated by a later Gatehouse (a migration this build does not know).
async fn record_future_migration(url: &str) {
    let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (99990101000000, 'from the future', TRUE, $1, 0)";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).bind(vec![0u8]).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).bind(vec![0u8]).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

fn assert_private(path: &Path) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{} mode {mode:o}", path.display());
}
