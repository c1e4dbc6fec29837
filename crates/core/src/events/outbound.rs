//! Outbound HTTP for webhooks: deliveries and challenges go through clients whose DNS resolver
//! applies the [`AddressPolicy`] to every address a name resolves to, and connect only to the
//! addresses that passed (so a name cannot resolve to a public address when checked and a private
//! one when connected — no DNS rebinding). IP-literal URLs skip DNS and are checked here before
//! the request. Plain `http` URLs use a second client that reaches allow-listed addresses only.
//!
//! No proxy from the environment is used, redirects are never followed (a 3xx is a failed
//! attempt), and at most [`MAX_RESPONSE_BODY`] bytes of a response are read.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use gatehouse_domain::events::{AddressPolicy, WebhookUrl, address::Refused, model::MAX_RESPONSE_BODY};
use reqwest::{
    Method,
    dns::{Addrs, Name, Resolve, Resolving},
    header::HeaderMap,
};

/// Resolves names and keeps only the addresses the policy allows (all of them allow-listed, for
/// the plain-http client).
struct FilteringResolver {
    policy: AddressPolicy,
    allow_listed_only: bool,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let allow_listed_only = self.allow_listed_only;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| {
                    let ip = a.ip();
                    if allow_listed_only {
                        policy.is_allow_listed(ip)
                    } else {
                        policy.check(ip).is_ok()
                    }
                })
                .collect();
            if kept.is_empty() {
                let refused = resolved
                    .first()
                    .map(|a| match policy.check(a.ip()) {
                        Err(r) => r.to_string(),
                        Ok(()) => format!("{} is not in [events] allowed_networks (plain http)", a.ip()),
                    })
                    .unwrap_or_else(|| format!("{host} does not resolve to any address"));
                return Err(refused.into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The result of one outbound request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `None` when no response came (see `error`).
    pub status: Option<u16>,
    pub headers: HeaderMap,
    /// The first [`MAX_RESPONSE_BODY`] bytes, lossily decoded.
    pub body: String,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// The two clients (https to any allowed address, http to allow-listed addresses only).
#[derive(Clone)]
pub struct Outbound {
    policy: AddressPolicy,
    https: reqwest::Client,
    http: reqwest::Client,
}

impl Outbound {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let build = |allow_listed_only: bool| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(FilteringResolver {
                    policy: policy.clone(),
                    allow_listed_only,
                }))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(timeout)
                .connect_timeout(timeout)
                .pool_max_idle_per_host(64)
                .user_agent(concat!("Gatehouse-Webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Self {
            https: build(false)?,
            http: build(true)?,
            policy,
        })
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// Checks an IP-literal host (names are checked by the resolver when connecting).
    fn check_literal(&self, url: &WebhookUrl) -> Result<(), String> {
        let Some(ip) = url.literal_ip() else { return Ok(()) };
        self.policy.check(ip).map_err(|r: Refused| r.to_string())?;
        if !url.is_https() && !self.policy.is_allow_listed(ip) {
            return Err(format!(
                "{ip} is not in [events] allowed_networks, so plain http is refused"
            ));
        }
        Ok(())
    }

    /// Sends one request. Never fails: transport problems come back as `error` with no status.
    pub async fn send(
        &self,
        method: Method,
        url: &reqwest::Url,
        webhook: &WebhookUrl,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Response {
        let started = Instant::now();
        let failed = |error: String, started: Instant| Response {
            status: None,
            headers: HeaderMap::new(),
            body: String::new(),
            latency_ms: started.elapsed().as_millis() as i64,
            error: Some(error),
        };
        if let Err(e) = self.check_literal(webhook) {
            return failed(e, started);
        }
        let client = if webhook.is_https() { &self.https } else { &self.http };
        let mut req = client.request(method, url.clone()).headers(headers);
        if !body.is_empty() {
            req = req.body(body);
        }
        let mut res = match req.send().await {
            Ok(r) => r,
            Err(e) => return failed(describe(&e), started),
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let mut kept: Vec<u8> = Vec::new();
        let mut error = None;
        loop {
            match res.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BODY - kept.len();
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if kept.len() >= MAX_RESPONSE_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        Response {
            status: Some(status),
            headers,
            body: String::from_utf8_lossy(&kept).into_owned(),
            latency_ms: started.elapsed().as_millis() as i64,
            error,
        }
    }

    /// Resolves the URL's host through the policy's eyes: the addresses it leads to, for
    /// [`WebhookUrl::admit`] when a registration is saved.
    pub async fn resolve(&self, url: &WebhookUrl) -> Vec<IpAddr> {
        if let Some(ip) = url.literal_ip() {
            return vec![ip];
        }
        let Some(host) = url.domain() else { return Vec::new() };
        match tokio::net::lookup_host((host, url.port())).await {
            Ok(addrs) => {
                let mut v: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                v.sort();
                v.dedup();
                v
            }
            Err(_) => Vec::new(),
        }
    }
}

/// Says what went wrong without the URL (which may carry query secrets) and without internals.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_redirect() {
        "redirect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause says why (refused address, DNS failure, TLS, reset…).
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        msg.push_str(": ");
        msg.push_str(&cause);
    }
    msg
}

/// How long a send took, for callers that measure themselves.
pub fn elapsed_ms(started: Instant) -> i64 {
    started.elapsed().as_millis() as i64
}
