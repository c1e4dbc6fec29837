//! Durability of the real binary: events are published under load while the server process is
//! killed with SIGKILL again and again (during publishing and during delivery) and restarted;
//! every acknowledged event must reach the receiver at least once. Duplicates are counted and
//! reported: at-least-once delivery allows them, and receivers dedupe on `webhook-id`.
//!
//! The server runs as `gatehouse serve` (not in-process) with its own dispatcher, configured
//! through the environment (`GATEHOUSE_EVENTS__ALLOWED_NETWORKS` lets it reach the receiver).

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use gatehouse_domain::{ids::OrgId, org::Organization};
use gatehouse_store::Store;
use serde_json::{Value, json};
use tokio::{process::Child, sync::Mutex};

use super::client::event;
use crate::harness::{
    db::TestDatabase,
    fixtures::Fixtures,
    receiver::{Reply, TestReceiver},
};

const EVENTS: usize = 400;
const PUBLISHERS: usize = 4;
const KILLS: usize = 6;
const CODE: &str = "com.acme.durable.event";

struct Server {
    data_dir: PathBuf,
    database_url: Option<String>,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `gatehouse serve` and waits until it is ready.
    async fn start(&self, http: &reqwest::Client) -> Child {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        for (k, _) in std::env::vars() {
            if k.starts_with("GATEHOUSE_") {
                cmd.env_remove(k);
            }
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{}", self.port), "--data-dir"])
            .arg(&self.data_dir)
            .env("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
            .env("GATEHOUSE_EVENTS__DELIVERY_TIMEOUT", "1")
            .env("GATEHOUSE_LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        let child = cmd.spawn().expect("start gatehouse serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", self.base())).send().await
                && r.status() == StatusCode::OK
            {
                return child;
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready within a minute; see {:?}",
                self.log
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An organization with a service account and its secret, written straight into the database.
async fn provision(store: &Store) -> (String, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let org = Organization {
        id: OrgId::parse(&format!("{}@GatehouseOrg", &hex[..24])).unwrap(),
        name: "Durable".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let sa = Fixtures::new(store)
        .at(now)
        .server_to_server("Publisher")
        .new_org(&org)
        .secret()
        .insert()
        .await;
    let secret = sa.secret().to_owned();
    (sa.client_id, secret)
}

/// POSTs until the server answers (it may be down, being restarted); returns status and body.
pub(crate) async fn post_until_answered(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    api_key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    loop {
        let sent = http
            .post(url)
            .bearer_auth(token)
            .header("x-api-key", api_key)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(res) = sent {
            let status = res.status();
            if !status.is_server_error() {
                let v = res.json().await.unwrap_or(Value::Null);
                return (status, v);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_acknowledged_event_is_delivered_despite_repeated_sigkill() {
    let db = TestDatabase::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let postgres = db.url.starts_with("postgres");
    let server = Server {
        data_dir: data_dir.clone(),
        database_url: postgres.then(|| db.url.clone()),
        port: std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
        log: dir.path().join("server.log"),
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let receiver = TestReceiver::start().await;
    // Slow enough that kills land while deliveries are in flight.
    receiver.set_default(Reply::status(StatusCode::OK).delay(Duration::from_millis(20)));

    let child = Arc::new(Mutex::new(server.start(&http).await));
    // The binary migrated the database; provision straight into it.
    let store_url = if postgres {
        db.url.clone()
    } else {
        format!("sqlite://{}", data_dir.join("gatehouse.db").display())
    };
    let store = Store::connect(&store_url, 2).await.unwrap();
    let (client_id, secret) = provision(&store).await;
    store.close().await;

    let base = server.base();
    let token_res: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token_res["access_token"].as_str().unwrap().to_owned();
    let (s, provider) = post_until_answered(
        &http,
        &format!("{base}/api/v1/events/providers"),
        &token,
        &client_id,
        &json!({"label": "Durable"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{provider}");
    let provider = provider["id"].as_str().unwrap().to_owned();
    let url = format!("{base}/api/v1/events/providers/{provider}/event-types");
    let (s, _) = post_until_answered(
        &http,
        &url,
        &token,
        &client_id,
        &json!({"event_code": CODE, "label": "Durable"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let reg = json!({
        "name": "Durable hook", "delivery_method": "webhook", "webhook_url": receiver.url("/durable"),
        "events_of_interest": [{"provider_id": provider, "event_code": CODE}],
    });
    let (s, r) = post_until_answered(
        &http,
        &format!("{base}/api/v1/events/registrations"),
        &token,
        &client_id,
        &reg,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "active", "{r}");

    // Publishers: each event is retried until acknowledged (dedup by source + id makes a retry
    // of an event whose answer was lost harmless).
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut publishers = Vec::new();
    for p in 0..PUBLISHERS {
        let (http, base, token, client_id, provider, acknowledged) = (
            http.clone(),
            base.clone(),
            token.clone(),
            client_id.clone(),
            provider.clone(),
            acknowledged.clone(),
        );
        publishers.push(tokio::spawn(async move {
            for i in (p..EVENTS).step_by(PUBLISHERS) {
                let e = event(&provider, CODE, &format!("durable-{i}"), json!({"i": i}));
                let (s, body) =
                    post_until_answered(&http, &format!("{base}/api/v1/events/publish"), &token, &client_id, &e).await;
                assert_eq!(s, StatusCode::ACCEPTED, "{body}");
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    // The killer: SIGKILL while publishing and delivering, then restart.
    let killer = {
        let (child, done, acknowledged) = (child.clone(), done.clone(), acknowledged.clone());
        let server = Server {
            ..server_clone(&server)
        };
        let http = http.clone();
        tokio::spawn(async move {
            let mut kills = 0;
            while kills < KILLS && !done.load(Ordering::SeqCst) {
                let wait = if acknowledged.load(Ordering::SeqCst) < EVENTS {
                    400
                } else {
                    150
                };
                tokio::time::sleep(Duration::from_millis(wait)).await;
                let mut c = child.lock().await;
                c.start_kill().unwrap();
                let _ = c.wait().await;
                kills += 1;
                *c = server.start(&http).await;
            }
            kills
        })
    };
    for p in publishers {
        p.await.unwrap();
    }
    assert_eq!(acknowledged.load(Ordering::SeqCst), EVENTS);

    // Every event arrives, however many times.
    let deadline = Instant::now() + Duration::from_secs(if postgres { 120 } else { 60 });
    let (distinct, total) = loop {
        let posts: Vec<_> = receiver
            .requests()
            .into_iter()
            .filter(|q| q.method == axum::http::Method::POST)
            .collect();
        let ids: HashSet<String> = posts
            .iter()
            .map(|q| q.json()["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.len() == EVENTS || Instant::now() > deadline {
            break (ids, posts.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    done.store(true, Ordering::SeqCst);
    let kills = killer.await.unwrap();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for q in receiver
        .requests()
        .into_iter()
        .filter(|q| q.method == axum::http::Method::POST)
    {
        *per_id.entry(q.json()["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let duplicates = total - distinct.len();
    eprintln!(
        "durability ({}): {EVENTS} events acknowledged, {} delivered, {total} deliveries, {duplicates} duplicates, \
         {kills} SIGKILLs; most deliveries of one event: {}",
        if postgres { "postgres" } else { "sqlite" },
        distinct.len(),
        per_id.values().max().copied().unwrap_or(0)
    );
    let missing: Vec<usize> = (0..EVENTS)
        .filter(|i| !distinct.contains(&format!("durable-{i}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} events were never delivered: {missing:?}; server log: {:?}",
        missing.len(),
        server.log
    );
    assert!(kills >= 3, "the server was killed {kills} times");
}

fn server_clone(s: &Server) -> Server {
    Server {
        data_dir: s.data_dir.clone(),
        database_url: s.database_url.clone(),
        port: s.port,
        log: s.log.clone(),
    }
}
