//! Helpers for the events HTTP tests: a server that may reach loopback webhooks, integrations with
//! access tokens, authenticated requests, and an explicitly driven dispatcher.

#![allow(dead_code)]

use axum::http::{Method, StatusCode};
use gatehouse_core::events::{DispatchReport, DispatchSettings, Dispatcher};
use serde_json::{Value, json};

use crate::{
    harness::{
        fixtures::Fixtures,
        receiver::{ReceivedRequest, TestReceiver},
        server::{TestClient, TestResponse, TestServer},
    },
    token::server_to_server,
};

/// A server whose webhooks may go to loopback (the test receivers).
pub async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.events.allowed_networks = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await
}

/// An integration that calls the events API with its own access token.
#[derive(Clone)]
pub struct Caller {
    pub client: TestClient,
    pub integration_id: String,
    pub client_id: String,
    pub org: String,
    pub token: String,
}

impl Caller {
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, path)
            .bearer_auth(&self.token)
            .header("x-api-key", &self.client_id)
    }

    pub async fn get(&self, path: &str, expected: StatusCode) -> TestResponse {
        self.client.send(self.req(Method::GET, path), expected).await
    }

    pub async fn delete(&self, path: &str, expected: StatusCode) -> TestResponse {
        self.client.send(self.req(Method::DELETE, path), expected).await
    }

    pub async fn post(&self, path: &str, body: &Value, expected: StatusCode) -> TestResponse {
        self.client
            .send(self.req(Method::POST, path).json(body), expected)
            .await
    }

    pub async fn post_empty(&self, path: &str, expected: StatusCode) -> TestResponse {
        self.client.send(self.req(Method::POST, path), expected).await
    }

    pub async fn put(&self, path: &str, body: &Value, expected: StatusCode) -> TestResponse {
        self.client.send(self.req(Method::PUT, path).json(body), expected).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str, expected: StatusCode) -> TestResponse {
        let req = self
            .req(Method::POST, path)
            .header("content-type", content_type)
            .body(body.to_owned());
        self.client.send(req, expected).await
    }

    /// Creates a custom provider with the given event codes; returns its ID.
    pub async fn provider(&self, codes: &[&str]) -> String {
        let p = self
            .post(
                "/api/v1/events/providers",
                &json!({"label": "Invoices"}),
                StatusCode::CREATED,
            )
            .await
            .json_value();
        let id = p["id"].as_str().unwrap().to_owned();
        for c in codes {
            self.post(
                &format!("/api/v1/events/providers/{id}/event-types"),
                &json!({"event_code": c, "label": c}),
                StatusCode::CREATED,
            )
            .await;
        }
        id
    }

    /// Registers `url` (or a journal when `None`) for `provider`'s `code`; returns the response body.
    pub async fn register(&self, name: &str, method: &str, url: Option<&str>, provider: &str, code: &str) -> Value {
        let body = json!({
            "name": name,
            "delivery_method": method,
            "webhook_url": url,
            "events_of_interest": [{"provider_id": provider, "event_code": code}],
        });
        self.post("/api/v1/events/registrations", &body, StatusCode::CREATED)
            .await
            .json_value()
    }

    /// Publishes a CloudEvent of `provider` with `code` and `id`.
    pub async fn publish(&self, provider: &str, code: &str, id: &str, data: Value) -> Value {
        self.post(
            "/api/v1/events/publish",
            &event(provider, code, id, data),
            StatusCode::ACCEPTED,
        )
        .await
        .json_value()
    }
}

pub fn event(provider: &str, code: &str, id: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "type": code,
        "source": format!("urn:uuid:{provider}"),
        "id": id,
        "datacontenttype": "application/json",
        "data": data,
    })
}

/// An access token for a client (client credentials).
pub async fn token(server: &TestServer, client_id: &str, secret: &str) -> String {
    let c = server.client();
    let req = c
        .request(Method::POST, "/oauth/token")
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")]);
    let res = c.send(req, StatusCode::OK).await.json_value();
    res["access_token"].as_str().unwrap().to_owned()
}

/// An OAuth Server-to-Server integration of a new organization, with an access token.
pub async fn caller(server: &TestServer) -> Caller {
    let sa = server_to_server(server).await;
    let token = token(server, &sa.client_id, &sa.secret).await;
    Caller {
        client: server.new_client(),
        integration_id: sa.integration.id.clone(),
        client_id: sa.client_id.clone(),
        org: sa.org_id.clone(),
        token,
    }
}

/// Another OAuth Server-to-Server integration in `other`'s organization, with an access token.
pub async fn colleague(server: &TestServer, other: &Caller) -> Caller {
    let sa = Fixtures::new(server.store())
        .at(server.state().now())
        .server_to_server("Colleague")
        .org(&other.org)
        .secret()
        .insert()
        .await;
    let token = token(server, &sa.client_id, sa.secret()).await;
    Caller {
        client: server.new_client(),
        integration_id: sa.integration.id.clone(),
        client_id: sa.client_id.clone(),
        org: other.org.clone(),
        token,
    }
}

/// A dispatcher over the server's state with `tweak`ed settings (Adobe signatures on).
pub fn dispatcher(server: &TestServer, tweak: impl FnOnce(&mut DispatchSettings)) -> Dispatcher {
    let mut s = DispatchSettings::default();
    tweak(&mut s);
    Dispatcher::new(server.state(), s).unwrap()
}

/// The dispatcher running in the background every 100 ms, as `serve` runs it, for tests that drive
/// a browser while deliveries happen; abort the handle when done.
pub fn dispatch_in_background(server: &TestServer) -> tokio::task::JoinHandle<()> {
    let d = dispatcher(server, |_| {});
    let state = server.state().clone();
    tokio::spawn(async move {
        loop {
            let _ = d.dispatch_due(state.now()).await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
}

/// One dispatch pass at `now`.
pub async fn dispatch(d: &Dispatcher, now: i64) -> DispatchReport {
    d.dispatch_due(now).await.unwrap()
}

/// The POSTs (deliveries) a receiver got, without challenge GETs.
pub fn posts(r: &TestReceiver) -> Vec<ReceivedRequest> {
    r.requests().into_iter().filter(|q| q.method == Method::POST).collect()
}
