//! The two Lambda handlers in-process, with no AWS: API Gateway v2 events through the router, and SQS
//! events through the worker into the SQLite store both functions share. (The real binary against a fake
//! Runtime API and moto is lambda_moto.rs.)

mod common;
// The server's own store and order fixture, shared rather than copied.
#[path = "../../server/tests/workflow_fixture/mod.rs"]
mod workflow_fixture;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Response;
use common::*;
use fencepost_lambda::api;
use fencepost_lambda::config::{Config, Mode};
use fencepost_lambda::worker;
use fencepost_server::db::{Db, Repository};
use fencepost_server::workflow::stepfunctions::QueueConsumer;
use http_body_util::BodyExt;
use serde_json::{json, Value};

/// The feed wait the tests give the api handler (shorter than the deployed default, to keep tests fast).
const FEED_WAIT: Duration = Duration::from_secs(3);

struct Api {
    feed_wait: Duration,
    state: std::sync::Arc<fencepost_server::http::AppState>,
    router: axum::Router,
    requests: std::cell::Cell<u32>,
}

impl Api {
    fn new(db_path: &std::path::Path) -> Self {
        let config = Config::new(Mode::Api, db_path.to_path_buf());
        let (state, router) = fencepost_server::server::build_with(
            &config.serve_config(ADMIN_TOKEN.into()),
            QueueConsumer::External,
        )
        .expect("the api application");
        Self {
            feed_wait: FEED_WAIT,
            state,
            router,
            requests: std::cell::Cell::new(0),
        }
    }

    /// One API Gateway request: event JSON → lambda_http's request → handler → (status, headers, body).
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Response<()>, String) {
        self.requests.set(self.requests.get() + 1);
        let event = api_event(
            method,
            path,
            token,
            body.as_ref(),
            &format!("req-{}", self.requests.get()),
        );
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("a valid API Gateway v2 event");
        let resp: Response<Body> = api::handle(self.router.clone(), self.feed_wait, request)
            .await
            .unwrap_or_else(|never| match never {});
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("response body").to_bytes();
        let status = parts.status.as_u16();
        (
            status,
            Response::from_parts(parts, ()),
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, text) = self.call(method, path, token, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn worker_engine(
    db_path: &std::path::Path,
) -> std::sync::Arc<fencepost_server::workflow::stepfunctions::engine::StepFunctionsEngine> {
    worker::engine(&Config::new(Mode::Worker, db_path.to_path_buf())).expect("the worker engine")
}

fn event(value: Value) -> aws_lambda_events::event::sqs::SqsEvent {
    serde_json::from_value(value).expect("an SQS event")
}

fn failed_ids(resp: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    resp.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn api_events_reach_the_router_and_errors_keep_their_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::new(&dir.path().join("fencepost.db"));

    let (status, health) = api.json("GET", "/healthz", None, None).await;
    assert_eq!(status, 200, "{health}");

    let (status, created) = api
        .json(
            "POST",
            "/admin/stores",
            Some(ADMIN_TOKEN),
            Some(store_body("lambda-s1")),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["store"]["storeId"], "lambda-s1");

    // Bad input through the Lambda path is the same typed error as over TCP.
    let (status, refused) = api
        .json(
            "POST",
            "/admin/customers",
            Some("not-the-admin-token-at-all"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401, "{refused}");
    assert!(
        refused["code"].is_string() && refused["message"].as_str().is_some_and(|m| m.len() > 10),
        "{refused}"
    );
    let (status, missing) = api.json("GET", "/no/such/route", None, None).await;
    assert_eq!(status, 404, "{missing}");

    // The query string survives the event conversion: without it the answer is `missing_party`, with an
    // unknown party `invalid_party`.
    let (status, customer) = api
        .json(
            "POST",
            "/admin/customers",
            Some(ADMIN_TOKEN),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{customer}");
    let token = customer["token"].as_str().expect("customer token");
    let (status, bad_party) = api
        .json("GET", "/order/nope?party=nobody", Some(token), None)
        .await;
    assert_eq!(
        (status, bad_party["code"].as_str()),
        (400, Some("invalid_party")),
        "{bad_party}"
    );
    let (status, no_party) = api.json("GET", "/order/nope", Some(token), None).await;
    assert_eq!(
        (status, no_party["code"].as_str()),
        (400, Some("missing_party")),
        "{no_party}"
    );

    // With no Step Functions reachable, placing an order is the documented 503, never a hang or a 500.
    let (status, placed) = api
        .json("POST", "/order", Some(token), Some(order_body("lambda-s1")))
        .await;
    assert_eq!(status, 503, "{placed}");
    assert_eq!(placed["code"], "engine_unavailable", "{placed}");
}

/// Seeds an order placed earlier (its execution started) straight into the store, in the fixture's store
/// (`workflow_fixture::STORE_ID`, created through the API by each test).
fn seed_order(db: &Db, order_id: &str) {
    db.write(|repo| repo.insert_order(&workflow_fixture::order(order_id)))
        .expect("seeded order");
}

#[tokio::test]
async fn the_worker_files_tokens_the_api_then_serves_and_holds_back_a_failed_group() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("fencepost.db");
    let api = Api::new(&db_path);
    let (status, store) = api
        .json(
            "POST",
            "/admin/stores",
            Some(ADMIN_TOKEN),
            Some(store_body(workflow_fixture::STORE_ID)),
        )
        .await;
    assert_eq!(status, 201, "{store}");
    let store_token = store["token"].as_str().expect("store token").to_string();
    {
        let db = Db::open(&db_path).expect("the shared store");
        seed_order(&db, "order-a");
        seed_order(&db, "order-b");
    }

    let engine = worker_engine(&db_path);
    let decision = |order: &str, token: &str| {
        json!({"kind": "decision", "orderId": order, "taskToken": token, "timeoutS": 300.0})
            .to_string()
    };
    let batch = event(sqs_event(vec![
        sqs_record("m1", "order-a", &decision("order-a", "token-a")),
        sqs_record("m2", "order-b", "{not a workflow message"),
        // Same group as the malformed one: must not be applied before it (FIFO), so it is held back.
        sqs_record("m3", "order-b", &decision("order-b", "token-b")),
        // Unknown order: the store refuses it; a redelivery may succeed once the order exists.
        sqs_record("m4", "order-zzz", &decision("order-zzz", "token-z")),
        // A redelivery of m1: applying twice is harmless.
        sqs_record("m5", "order-a", &decision("order-a", "token-a")),
    ]));
    let resp = worker::handle_batch(&engine, batch).await;
    assert_eq!(failed_ids(&resp), vec!["m2", "m3", "m4"]);

    let db = Db::open(&db_path).expect("the shared store");
    let filed = db.write(|repo| repo.task("token-a")).expect("task lookup");
    assert_eq!(
        filed.map(|t| (t.order_id, t.kind, t.state)),
        Some(("order-a".into(), "decision".into(), "open".into()))
    );
    assert!(
        db.write(|repo| repo.task("token-b"))
            .expect("task lookup")
            .is_none(),
        "a held-back message was applied"
    );

    // The API process sees what the worker wrote: the store's feed (bounded for API Gateway) carries the
    // token, and answers promptly instead of streaming until the function's timeout.
    let started = Instant::now();
    let (status, resp, text) = api
        .call("GET", "/store/events", Some(&store_token), None)
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream")));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the feed answer took {:?}",
        started.elapsed()
    );
    let events = sse_events(&text);
    let placed: Vec<_> = events
        .iter()
        .filter(|(name, _)| name == "order_placed")
        .collect();
    assert_eq!(placed.len(), 1, "{text}");
    assert_eq!(placed[0].1["orderId"], "order-a");
    assert_eq!(placed[0].1["taskToken"], "token-a");

    // The next batch redelivers the group from its failure on; m3 now applies.
    let retry = event(sqs_event(vec![sqs_record(
        "m3",
        "order-b",
        &decision("order-b", "token-b"),
    )]));
    assert!(worker::handle_batch(&engine, retry)
        .await
        .batch_item_failures
        .is_empty());
    assert!(db
        .write(|repo| repo.task("token-b"))
        .expect("task lookup")
        .is_some());
}

#[tokio::test]
async fn an_empty_feed_answers_after_the_first_event_wait_not_the_function_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::new(&dir.path().join("fencepost.db"));
    let (_, store) = api
        .json(
            "POST",
            "/admin/stores",
            Some(ADMIN_TOKEN),
            Some(store_body("lambda-s3")),
        )
        .await;
    let token = store["token"].as_str().expect("store token").to_string();
    let started = Instant::now();
    let (status, _, text) = api.call("GET", "/store/events", Some(&token), None).await;
    assert_eq!(status, 200);
    assert!(sse_events(&text).is_empty(), "{text}");
    let took = started.elapsed();
    assert!(
        took >= FEED_WAIT && took < FEED_WAIT + Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_feed_request_sees_what_the_worker_writes_without_waiting_it_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("fencepost.db");
    let mut api = Api::new(&db_path);
    api.feed_wait = Duration::from_secs(10);
    let _watch = api::watch_other_writers(api.state.feed.clone());
    let (_, store) = api
        .json(
            "POST",
            "/admin/stores",
            Some(ADMIN_TOKEN),
            Some(store_body(workflow_fixture::STORE_ID)),
        )
        .await;
    let token = store["token"].as_str().expect("store token").to_string();
    seed_order(&Db::open(&db_path).expect("the shared store"), "order-c");
    let engine = worker_engine(&db_path);

    // The feed request is open (nothing to send yet) when the worker, with its own store handle and
    // doorbell as in another process, files the token.
    let started = Instant::now();
    let feed = api.call("GET", "/store/events", Some(&token), None);
    let write = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let body = json!({"kind": "decision", "orderId": "order-c", "taskToken": "token-c", "timeoutS": 300.0});
        let batch = event(sqs_event(vec![sqs_record(
            "m1",
            "order-c",
            &body.to_string(),
        )]));
        worker::handle_batch(&engine, batch).await
    };
    let ((status, _, text), written) = tokio::join!(feed, write);
    assert!(written.batch_item_failures.is_empty());
    assert_eq!(status, 200, "{text}");
    let events = sse_events(&text);
    assert!(
        events
            .iter()
            .any(|(name, data)| name == "order_placed" && data["taskToken"] == "token-c"),
        "{text}"
    );
    // Well inside the first-event wait: the answer came from the re-read, not from the wait running out.
    assert!(
        started.elapsed() < api.feed_wait / 2,
        "{:?}",
        started.elapsed()
    );
}
