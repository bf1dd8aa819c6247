//! The `Idempotency-Key` middleware around a handler the test controls (it waits at a gate), served
//! over 127.0.0.1: a second request with the same key waits for the first and replays its answer; a
//! client that disconnects mid-way does not lose the answer; a failing or panicking request does not
//! leave its key held; a request past the deadline is answered 503 while its work goes on, and the
//! retry gets the work's answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{middleware, Router};
use fencepost_server::clock::Clock;
use fencepost_server::db::Db;
use fencepost_server::http::deadline;
use fencepost_server::http::idempotency::{self, Idempotency};
use tokio::sync::{Notify, Semaphore};

/// The handler: counts its runs, says it started, then waits until the test opens the gate.
struct Gate {
    runs: AtomicUsize,
    started: Notify,
    open: Semaphore,
}

async fn gated(State(gate): State<Arc<Gate>>, body: Bytes) -> Response {
    let run = gate.runs.fetch_add(1, Ordering::SeqCst) + 1;
    gate.started.notify_one();
    if let Ok(permit) = gate.open.acquire().await {
        permit.forget();
    }
    match &body[..] {
        b"panic" => panic!("the handler failed"),
        b"fail" => (StatusCode::SERVICE_UNAVAILABLE, "{}").into_response(),
        _ => (StatusCode::CREATED, format!("{{\"run\": {run}}}")).into_response(),
    }
}

struct Harness {
    base: String,
    gate: Arc<Gate>,
    idem: Arc<Idempotency>,
    client: reqwest::Client,
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    /// With `deadline`, the router also has the request deadline layer (outside, as in the server).
    async fn start_with(deadline: Option<Duration>) -> Self {
        let db = Arc::new(Db::open_in_memory().expect("in-memory database"));
        let idem = Idempotency::new(db, Arc::new(Clock::system()));
        let gate = Arc::new(Gate {
            runs: AtomicUsize::new(0),
            started: Notify::new(),
            open: Semaphore::new(0),
        });
        let app = Router::new()
            .route("/work", post(gated))
            .with_state(gate.clone())
            .layer(middleware::from_fn_with_state(
                idem.clone(),
                idempotency::layer,
            ));
        let app = match deadline {
            Some(limit) => app.layer(middleware::from_fn_with_state(limit, deadline::layer)),
            None => app,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            gate,
            idem,
            client: reqwest::Client::new(),
        }
    }

    /// POST /work with `key` and `body`, in a task of its own.
    fn send(&self, key: &str, body: &'static str) -> tokio::task::JoinHandle<(u16, String, bool)> {
        let req = self
            .client
            .post(format!("{}/work", self.base))
            .header("idempotency-key", key)
            .body(body);
        tokio::spawn(async move {
            let resp = req.send().await.expect("the server answers");
            let status = resp.status().as_u16();
            let replayed = resp.headers().contains_key(idempotency::REPLAYED_HEADER);
            (status, resp.text().await.unwrap_or_default(), replayed)
        })
    }

    fn open(&self, n: usize) {
        self.gate.open.add_permits(n);
    }

    fn runs(&self) -> usize {
        self.gate.runs.load(Ordering::SeqCst)
    }

    /// Waits (at most 5 s) until `n` requests hold or wait for the key.
    async fn wait_tickets(&self, key: &str, n: usize) {
        for _ in 0..5000 {
            if self.idem.in_flight_tickets(None, key) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("{n} requests never held the key");
    }
}

async fn answer(task: tokio::task::JoinHandle<(u16, String, bool)>) -> (u16, String, bool) {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("answered within 10 s")
        .expect("the request task")
}

#[tokio::test]
async fn a_second_request_waits_for_the_first_and_replays_its_answer() {
    let h = Harness::start().await;
    let first = h.send("k1", "order");
    h.gate.started.notified().await;
    let second = h.send("k1", "order");
    let different = h.send("k1", "another order");
    h.wait_tickets("k1", 3).await;
    assert_eq!(h.runs(), 1, "the others wait while the first runs");
    h.open(3); // enough for every request, should the others run as well
    let first = answer(first).await;
    assert_eq!(first, (201, "{\"run\": 1}".to_string(), false));
    let (status, body, replayed) = answer(second).await;
    assert_eq!(
        (status, body.as_str(), replayed),
        (201, "{\"run\": 1}", true)
    );
    let (status, body, _) = answer(different).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("idempotency_key_reused"), "{body}");
    assert_eq!(h.runs(), 1);
    assert_eq!(
        h.idem.in_flight_tickets(None, "k1"),
        0,
        "the key is released"
    );
}

#[tokio::test]
async fn a_client_that_disconnects_mid_way_does_not_lose_the_answer() {
    let h = Harness::start().await;
    let gone = h.send("k2", "order");
    h.gate.started.notified().await;
    gone.abort(); // the client goes away while the handler works
    let _ = gone.await;
    // Give the server time to see the closed connection before the work can finish.
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.open(2);
    h.wait_tickets("k2", 0).await;
    let retry = answer(h.send("k2", "order")).await;
    assert_eq!(retry, (201, "{\"run\": 1}".to_string(), true));
    assert_eq!(h.runs(), 1, "the work was done once and its answer kept");
}

#[tokio::test]
async fn a_failing_or_panicking_request_does_not_hold_its_key() {
    let h = Harness::start().await;
    h.open(4);
    for body in ["fail", "panic"] {
        let (status, text, _) = answer(h.send("k3", body)).await;
        assert!(status >= 500, "{status} {text}");
        assert_eq!(h.idem.in_flight_tickets(None, "k3"), 0);
    }
    // Neither answer was kept: the same key runs again and is answered.
    let (status, body, replayed) = answer(h.send("k3", "order")).await;
    assert_eq!((status, replayed), (201, false), "{body}");
    assert_eq!(h.runs(), 3);
}

#[tokio::test]
async fn past_the_deadline_the_caller_gets_503_and_the_retry_gets_the_answer() {
    let h = Harness::start_with(Some(Duration::from_secs(1))).await;
    let (status, body, _) = answer(h.send("k4", "order")).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"timeout\""), "{body}");
    // The work goes on past the deadline and keeps the key until its answer is stored.
    assert_eq!(h.idem.in_flight_tickets(None, "k4"), 1);
    h.open(2);
    h.wait_tickets("k4", 0).await;
    let retry = answer(h.send("k4", "order")).await;
    assert_eq!(retry, (201, "{\"run\": 1}".to_string(), true));
    assert_eq!(h.runs(), 1);
}
