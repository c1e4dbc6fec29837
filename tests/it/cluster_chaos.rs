//! Chaos under load, on a cluster of the test's own: a PostgreSQL server initialised in a temporary
//! directory on its own port (so no other test loses its database when it restarts), three
//! `gatehouse serve` nodes and HAProxy started by `scripts/cluster`. While tokens are issued and
//! events published through the load balancer at a steady rate, nodes are killed with SIGKILL and
//! restarted, and PostgreSQL is restarted (fast shutdown, then start) twice. Afterwards every event
//! acknowledged with a 2xx was delivered at least once, every node is ready again, and the
//! client-visible error rate of each fault is reported. `bench/chaos` runs the same longer.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::Command,
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

use crate::cluster::free_ports;
use crate::deploy::run as run_ok;
use crate::events::{client::event, durability::post_until_answered};
use crate::harness::{
    browser::repo,
    fixtures::Fixtures,
    receiver::{Reply, TestReceiver},
    require_tool,
};

const CODE: &str = "com.acme.chaos.event";

/// A PostgreSQL server of the test's own, owned by the `postgres` system user (initdb refuses to
/// run as root).
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(bin: &Path, program: &str) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(bin.join(program));
    cmd
}

impl OwnPostgres {
    fn find() -> Result<PathBuf, String> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("PostgreSQL's server binaries (/usr/lib/postgresql: {e}; apt install postgresql)"))?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        versions.sort();
        let bin = versions.pop().ok_or("initdb (apt install postgresql)")?;
        Command::new("runuser")
            .arg("--help")
            .output()
            .map_err(|e| format!("runuser ({e})"))?;
        Ok(bin)
    }

    fn start(bin: PathBuf, port: u16) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-chaos-pg-")
            .tempdir()
            .unwrap();
        run_ok(&mut {
            let mut c = Command::new("chown");
            c.args(["-R", "postgres:postgres"]).arg(dir.path());
            c
        });
        let pg = Self { bin, dir, port };
        run_ok(&mut {
            let mut c = as_postgres(&pg.bin, "initdb");
            c.args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
                .arg(pg.data());
            c
        });
        pg.ctl(&["start", "-w"]);
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run_ok(&mut {
            let mut c = as_postgres(&self.bin, "pg_ctl");
            c.arg("-D")
                .arg(self.data())
                .args(["-o", &options, "-l"])
                .arg(self.dir.path().join("postgres.log"))
                .args(args);
            c
        });
    }

    /// A fast shutdown (every connection is cut), then a start.
    fn restart(&self) {
        self.ctl(&["restart", "-m", "fast", "-w"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-m", "immediate"])
            .output();
    }
}

/// `scripts/cluster` on the test's own PostgreSQL.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    pg_port: u16,
}

impl Cluster {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(repo().join("scripts/cluster"));
        for (k, _) in std::env::vars() {
            if k.starts_with("GATEHOUSE_") {
                cmd.env_remove(k);
            }
        }
        cmd.args(args)
            .env("CLUSTER_BIN", env!("CARGO_BIN_EXE_gatehouse"))
            .env("CLUSTER_DIR", self.dir.path())
            .env("CLUSTER_PORT", self.port.to_string())
            .env("CLUSTER_DB", "gatehouse")
            .env("GH_PG_HOST", "127.0.0.1")
            .env("GH_PG_PORT", self.pg_port.to_string())
            .env("GH_PG_USER", "postgres")
            // Passed on to the nodes: the receiver is on loopback, and a delivery in flight when
            // its node dies is given back after a second.
            .env("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
            .env("GATEHOUSE_EVENTS__DELIVERY_TIMEOUT", "1");
        cmd
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/gatehouse", self.pg_port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command(&["stop"]).output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Client-visible outcomes of the steady token load during one phase.
#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
}

/// A running cluster of the test's own with a publisher's credentials, an event provider and a
/// webhook registration to `receiver`; `None` when a tool is missing and skipping is allowed.
struct Setup {
    pg: OwnPostgres,
    cluster: Cluster,
    http: reqwest::Client,
    token: String,
    client_id: String,
    secret: String,
    provider: String,
    receiver: TestReceiver,
}

async fn setup() -> Option<Setup> {
    let bin = require_tool(OwnPostgres::find())?;
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .map_err(|e| format!("haproxy ({e})"));
    require_tool(found)?;
    let pg = tokio::task::block_in_place(|| OwnPostgres::start(bin, free_port()));
    let cluster = Cluster {
        dir: tempfile::tempdir().unwrap(),
        port: free_ports(),
        pg_port: pg.port,
    };
    tokio::task::block_in_place(|| run_ok(&mut cluster.command(&["start"])));

    let store = Store::connect(&cluster.database_url(), 2).await.unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let org = Organization {
        id: OrgId::parse(&format!("{}@GatehouseOrg", &hex[..24])).unwrap(),
        name: "Chaos".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let sa = Fixtures::new(&store)
        .at(now)
        .server_to_server("Publisher")
        .new_org(&org)
        .secret()
        .insert()
        .await;
    let (client_id, secret) = (sa.client_id.clone(), sa.secret().to_owned());
    store.close().await;

    let http = reqwest::Client::new();
    let token: Value = http
        .post(cluster.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let receiver = TestReceiver::start().await;
    receiver.set_default(Reply::status(StatusCode::OK).delay(Duration::from_millis(10)));
    let (s, provider) = post_until_answered(
        &http,
        &cluster.url("/api/v1/events/providers"),
        &token,
        &client_id,
        &json!({"label": "Chaos"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{provider}");
    let provider = provider["id"].as_str().unwrap().to_owned();
    let types = cluster.url(&format!("/api/v1/events/providers/{provider}/event-types"));
    let (s, _) = post_until_answered(
        &http,
        &types,
        &token,
        &client_id,
        &json!({"event_code": CODE, "label": "Chaos"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let reg = json!({
        "name": "Chaos hook", "delivery_method": "webhook", "webhook_url": receiver.url("/chaos"),
        "events_of_interest": [{"provider_id": provider, "event_code": CODE}],
    });
    let (s, r) = post_until_answered(
        &http,
        &cluster.url("/api/v1/events/registrations"),
        &token,
        &client_id,
        &reg,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    Some(Setup {
        pg,
        cluster,
        http,
        token,
        client_id,
        secret,
        provider,
        receiver,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_chaos_nothing_acknowledged_is_lost_when_nodes_and_the_database_restart() {
    let Some(Setup {
        pg,
        cluster,
        http,
        token,
        client_id,
        secret,
        provider,
        receiver,
    }) = setup().await
    else {
        return;
    };

    // The steady load: two publishers (each event retried until acknowledged) and a token issuer
    // whose every answer is tallied for the phase it falls in.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
    let phase = Arc::new(AtomicUsize::new(0));
    let rounds: usize = std::env::var("GATEHOUSE_TEST_CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let tallies: Arc<Vec<Tally>> = Arc::new((0..=5 * rounds).map(|_| Tally::default()).collect());
    let mut load = Vec::new();
    for p in 0..2 {
        let (http, stop, acknowledged, token, client_id, provider) = (
            http.clone(),
            stop.clone(),
            acknowledged.clone(),
            token.clone(),
            client_id.clone(),
            provider.clone(),
        );
        let url = cluster.url("/api/v1/events/publish");
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let id = format!("chaos-{p}-{i}");
                let (s, body) = post_until_answered(
                    &http,
                    &url,
                    &token,
                    &client_id,
                    &event(&provider, CODE, &id, json!({"i": i})),
                )
                .await;
                assert_eq!(s, StatusCode::ACCEPTED, "{body}");
                acknowledged.lock().unwrap().insert(id);
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    {
        let (http, stop, phase, tallies, client_id, secret) = (
            http.clone(),
            stop.clone(),
            phase.clone(),
            tallies.clone(),
            client_id.clone(),
            secret.clone(),
        );
        let url = cluster.url("/oauth/token");
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let res = http
                    .post(&url)
                    .basic_auth(&client_id, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                let t = &tallies[phase.load(Ordering::SeqCst)];
                match res {
                    Ok(r) if r.status() == StatusCode::OK => t.ok.fetch_add(1, Ordering::SeqCst),
                    _ => t.failed.fetch_add(1, Ordering::SeqCst),
                };
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    // The faults, one per phase: three node crashes (each node restarted after a second) and two
    // database restarts, with load running before, between and after. `bench/chaos` repeats the
    // round (GATEHOUSE_TEST_CHAOS_ROUNDS).
    let round = ["kill 1", "postgres", "kill 2", "postgres", "kill 3"];
    let faults: Vec<&str> = round.iter().copied().cycle().take(round.len() * rounds).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (n, fault) in faults.iter().enumerate() {
        phase.store(n + 1, Ordering::SeqCst);
        tokio::task::block_in_place(|| match fault.split_once(' ') {
            Some(("kill", node)) => {
                run_ok(&mut cluster.command(&["kill", node]));
                std::thread::sleep(Duration::from_secs(1));
                run_ok(&mut cluster.command(&["restart", node]));
            }
            _ => pg.restart(),
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }

    // Every node is ready again, and every acknowledged event arrives, however many times.
    let status = tokio::task::block_in_place(|| run_ok(&mut cluster.command(&["status"])));
    assert_eq!(status.matches(": running").count(), 4, "{status}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(90);
    let (delivered, deliveries) = loop {
        let posts: Vec<_> = receiver
            .requests()
            .into_iter()
            .filter(|q| q.method == axum::http::Method::POST)
            .collect();
        let ids: HashSet<String> = posts
            .iter()
            .map(|q| q.json()["id"].as_str().unwrap().to_owned())
            .collect();
        if acknowledged.is_subset(&ids) || Instant::now() > deadline {
            break (ids, posts.len());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let missing: Vec<&String> = acknowledged.difference(&delivered).collect();
    let names = std::iter::once("before").chain(faults.iter().map(|f| match *f {
        "postgres" => "restart PostgreSQL",
        "kill 1" => "kill node 1",
        "kill 2" => "kill node 2",
        _ => "kill node 3",
    }));
    let rates: Vec<String> = tallies
        .iter()
        .zip(names)
        .map(|(t, name)| {
            let (ok, failed) = (t.ok.load(Ordering::SeqCst), t.failed.load(Ordering::SeqCst));
            format!("{name}: {failed} of {} token requests failed", ok + failed)
        })
        .collect();
    eprintln!(
        "chaos: {} events acknowledged, {} delivered in {deliveries} deliveries ({} duplicates); {}",
        acknowledged.len(),
        delivered.len(),
        deliveries - delivered.len(),
        rates.join("; ")
    );
    assert!(acknowledged.len() > 50, "the load ran: {} events", acknowledged.len());
    assert!(
        missing.is_empty(),
        "{} acknowledged events were never delivered: {missing:?}",
        missing.len()
    );
    assert!(
        tallies[0].failed.load(Ordering::SeqCst) == 0,
        "no token request fails before any fault"
    );
}
