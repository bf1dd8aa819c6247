//! The phones' network, as one loopback proxy in front of the backend. Every companion talks to the
//! middleware through it, so the simulator can count what the phones send, take a phone offline, and
//! (with `--faults`) break a share of requests — for the in-process server and for `--backend` alike,
//! without touching the server's code.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::error::{Error, Result};
use super::faults::{Fault, FaultPlan};

/// Per-driver traffic, as the phone's radio would count it.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Traffic {
    pub requests: u64,
    /// Request line, headers and body: what left the phone.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub faults_injected: u64,
    pub refused_offline: u64,
    /// Requests repeating an idempotency key already sent: the outbox retrying.
    pub retries: u64,
}

#[derive(Default)]
struct Shared {
    /// Keyed by the driver's bearer token (never printed).
    traffic: HashMap<String, Traffic>,
    offline: HashSet<String>,
    /// (driver token, idempotency key) pairs already seen.
    keys: HashSet<(String, String)>,
}

#[derive(Clone)]
pub struct Proxy {
    upstream: String,
    client: reqwest::Client,
    faults: Arc<FaultPlan>,
    /// How long a "timeout" fault holds the answer: longer than the companion's request timeout.
    hold: Duration,
    shared: Arc<Mutex<Shared>>,
}

/// Headers that belong to one hop and must not be forwarded.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

impl Proxy {
    pub fn new(upstream: &str, faults: FaultPlan, hold: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::Backend(format!("building the proxy client: {e}")))?;
        Ok(Self {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            faults: Arc::new(faults),
            hold,
            shared: Arc::new(Mutex::new(Shared::default())),
        })
    }

    /// Serves on an ephemeral loopback port; returns the address.
    pub async fn start(&self) -> Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(self.clone());
        tokio::spawn(async move {
            // The proxy lives as long as the run; an accept error ends it and the companions' requests
            // then fail and are retried, which the summary shows.
            let _ = axum::serve(listener, app).await;
        });
        Ok(addr)
    }

    pub fn set_offline(&self, driver_token: &str, offline: bool) {
        if let Ok(mut s) = self.shared.lock() {
            if offline {
                s.offline.insert(driver_token.to_owned());
            } else {
                s.offline.remove(driver_token);
            }
        }
    }

    pub fn traffic(&self, driver_token: &str) -> Traffic {
        self.shared
            .lock()
            .ok()
            .and_then(|s| s.traffic.get(driver_token).copied())
            .unwrap_or_default()
    }

    fn record(&self, token: &str, f: impl FnOnce(&mut Traffic)) {
        if let Ok(mut s) = self.shared.lock() {
            f(s.traffic.entry(token.to_owned()).or_default());
        }
    }

    fn is_offline(&self, token: &str) -> bool {
        self.shared.lock().is_ok_and(|s| s.offline.contains(token))
    }
}

fn driver_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    token.starts_with("fpd_").then(|| token.to_owned())
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB").into_response(),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let driver = driver_token(&parts.headers);
    let mut fault = Fault::None;
    if let Some(token) = &driver {
        let header_bytes: usize = parts
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        let sent =
            (parts.method.as_str().len() + path.len() + 12 + header_bytes + body.len()) as u64;
        proxy.record(token, |t| {
            t.requests += 1;
            t.bytes_sent += sent;
        });
        if let Some(key) = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
        {
            let repeated = proxy
                .shared
                .lock()
                .is_ok_and(|mut s| !s.keys.insert((token.clone(), key.to_owned())));
            if repeated {
                proxy.record(token, |t| t.retries += 1);
            }
        }
        if proxy.is_offline(token) {
            proxy.record(token, |t| t.refused_offline += 1);
            // No signal: the request never leaves the phone. The companion sees a network error.
            return dropped_connection();
        }
        let identity = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| format!("{} {path}", parts.method), str::to_owned);
        fault = proxy.faults.decide(&identity);
        if fault != Fault::None {
            proxy.record(token, |t| t.faults_injected += 1);
        }
    }
    if fault == Fault::Unavailable {
        return (StatusCode::SERVICE_UNAVAILABLE, "injected fault").into_response();
    }

    let mut upstream = proxy
        .client
        .request(parts.method.clone(), format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.send().await {
        Ok(a) => a,
        Err(_) => return (StatusCode::BAD_GATEWAY, "backend unreachable").into_response(),
    };
    match fault {
        Fault::TimeoutAfterWork => {
            // The server has done the work; the phone gives up before this answer arrives.
            let _ = answer.bytes().await;
            tokio::time::sleep(proxy.hold).await;
            return (StatusCode::GATEWAY_TIMEOUT, "injected timeout").into_response();
        }
        Fault::DropAfterWork => {
            let _ = answer.bytes().await;
            return dropped_connection();
        }
        Fault::None | Fault::Unavailable => {}
    }
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            if let Ok(name) = HeaderName::from_bytes(name.as_str().as_bytes()) {
                headers.insert(name, value.clone());
            }
        }
    }
    let meter = driver.map(|token| (proxy.clone(), token));
    let stream = answer.bytes_stream().map(move |chunk| {
        if let (Ok(bytes), Some((proxy, token))) = (&chunk, &meter) {
            let n = bytes.len() as u64;
            proxy.record(token, |t| t.bytes_received += n);
        }
        chunk.map_err(std::io::Error::other)
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A response whose body fails at once: the client sees the connection cut mid-answer.
fn dropped_connection() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
    });
    let mut response = Response::new(Body::from_stream(broken));
    response
        .headers_mut()
        .insert("content-length", axum::http::HeaderValue::from_static("64"));
    response
}
