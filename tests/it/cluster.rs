//! Several nodes on one PostgreSQL database, as operators run them behind a load balancer: each
//! node here is a whole Gatehouse process state (its own caches, token verifier and background
//! jobs) on the same database, master key and public URL. Changes made on one node reach the
//! others' caches within 100 ms (PostgreSQL `NOTIFY`), and the sign-in throttles are counted once
//! for the whole cluster.
//!
//! PostgreSQL only: SQLite is one process by design. `scripts/test` runs this module in its
//! PostgreSQL pass (docs/testing.md).

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    audit::{Actor, AuditEntry},
    integration::IntegrationStatus,
};
use gatehouse_store::{AuditStore, IntegrationStore};
use gatehouse_web::Clock;
use serde_json::Value;

use crate::harness::{db::backend_name, server::TestServer};
use crate::identity::helpers::{PASSWORD, account, csrf, post};
use crate::token::{ServerToServer, server_to_server};

/// The bound on how long a change on one node may take to reach another node's caches.
const CONVERGENCE: Duration = Duration::from_millis(100);

async fn three_nodes() -> (TestServer, TestServer, TestServer) {
    three_nodes_with(Clock::system()).await
}

async fn three_nodes_with(clock: Clock) -> (TestServer, TestServer, TestServer) {
    assert_eq!(
        backend_name(),
        "postgres",
        "the cluster tests run on PostgreSQL (GATEHOUSE_TEST_BACKEND=postgres)"
    );
    let a = TestServer::start_with_clock(clock, |_| {}).await;
    let b = a.another_node().await;
    let c = a.another_node().await;
    (a, b, c)
}

async fn token(node: &TestServer, sa: &ServerToServer) -> String {
    let creds = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let body = node
        .client()
        .post_form("/oauth/token", &creds, StatusCode::OK)
        .await
        .json_value();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn active(node: &TestServer, sa: &ServerToServer, token: &str) -> bool {
    let form = [
        ("token", token),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let res = node
        .client()
        .request(Method::POST, "/oauth/introspect")
        .form(&form)
        .send()
        .await
        .unwrap();
    res.status() == StatusCode::OK && res.json::<Value>().await.unwrap()["active"] == true
}

/// How long until `node` stops accepting `token` (polled every 2 ms, up to 2 s).
async fn until_refused(node: &TestServer, sa: &ServerToServer, token: &str, since: Instant) -> Duration {
    while since.elapsed() < Duration::from_secs(2) {
        if !active(node, sa, token).await {
            return since.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    since.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn cluster_a_revocation_on_one_node_is_refused_by_the_others_within_100_ms() {
    let (a, b, c) = three_nodes().await;
    let sa = server_to_server(&a).await;
    let nodes = [&a, &b, &c];
    let mut seen = Vec::new();
    for trial in 0..9 {
        // Issued by one node, revoked at another, watched from the third.
        let (issuer, revoker, watcher) = (nodes[trial % 3], nodes[(trial + 1) % 3], nodes[(trial + 2) % 3]);
        let t = token(issuer, &sa).await;
        assert!(
            active(watcher, &sa, &t).await,
            "trial {trial}: every node accepts the token"
        );
        let form = [
            ("token", t.as_str()),
            ("client_id", sa.client_id.as_str()),
            ("client_secret", sa.secret.as_str()),
        ];
        revoker.client().post_form("/oauth/revoke", &form, StatusCode::OK).await;
        let started = Instant::now();
        seen.push(until_refused(watcher, &sa, &t, started).await);
    }
    eprintln!("revocation reached another node after (ms): {:?}", millis(&seen));
    let m = median(seen.clone());
    assert!(
        m <= CONVERGENCE,
        "half the revocations reach the other nodes within {CONVERGENCE:?}; median {m:?} of {:?}",
        millis(&seen)
    );
    assert!(
        seen.iter().all(|d| *d < Duration::from_secs(1)),
        "no revocation waits for the fallback interval: {:?}",
        millis(&seen)
    );
}

#[tokio::test]
async fn cluster_a_disabled_integration_is_refused_by_the_others_within_100_ms() {
    let (a, b, c) = three_nodes().await;
    let sa = server_to_server(&a).await;
    let t = token(&b, &sa).await;
    assert!(active(&b, &sa, &t).await && active(&c, &sa, &t).await);
    // Node A disables the integration (an audited change, as the console makes it).
    let mut disabled = sa.integration.clone();
    disabled.status = IntegrationStatus::Disabled;
    let mut tx = a.store().begin().await.unwrap();
    tx.update_integration(&disabled).await.unwrap();
    tx.append_audit(&AuditEntry::new(
        a.state().now(),
        &Actor::System,
        "test.disable",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let started = Instant::now();
    let (on_b, on_c) = tokio::join!(until_refused(&b, &sa, &t, started), until_refused(&c, &sa, &t, started));
    eprintln!("a disabled integration was refused by the other nodes after {on_b:?} and {on_c:?}");
    assert!(
        on_b <= CONVERGENCE && on_c <= CONVERGENCE,
        "the other nodes refuse the disabled integration's token within {CONVERGENCE:?}: {on_b:?}, {on_c:?}"
    );
}

#[tokio::test]
async fn cluster_three_nodes_together_allow_exactly_the_sign_in_attempts_of_one() {
    // Time stands still, so the first delay does not run out while the attempts are made.
    let (a, b, c) = three_nodes_with(Clock::manual(1_800_000_000)).await;
    account(&a, "ada@example.com").await;
    let clients = [a.new_client(), b.new_client(), c.new_client()];
    let wrong = [("email", "ada@example.com"), ("password", "wrong password!")];
    // Five free failures and a sixth that earns the first delay, spread over the nodes.
    for i in 0..6 {
        post(&clients[i % 3], "/signin", &wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Now every node makes the next attempt wait, even with the right password.
    for client in &clients {
        let res = post(
            client,
            "/signin",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
        assert!(res.text().contains("Too many failed attempts"), "{}", res.text());
    }
}

#[tokio::test]
async fn cluster_concurrent_attempts_on_three_nodes_cannot_slip_past_the_limit() {
    let (a, b, c) = three_nodes_with(Clock::manual(1_800_000_000)).await;
    account(&a, "ada@example.com").await;
    let clients = [a.new_client(), b.new_client(), c.new_client()];
    let wrong = [("email", "ada@example.com"), ("password", "wrong password!")];
    // 24 wrong passwords at once, 8 on each node: each attempt is counted before its password is
    // checked, so exactly the six the policy lets through in this second are checked.
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..24 {
        let client = &clients[i % 3];
        let token = csrf(client).await;
        let mut fields: Vec<(&str, String)> = wrong.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let cookie = format!("gatehouse_csrf={token}");
        fields.push(("csrf_token", token));
        let request = client
            .request(Method::POST, "/signin")
            .header(axum::http::header::COOKIE, cookie)
            .form(&fields);
        attempts.spawn(async move { request.send().await.unwrap().status() });
    }
    let statuses: Vec<StatusCode> = attempts.join_all().await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let waited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + waited, 24, "{statuses:?}");
    assert!(
        checked == 6,
        "the cluster checked {checked} passwords in one burst; the policy allows six: {statuses:?}"
    );
}

fn millis(v: &[Duration]) -> Vec<u128> {
    v.iter().map(Duration::as_millis).collect()
}

/// Runs `scripts/cluster` with this test's binary, state directory, ports and database.
struct ScriptedCluster {
    dir: tempfile::TempDir,
    port: u16,
    db: String,
    pg: reqwest::Url,
}

impl ScriptedCluster {
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(crate::harness::browser::repo().join("scripts/cluster"));
        cmd.args(args)
            .env("CLUSTER_BIN", env!("CARGO_BIN_EXE_gatehouse"))
            .env("CLUSTER_DIR", self.dir.path())
            .env("CLUSTER_PORT", self.port.to_string())
            .env("CLUSTER_DB", &self.db)
            .env("GH_PG_HOST", self.pg.host_str().unwrap_or("127.0.0.1"))
            .env("GH_PG_PORT", self.pg.port().unwrap_or(5432).to_string())
            .env("GH_PG_USER", self.pg.username());
        cmd
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn node_url(&self, n: u16, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + n)
    }
}

impl Drop for ScriptedCluster {
    fn drop(&mut self) {
        let _ = self.command(&["destroy"]).output();
    }
}

/// Four consecutive free ports: the load balancer's and the three nodes'.
pub(crate) fn free_ports() -> u16 {
    for _ in 0..50 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base < 60_000 && (0..4).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no four consecutive free ports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_the_cluster_script_runs_three_nodes_behind_haproxy_that_survive_a_crash() {
    let found = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .map_err(|e| format!("haproxy ({e}; apt install haproxy)"));
    let Some(_) = crate::harness::require_tool(found) else {
        return;
    };
    assert_eq!(backend_name(), "postgres", "the cluster tests run on PostgreSQL");
    let pg = reqwest::Url::parse(&std::env::var("GATEHOUSE_TEST_POSTGRES_URL").unwrap()).unwrap();
    let cluster = ScriptedCluster {
        dir: tempfile::tempdir().unwrap(),
        port: free_ports(),
        db: format!("gh_t_cluster_{}", uuid::Uuid::new_v4().simple()),
        pg,
    };
    let started = tokio::task::block_in_place(|| cluster.command(&["start"]).output().unwrap());
    assert!(
        started.status.success(),
        "scripts/cluster start failed:\n{}{}",
        String::from_utf8_lossy(&started.stdout),
        String::from_utf8_lossy(&started.stderr)
    );
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(&url).send().await }
    };
    // One issuer and one key set, whichever node answers.
    let discovery: Value = get(cluster.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], cluster.url(""));
    let jwks_path = reqwest::Url::parse(discovery["jwks_uri"].as_str().unwrap())
        .unwrap()
        .path()
        .to_owned();
    let mut key_sets = Vec::new();
    for n in 1..=3 {
        let keys: Value = get(cluster.node_url(n, &jwks_path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        key_sets.push(keys);
    }
    assert!(
        key_sets.windows(2).all(|w| w[0] == w[1]),
        "every node publishes the same keys: {key_sets:?}"
    );

    // A node dies: the load balancer keeps answering from the others.
    tokio::task::block_in_place(|| crate::deploy::run(&mut cluster.command(&["kill", "2"])));
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(
            get(cluster.url("/readyz"))
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0),
        );
    }
    assert!(
        statuses.iter().all(|s| *s == 200),
        "requests during the crash: {statuses:?}"
    );
    tokio::task::block_in_place(|| crate::deploy::run(&mut cluster.command(&["restart", "2"])));
    assert_eq!(
        get(cluster.node_url(2, "/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cluster_signing_keys_rotate_without_a_token_any_node_cannot_verify() {
    let clock = Clock::manual(1_800_000_000);
    let (a, b, c) = three_nodes_with(clock.clone()).await;
    let sa = server_to_server(&a).await;
    let nodes = [&a, &b, &c];
    let mut kids = std::collections::BTreeSet::new();
    // Ten days at a time across 80 days: the default schedule signs with a key for 30 days, and
    // publishes the next one a whole period ahead.
    for step in 0..9 {
        let mut tokens = Vec::new();
        for node in nodes {
            let t = token(node, &sa).await;
            let (header, _) = crate::token::decode(&t);
            kids.insert(header["kid"].as_str().unwrap().to_owned());
            tokens.push((header["kid"].as_str().unwrap().to_owned(), t));
        }
        for node in nodes {
            let jwks: Value = node.client().get("/oauth/jwks", StatusCode::OK).await.json_value();
            let published: Vec<&str> = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|k| k["kid"].as_str())
                .collect();
            for (kid, t) in &tokens {
                assert!(
                    published.contains(&kid.as_str()),
                    "day {}: {} does not publish the key {kid} another node signs with: {published:?}",
                    step * 10,
                    node.base_url()
                );
                assert!(
                    active(node, &sa, t).await,
                    "day {}: a token signed with {kid} is refused",
                    step * 10
                );
            }
        }
        clock.advance(10 * 86_400);
    }
    assert!(kids.len() >= 3, "the keys rotated at least twice: {kids:?}");
}

#[tokio::test]
async fn cluster_a_session_works_and_ends_whichever_node_a_request_lands_on() {
    let (a, b, c) = three_nodes().await;
    let (on_a, account) = crate::identity::helpers::signed_in(&a, "ada@example.com").await;
    // The same browser, its next requests sent to the other nodes by the load balancer.
    let session = on_a.cookie("gatehouse_session").expect("a session cookie");
    let csrf = csrf(&on_a).await;
    let (on_b, on_c) = (b.new_client(), c.new_client());
    for client in [&on_b, &on_c] {
        client.set_cookie("gatehouse_session", &session);
        client.set_cookie("gatehouse_csrf", &csrf);
    }
    let page = on_b.get("/console/account", StatusCode::OK).await.text();
    assert!(
        page.contains(account.email.as_str()),
        "node B knows the session node A started"
    );
    // Signing out on node C ends the session for every node.
    post(&on_c, "/signout", &[], StatusCode::SEE_OTHER).await;
    for client in [&on_a, &on_b] {
        let res = client.get("/console/account", StatusCode::SEE_OTHER).await;
        assert!(
            res.header("location").unwrap().starts_with("/signin"),
            "{:?}",
            res.header("location")
        );
    }
}

/// Calls `/services/docs/` on `node` with the API Key integration of `w`; the answer's status.
async fn gateway_call(node: &TestServer, w: &crate::gateway::World) -> StatusCode {
    node.client()
        .request(Method::GET, "/services/docs/")
        .header("x-api-key", &w.key.client_id)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn cluster_three_nodes_share_one_per_second_rate_at_the_gateway() {
    use gatehouse_domain::{
        gateway::{GatewaySettings, Limits},
        service::ActsFor,
    };
    assert_eq!(backend_name(), "postgres", "the cluster tests run on PostgreSQL");
    let clock = Clock::manual(1_800_000_000);
    let a = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let limits = Limits {
        per_second: Some(6),
        burst: Some(6),
        ..Limits::default()
    };
    let w = crate::gateway::World::on(
        a,
        ActsFor::Organization,
        GatewaySettings {
            limits,
            ..GatewaySettings::default()
        },
    )
    .await;
    let (b, c) = (w.server.another_node().await, w.server.another_node().await);
    let nodes = [&w.server, &b, &c];
    for round in 0..2 {
        // 30 calls at once, 10 on each node: each node's own bucket would let 6 through (18 in
        // all); the cluster's budget for the second lets exactly 6.
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..30 {
            let node = nodes[i % 3];
            let request = node
                .client()
                .request(Method::GET, "/services/docs/")
                .header("x-api-key", &w.key.client_id);
            calls.spawn(async move { request.send().await.unwrap().status() });
        }
        let statuses: Vec<StatusCode> = calls.join_all().await;
        let allowed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!(allowed + limited, 30, "{statuses:?}");
        assert_eq!(
            allowed, 6,
            "round {round}: three nodes let {allowed} calls through in one second"
        );
        // The next second: the shared budget starts over, and each node's bucket refills.
        clock.advance(1);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(w.upstream.count(), 12);
    // The positive control: one node alone, with the budget to itself, is limited by its bucket only.
    let alone: Vec<StatusCode> = {
        let mut v = Vec::new();
        for _ in 0..8 {
            v.push(gateway_call(&b, &w).await);
        }
        v
    };
    assert_eq!(alone.iter().filter(|s| **s == StatusCode::OK).count(), 6, "{alone:?}");
}

#[tokio::test]
async fn cluster_three_nodes_share_one_daily_quota_at_the_gateway() {
    use gatehouse_domain::{
        gateway::{GatewaySettings, Limits},
        service::ActsFor,
    };
    assert_eq!(backend_name(), "postgres", "the cluster tests run on PostgreSQL");
    let w = crate::gateway::World::on(
        TestServer::start().await,
        ActsFor::Organization,
        GatewaySettings {
            limits: Limits {
                per_day: Some(10),
                ..Limits::default()
            },
            ..GatewaySettings::default()
        },
    )
    .await;
    let (b, c) = (w.server.another_node().await, w.server.another_node().await);
    let nodes = [&w.server, &b, &c];
    // Round robin over the nodes, each node adding its counts to the store after every call (as
    // its flush does every 2 s): the whole cluster admits exactly the quota.
    let mut allowed = 0;
    for i in 0..21 {
        if gateway_call(nodes[i % 3], &w).await == StatusCode::OK {
            allowed += 1;
        }
        for node in nodes {
            gatehouse_core::gateway::flush_usage(node.state()).await.unwrap();
        }
    }
    assert_eq!(
        allowed, 10,
        "three nodes admitted {allowed} calls on a daily quota of 10"
    );
    assert_eq!(w.upstream.count(), 10);
}

#[tokio::test]
async fn cluster_three_nodes_together_send_exactly_the_mail_one_node_would() {
    use crate::identity::helpers::outbox;
    assert_eq!(backend_name(), "postgres", "the cluster tests run on PostgreSQL");
    let limits = |c: &mut gatehouse_app::config::Config| c.mail_limits.per_recipient = 3;
    let a = TestServer::start_with(limits).await;
    let b = a.another_node_with(limits).await;
    let c = a.another_node_with(limits).await;
    account(&a, "ada@example.com").await;
    let nodes = [&a, &b, &c];
    // Twelve reset requests for one address, four on each node: three messages in all.
    for i in 0..12 {
        let client = nodes[i % 3].new_client();
        post(
            &client,
            "/password-reset",
            &[("email", "ada@example.com")],
            StatusCode::OK,
        )
        .await;
    }
    let mut sent = 0;
    for node in nodes {
        sent += outbox(node)
            .await
            .iter()
            .filter(|m| m.contains("ada@example.com"))
            .count();
    }
    assert_eq!(
        sent, 3,
        "three nodes mailed {sent} messages; the limit per recipient is 3"
    );
}
