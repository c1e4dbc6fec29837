//! A webhook receiver for tests: a tiny HTTP server on `127.0.0.1:0` that records every request
//! (method, path, headers, raw body) and answers 200, or what the test told it to answer for the
//! next N requests (to drive retries, `Retry-After`, slow endpoints). A webhook challenge
//! (`GET …?challenge=<value>`) with nothing queued is answered by echoing the value, as a real
//! endpoint would; queue a reply to make it fail.
//!
//! ```ignore
//! let receiver = TestReceiver::start().await;
//! receiver.respond_with(StatusCode::SERVICE_UNAVAILABLE, 2); // the next two requests fail
//! // … register receiver.url("/hook") and publish …
//! let got = receiver.wait_for(3, Duration::from_secs(5)).await;
//! ```

// Harness code fails the test loudly when its set-up cannot be done; that is what tests want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Shared by every test module; not every module uses every helper.
#![allow(dead_code)]

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use tokio::{net::TcpListener, sync::Notify, task::JoinHandle};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: Method,
    /// Path and query, e.g. `/hook?x=1`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("received body is not JSON ({e}):\n{}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (to provoke timeouts).
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn status(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<ReceivedRequest>,
    queue: VecDeque<Reply>,
    default: Option<Reply>,
    /// Do not echo challenges (answer them like any other request).
    no_echo: bool,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
}

pub struct TestReceiver {
    base_url: String,
    shared: Shared,
    task: JoinHandle<()>,
}

impl TestReceiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let shared = Shared::default();
        let app = Router::new().fallback(record).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            shared,
            task,
        }
    }

    /// Stops listening (new connections are refused), as a dead endpoint would.
    pub async fn stop(&self) {
        self.task.abort();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// An absolute URL on the receiver, e.g. `url("/hook")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The next `times` requests are answered with `status` (after any replies queued before).
    pub fn respond_with(&self, status: StatusCode, times: usize) {
        self.enqueue(Reply::status(status), times);
    }

    /// The next `times` requests get `reply` (after any replies queued before).
    pub fn enqueue(&self, reply: Reply, times: usize) {
        let mut inner = self.shared.inner.lock().unwrap();
        for _ in 0..times {
            inner.queue.push_back(reply.clone());
        }
    }

    /// What to answer once the queue is empty (200 with an empty body unless set).
    pub fn set_default(&self, reply: Reply) {
        self.shared.inner.lock().unwrap().default = Some(reply);
    }

    /// Stop echoing webhook challenges: they get the queued or default reply like any request.
    pub fn stop_echoing_challenges(&self) {
        self.shared.inner.lock().unwrap().no_echo = true;
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.inner.lock().unwrap().requests.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.inner.lock().unwrap().requests.len()
    }

    /// Waits until at least `n` requests have arrived and returns them all; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            // Registered before looking, so a request arriving in between is not missed.
            notified.as_mut().enable();
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "the receiver got {} request(s) within {timeout:?}, expected at least {n}",
                    self.count()
                );
            }
        }
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `challenge` query parameter of a request, if any.
fn challenge_of(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "challenge")
        .map(|(_, v)| v)
}

async fn record(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let method_is_get = method == Method::GET;
    let reply = {
        let mut inner = shared.inner.lock().unwrap();
        inner.requests.push(ReceivedRequest {
            method,
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |p| p.to_string()),
            headers,
            body: body.to_vec(),
        });
        let challenge = (method_is_get && !inner.no_echo)
            .then(|| challenge_of(&uri))
            .flatten()
            .map(|c| Reply::status(StatusCode::OK).body(c));
        inner
            .queue
            .pop_front()
            .or(challenge)
            .or_else(|| inner.default.clone())
            .unwrap_or_else(|| Reply::status(StatusCode::OK))
    };
    shared.arrived.notify_waiters();
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut res = (reply.status, reply.body).into_response();
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            res.headers_mut().append(n, v);
        }
    }
    res
}
