//! Per-request cost of the router on the Lambda path against `fencepost serve`'s TCP path, measured in
//! one run and reported as a ratio (the machine is shared, so absolute times mean little).
//!
//! - lambda: API Gateway v2 event JSON → lambda_http's adapter (event → request → router → response
//!   conversion) → response JSON: what the api function does per invocation, without the two loopback
//!   HTTP calls to the Runtime API that the real service adds (`/next`, `/response`).
//! - tcp: HTTP/1.1 keep-alive over loopback to `axum::serve` with the same router, as `fencepost serve`.
//!
//! `cargo run --example invoke_cost -- [requests]` (in lambda/).

use std::time::{Duration, Instant};

use fencepost_lambda::api;
use fencepost_lambda::config::{Config, Mode, DEFAULT_FEED_WAIT_S};
use fencepost_server::workflow::stepfunctions::QueueConsumer;
use lambda_http::request::LambdaRequest;
use lambda_http::{service_fn, Adapter, Context, LambdaEvent, Service};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const ADMIN: &str = "invoke-cost-admin-token-0123456789";

fn event(path: &str, token: &str) -> String {
    serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "bench.execute-api.us-east-1.amazonaws.com", "authorization": format!("Bearer {token}")},
        "requestContext": {"accountId": "123456789012", "apiId": "bench", "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bench"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "22/Nov/2026:06:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": false
    })
    .to_string()
}

async fn lambda_path(
    router: &axum::Router,
    path: &str,
    token: &str,
    n: u32,
) -> Result<Duration, lambda_http::Error> {
    let router = router.clone();
    let mut adapter = Adapter::from(service_fn(move |req| {
        api::handle(
            router.clone(),
            Duration::from_secs(DEFAULT_FEED_WAIT_S),
            req,
        )
    }));
    let event = event(path, token);
    let started = Instant::now();
    for _ in 0..n {
        let req: LambdaRequest = serde_json::from_str(&event)?;
        let resp = adapter
            .call(LambdaEvent::new(req, Context::default()))
            .await?;
        let out = serde_json::to_vec(&resp)?;
        std::hint::black_box(out);
    }
    Ok(started.elapsed())
}

async fn tcp_path(
    addr: std::net::SocketAddr,
    path: &str,
    token: &str,
    n: u32,
) -> std::io::Result<Duration> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = BufReader::new(stream);
    let request =
        format!("GET {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}\r\n\r\n");
    let started = Instant::now();
    for _ in 0..n {
        stream.get_mut().write_all(request.as_bytes()).await?;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        std::hint::black_box(body);
    }
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let config = Config::new(Mode::Api, dir.path().join("bench.db"));
    let (_, router) = fencepost_server::server::build_with(
        &config.serve_config(ADMIN.into()),
        QueueConsumer::External,
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = router.clone();
    tokio::spawn(async move { axum::serve(listener, served).await });

    // The health check, and an authenticated read that reaches the store.
    for path in ["/healthz", "/driver/offers"] {
        let token = if path == "/healthz" {
            ADMIN.to_string()
        } else {
            driver_token(&router).await?
        };
        // Warm both paths, then measure them interleaved twice so drift in machine load hits both.
        lambda_path(&router, path, &token, n / 10).await?;
        tcp_path(addr, path, &token, n / 10).await?;
        let (mut lambda, mut tcp) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..2 {
            lambda += lambda_path(&router, path, &token, n / 2).await?;
            tcp += tcp_path(addr, path, &token, n / 2).await?;
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(n);
        println!(
            "{path:>15}: lambda path {:7.1} µs/request, tcp {:7.1} µs/request, ratio lambda/tcp {:.2} ({n} requests each)",
            per(lambda),
            per(tcp),
            lambda.as_secs_f64() / tcp.as_secs_f64()
        );
    }
    Ok(())
}

/// Creates a driver through the router (POST /admin/drivers) and returns its token.
async fn driver_token(router: &axum::Router) -> Result<String, lambda_http::Error> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::post("/admin/drivers")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "bench-driver")
        .body(axum::body::Body::from(r#"{"name": "bench driver"}"#))?;
    let resp = router.clone().oneshot(req).await?;
    let body = resp.into_body().collect().await?.to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["token"].as_str().unwrap_or_default().to_string())
}
