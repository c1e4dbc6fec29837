//! The real Gatehouse server, in-process on `127.0.0.1:0`, over a fresh database (either backend,
//! see [`super::db`]) and a temporary data directory, built by the same `prepare` as
//! `gatehouse serve`. [`TestClient`] states the status it expects on every call and prints the
//! body when another one comes back.
//!
//! ```ignore
//! let server = TestServer::start().await;
//! let client = server.client();
//! let page = client.get("/healthz", StatusCode::OK).await;
//! // A tweaked configuration:
//! let server = TestServer::start_with(|c| c.signup.enabled = false).await;
//! ```

// Harness code fails the test loudly when its set-up cannot be done; that is what tests want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Shared by every test module; not every module uses every helper.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex},
};

use axum::http::{HeaderMap, Method, StatusCode, header};
use gatehouse_app::{
    cli::GlobalArgs,
    config::{self, Config, Overrides},
};
use gatehouse_store::Store;
use gatehouse_web::{AppState, Clock};
use serde::{Serialize, de::DeserializeOwned};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use super::db::TestDatabase;

/// A running server. Dropping it stops the server and removes its database and data directory.
pub struct TestServer {
    base_url: String,
    config: Arc<Config>,
    state: AppState,
    client: TestClient,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    background: gatehouse_core::jobs::Jobs,
    // Dropped last: the database and the data directory outlive the server.
    _data_dir: tempfile::TempDir,
    /// Shared by the nodes of one cluster ([`TestServer::another_node`]).
    db: Arc<TestDatabase>,
}

impl TestServer {
    /// A server with the default configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `tweak` changes first (it is validated afterwards). The
    /// listen address and public URL are the real ones of the test listener unless the tweak
    /// sets `public_url`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_clock(Clock::system(), tweak).await
    }

    /// A server whose clock is `clock`: with [`Clock::manual`], a test moves time forward through
    /// `server.state().clock.advance(seconds)` instead of sleeping.
    pub async fn start_with_clock(clock: Clock, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(Arc::new(TestDatabase::fresh().await), clock, tweak).await
    }

    /// Another node of this server's cluster: its own process state, listener and data
    /// directory, on the same database with the same master key and public URL, as an operator
    /// runs several nodes behind a load balancer. It shares this server's clock (a manual clock
    /// moves for every node at once).
    pub async fn another_node(&self) -> Self {
        self.another_node_with(|_| {}).await
    }

    /// [`Self::another_node`] with more configuration, as every node of a cluster is given the same
    /// settings.
    pub async fn another_node_with(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let key = self.config.master_key_path();
        let public_url = self.config.public_url.clone();
        Self::start_on(self.db.clone(), self.state.clock.clone(), move |c| {
            c.master_key_file = Some(key);
            c.public_url = public_url;
            tweak(c);
        })
        .await
    }

    async fn start_on(db: Arc<TestDatabase>, clock: Clock, tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("gatehouse-data-")
            .tempdir()
            .expect("create a temporary data directory");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the listener's address");
        let config = test_config(&db.url, data_dir.path(), addr, tweak);
        let app = gatehouse_app::serve::prepare_with_clock(config.clone(), clock)
            .await
            .unwrap_or_else(|e| panic!("prepare the test server: {e:#}"));
        let (tx, rx) = oneshot::channel::<()>();
        let router = app.router;
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let base_url = format!("http://{addr}");
        TestServer {
            client: TestClient::new(&base_url),
            base_url,
            config,
            state: app.state,
            shutdown: Some(tx),
            task: Some(task),
            background: app.background,
            _data_dir: data_dir,
            db,
        }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The server's own store (same pool).
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Makes every cache of the server see what the database holds now (another process's
    /// writes included), instead of waiting for the catalog poll.
    pub async fn refresh_caches(&self) {
        self.state.refresh_caches().await.expect("read the catalog generation");
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn database(&self) -> &TestDatabase {
        &self.db
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The client with this server's cookie jar. Clone it to share the jar, or call
    /// [`TestServer::new_client`] for a second browser.
    pub fn client(&self) -> &TestClient {
        &self.client
    }

    /// A client with an empty cookie jar.
    pub fn new_client(&self) -> TestClient {
        TestClient::new(&self.base_url)
    }

    /// Issues a bootstrap link as `gatehouse serve` does when no administrator exists.
    pub async fn bootstrap_link(&self) -> String {
        gatehouse_web::setup::issue_bootstrap_link(self.store(), &self.config.public_url, self.state.now())
            .await
            .expect("issue a bootstrap link")
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.background.abort();
    }
}

/// The configuration a test server runs with: defaults, no environment, the given database and
/// data directory, listening where the test listener is.
pub fn test_config(
    database_url: &str,
    data_dir: &Path,
    listen: SocketAddr,
    tweak: impl FnOnce(&mut Config),
) -> Arc<Config> {
    let global = GlobalArgs {
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(database_url.to_owned()),
        ..GlobalArgs::default()
    };
    // The address tests connect to (a local install's default would name `localhost`).
    let overrides = Overrides {
        listen: Some(listen.to_string()),
        public_url: Some(format!("http://{listen}")),
    };
    let loaded = config::load_from(&global, &overrides, std::iter::empty()).expect("load the test configuration");
    let mut config = (*loaded).clone();
    config.log_level = "warn".to_owned();
    // Test servers are local installs, which may deliver webhooks to loopback by default; tests
    // allow the networks they need themselves, so the address policy is tested as deployed.
    config.events.allowed_networks.clear();
    tweak(&mut config);
    config.public_url = config.public_url.trim_end_matches('/').to_owned();
    if let Err(e) = config.validate() {
        panic!("the tweaked test configuration is invalid: {e}");
    }
    Arc::new(config)
}

/// A response: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON of type `T`; panics with the body when it is not.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not the expected JSON ({e}):\n{}", self.text()))
    }

    pub fn json_value(&self) -> serde_json::Value {
        self.json()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An HTTP client for one server that follows no redirects, keeps cookies like a browser would
/// (name → value; enough for Gatehouse's own cookies) and checks every status.
#[derive(Clone)]
pub struct TestClient {
    http: reqwest::Client,
    base_url: String,
    cookies: Arc<Mutex<BTreeMap<String, String>>>,
}

impl TestClient {
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build the HTTP client");
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            cookies: Arc::default(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base_url)
        }
    }

    /// A request builder for anything the helpers below do not cover (headers, auth, bodies);
    /// send it with [`TestClient::send`].
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Sends `req` with the jar's cookies, stores the cookies the response sets, and checks the status.
    pub async fn send(&self, req: reqwest::RequestBuilder, expected: StatusCode) -> TestResponse {
        let mut req = req.build().expect("build the request");
        let cookie_header = self.cookie_header();
        if !cookie_header.is_empty() && !req.headers().contains_key(header::COOKIE) {
            req.headers_mut()
                .insert(header::COOKIE, cookie_header.parse().expect("cookie header"));
        }
        let (method, url) = (req.method().clone(), req.url().to_string());
        let res = self
            .http
            .execute(req)
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        self.store_cookies(&headers);
        let response = TestResponse { status, headers, body };
        if status != expected {
            panic!(
                "{method} {url}: expected {expected}, got {status}\nheaders: {:?}\nbody:\n{}",
                response.headers,
                response.text()
            );
        }
        response
    }

    pub async fn get(&self, path: &str, expected: StatusCode) -> TestResponse {
        self.send(self.request(Method::GET, path), expected).await
    }

    pub async fn delete(&self, path: &str, expected: StatusCode) -> TestResponse {
        self.send(self.request(Method::DELETE, path), expected).await
    }

    /// POSTs `form` urlencoded.
    pub async fn post_form(&self, path: &str, form: &impl Serialize, expected: StatusCode) -> TestResponse {
        let body = serde_urlencoded::to_string(form).expect("encode the form");
        let req = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.send(req, expected).await
    }

    pub async fn post_json(&self, path: &str, json: &impl Serialize, expected: StatusCode) -> TestResponse {
        self.send(self.request(Method::POST, path).json(json), expected).await
    }

    pub async fn put_json(&self, path: &str, json: &impl Serialize, expected: StatusCode) -> TestResponse {
        self.send(self.request(Method::PUT, path).json(json), expected).await
    }

    pub async fn patch_json(&self, path: &str, json: &impl Serialize, expected: StatusCode) -> TestResponse {
        self.send(self.request(Method::PATCH, path).json(json), expected).await
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub fn remove_cookie(&self, name: &str) {
        self.cookies.lock().unwrap().remove(name);
    }

    pub fn clear_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().unwrap();
        for v in headers.get_all(header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let pair = v.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = v.to_ascii_lowercase().contains("max-age=0");
            if value.is_empty() || expired {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// The value of the hidden form field `name` in an HTML page (`name="…" value="…"`, in that order).
pub fn form_field(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[start..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_owned())
}
