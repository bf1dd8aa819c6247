//! A blocking JSON client for the server's HTTP API, plus builders for typical request bodies.
//! Every `post` sends a fresh `Idempotency-Key` unless the test picks one.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::blocking::Client;
use serde_json::{json, Value};

use super::sse::{self, FeedEvent};

/// How long a test waits for an awaited feed event.
const FEED_WAIT: Duration = Duration::from_secs(10);

static KEY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A key unique within this test process.
pub fn fresh_key() -> String {
    format!(
        "test-{}-{}",
        std::process::id(),
        KEY_COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub replayed: bool,
}

impl Resp {
    /// The error code of an error body (`""` when absent).
    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// Asserts status and error code, and that the message is a non-empty sentence; returns the message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "status for {code}: body {}", self.text);
        assert_eq!(self.code(), code, "code: body {}", self.text);
        assert!(
            self.message().len() > 10,
            "message should explain: {}",
            self.text
        );
        self.message().to_string()
    }
}

pub struct Api {
    base: String,
    client: Client,
    /// Seconds the server's test clock has been advanced through this client.
    advanced_s: Cell<i64>,
}

impl Api {
    pub fn new(base: &str) -> Self {
        let client = Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("http client");
        Self {
            base: base.to_string(),
            client,
            advanced_s: Cell::new(0),
        }
    }

    fn finish(resp: reqwest::blocking::Response) -> Resp {
        let status = resp.status().as_u16();
        let replayed = resp.headers().get("idempotent-replayed").is_some();
        let text = resp.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            replayed,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::finish(req.send().expect("GET request"))
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.post_with_key(path, token, Some(&fresh_key()), body)
    }

    pub fn post_with_key(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: &Value,
    ) -> Resp {
        let bytes = serde_json::to_vec(body).expect("serialisable body");
        self.post_raw(path, token, key, "application/json", bytes)
    }

    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        Self::finish(req.send().expect("POST request"))
    }

    /// The server's clock as this client knows it (wall clock plus what the test advanced).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.advanced_s.get())
    }

    pub fn now_rfc3339(&self) -> String {
        self.now().to_rfc3339()
    }

    /// `POST /admin/clock/advance` (server started with --test-clock): fires every timer that fell due.
    pub fn advance(&self, admin: &str, seconds: i64) {
        let r = self.post(
            "/admin/clock/advance",
            Some(admin),
            &json!({ "seconds": seconds }),
        );
        assert_eq!(r.status, 200, "advance clock: {}", r.text);
        self.advanced_s.set(self.advanced_s.get() + seconds);
    }

    /// Tells a restarted server's client that its clock offset is back to zero.
    pub fn reset_clock(&self) {
        self.advanced_s.set(0);
    }

    pub fn create_store(&self, admin: &str, body: &Value) -> (String, String) {
        let r = self.post("/admin/stores", Some(admin), body);
        assert_eq!(r.status, 201, "create store: {}", r.text);
        (
            r.body["store"]["storeId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            r.body["token"].as_str().unwrap_or_default().to_string(),
        )
    }

    pub fn create_driver(&self, admin: &str) -> (String, String) {
        let r = self.post(
            "/admin/drivers",
            Some(admin),
            &json!({"name": "test driver"}),
        );
        assert_eq!(r.status, 201, "create driver: {}", r.text);
        (
            r.body["driverId"].as_str().unwrap_or_default().to_string(),
            r.body["token"].as_str().unwrap_or_default().to_string(),
        )
    }

    pub fn create_customer(&self, admin: &str) -> (String, String) {
        let r = self.post("/admin/customers", Some(admin), &json!({}));
        assert_eq!(r.status, 201, "create customer: {}", r.text);
        (
            r.body["customerId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            r.body["token"].as_str().unwrap_or_default().to_string(),
        )
    }

    /// Places an order (asserting 201) and reads its `order_placed` event from the store's feed after
    /// event id `after`.
    pub fn place_order(
        &self,
        customer: &str,
        store_id: &str,
        store_token: &str,
        after: i64,
    ) -> Placed {
        let placed = self.post("/order", Some(customer), &order_body(store_id));
        assert_eq!(placed.status, 201, "{}", placed.text);
        let order_id = text(&placed.body["order"]["orderId"]);
        let feed = self.feed_until("/store/events", store_token, after, |e| {
            e.kind == "order_placed" && e.data["orderId"] == order_id.as_str()
        });
        let event = feed.last().cloned().expect("the order_placed event");
        Placed {
            order_id,
            task_token: text(&event.data["taskToken"]),
            event_id: event.id,
        }
    }

    /// A location report of one fix at the given place, stamped with the server's clock.
    pub fn report_location(
        &self,
        driver: &str,
        lat: f64,
        lon: f64,
        order: Option<(&str, f64, f64)>,
    ) -> Resp {
        let mut body = json!({"fixes": [{"time": self.now_rfc3339(), "latitude": lat, "longitude": lon, "accuracyM": 8.0}]});
        if let Some((order_id, distance_m, eta_s)) = order {
            body["orderId"] = json!(order_id);
            body["distanceM"] = json!(distance_m);
            body["etaS"] = json!(eta_s);
        }
        self.post("/driver/locations", Some(driver), &body)
    }

    /// Reads the server-sent-event feed at `path` from `after` until an event of `kind` arrives (bounded).
    /// Returns its id and data.
    pub fn next_event(&self, path: &str, token: &str, after: i64, kind: &str) -> (i64, Value) {
        let events = self.feed_until(path, token, after, |e| e.kind == kind);
        events
            .last()
            .map(|e| (e.id, e.data.clone()))
            .unwrap_or((0, Value::Null))
    }

    /// Every event of the feed at `path` after `after` until `stop` holds (bounded by 10 s; panics
    /// when the event does not come).
    pub fn feed_until(
        &self,
        path: &str,
        token: &str,
        after: i64,
        stop: impl FnMut(&FeedEvent) -> bool,
    ) -> Vec<FeedEvent> {
        match sse::read_until(&self.base, path, token, after, FEED_WAIT, stop) {
            Ok(events) => events,
            Err(read) => panic!(
                "the awaited event did not come on {path} after id {after} within {FEED_WAIT:?}; read {read:?}"
            ),
        }
    }

    /// Sends the same POST (same key, same body) `n` times at once, one thread and connection each,
    /// released together by a barrier; returns the answers.
    pub fn post_concurrently(
        &self,
        n: usize,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Vec<Resp> {
        let (base, barrier) = (self.base.as_str(), Barrier::new(n));
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    scope.spawn(|| {
                        let api = Api::new(base);
                        barrier.wait();
                        api.post_with_key(path, Some(token), Some(key), body)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a concurrent request thread"))
                .collect()
        })
    }
}

/// An order just placed: its id, the store's decision token, and the id of its `order_placed` event.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order_id: String,
    pub task_token: String,
    pub event_id: i64,
}

/// A JSON string's text (`""` when the value is not a string).
pub fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// Central Helsinki, where the test stores are.
pub const STORE_LAT: f64 = 60.1699;
pub const STORE_LON: f64 = 24.9384;
/// A delivery address ~1.1 km north of the store.
pub const HOME_LAT: f64 = 60.1799;
pub const HOME_LON: f64 = 24.9384;

/// An always-open store at the test location.
pub fn store_body(store_id: &str) -> Value {
    json!({"storeId": store_id, "name": "Test Pizza", "location": {"latitude": STORE_LAT, "longitude": STORE_LON},
           "fence": {"radiusM": 40}, "capacity": 20})
}

pub fn order_body(store_id: &str) -> Value {
    json!({
        "storeId": store_id, "paymentId": "pay-1",
        "pies": [{"size": "large", "cheese": "medium", "toppings": ["basil", "tomato"]}],
        "deliveryAddress": {"coordinates": {"latitude": HOME_LAT, "longitude": HOME_LON},
            "streetAddress": "Mannerheimintie 1", "city": "Helsinki", "postalCode": "00100", "province": "Uusimaa"}
    })
}

/// Handoff evidence at a place, stamped with the server clock.
pub fn evidence(api: &Api, lat: f64, lon: f64) -> Value {
    json!({"time": api.now_rfc3339(), "latitude": lat, "longitude": lon, "accuracyM": 8.0, "insideFence": true, "mock": false})
}
