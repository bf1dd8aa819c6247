//! The workflow contract, run against either engine through the real `fencepost serve` process:
//! `FENCEPOST_CONTRACT_ENGINE=embedded` (the default; part of `cargo test`) or `stepfunctions` with
//! `FENCEPOST_AWS_ENDPOINT` pointing at moto (scripts/ci/20-stepfunctions.sh starts one, sets short
//! timeouts through `FENCEPOST_SFN_TIMING`, and builds the CLI with `--features stepfunctions`).
//!
//! The two engines differ in one way the tests allow for: Step Functions is asynchronous (a token reaches
//! the server over SQS a moment after the execution moves on) and its timeouts run on the wall clock, so
//! the suite waits for states (bounded polling) instead of assuming them, and lets a timeout lapse by
//! advancing the embedded engine's test clock or by sleeping past the short Step Functions timeout.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::api::{
    evidence, order_body, store_body, Api, HOME_LAT, HOME_LON, STORE_LAT, STORE_LON,
};
use support::server::{ServerOptions, TestServer};

/// The Step Functions timings scripts/ci/20-stepfunctions.sh sets in `FENCEPOST_SFN_TIMING` (seconds); the
/// embedded engine uses its defaults and a test clock.
const SFN_DECISION_S: u64 = 5;
const SFN_OFFER_S: u64 = 5;
const SFN_HEARTBEAT_S: u64 = 5;
const SFN_PICKUP_TIMEOUT_S: u64 = 20;
const SFN_DELIVERY_TIMEOUT_S: u64 = 12;
/// The embedded engine's pickup and delivery timeouts (`Timing` defaults, the same as the ASL's).
const PICKUP_TIMEOUT_S: i64 = 3 * 3600;
const DELIVERY_TIMEOUT_S: i64 = 3 * 3600;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Engine {
    Embedded,
    StepFunctions,
}

struct Harness {
    engine: Engine,
    server: TestServer,
    api: Api,
}

fn engine() -> Engine {
    match std::env::var("FENCEPOST_CONTRACT_ENGINE").as_deref() {
        Ok("stepfunctions") => Engine::StepFunctions,
        Ok("embedded") | Err(_) => Engine::Embedded,
        Ok(other) => {
            panic!("FENCEPOST_CONTRACT_ENGINE must be embedded or stepfunctions, not {other:?}")
        }
    }
}

impl Harness {
    fn start() -> Self {
        let engine = engine();
        let options = match engine {
            Engine::Embedded => ServerOptions::default(),
            Engine::StepFunctions => {
                let endpoint = std::env::var("FENCEPOST_AWS_ENDPOINT").expect(
                    "FENCEPOST_AWS_ENDPOINT (the moto server) for the stepfunctions engine",
                );
                let timing = std::env::var("FENCEPOST_SFN_TIMING").unwrap_or_default();
                assert!(
                    timing.contains("decisionTimeoutS"),
                    "FENCEPOST_SFN_TIMING must set the short timings"
                );
                ServerOptions {
                    test_clock: false,
                    seed_stores: None,
                    extra_args: vec![
                        "--engine".into(),
                        "stepfunctions".into(),
                        "--aws-endpoint".into(),
                        endpoint,
                    ],
                }
            }
        };
        let server = TestServer::start_with(options);
        let api = server.api();
        Self {
            engine,
            server,
            api,
        }
    }

    fn admin(&self) -> &str {
        &self.server.admin_token
    }

    /// Lets a wait of `embedded_s` (embedded default) / `sfn_s` (Step Functions test timing) time out.
    fn lapse(&self, embedded_s: i64, sfn_s: u64) {
        match self.engine {
            Engine::Embedded => self.api.advance(self.admin(), embedded_s + 1),
            Engine::StepFunctions => std::thread::sleep(Duration::from_millis(sfn_s * 1000 + 1500)),
        }
    }

    /// Lets time pass without reaching a timeout: `embedded_s` on the test clock, `sfn_s` on the wall clock.
    fn pass(&self, embedded_s: i64, sfn_s: u64) {
        match self.engine {
            Engine::Embedded => self.api.advance(self.admin(), embedded_s),
            Engine::StepFunctions => std::thread::sleep(Duration::from_secs(sfn_s)),
        }
    }

    /// Polls `GET /order/{id}?party=customer` until `pred` holds (bounded), returning the order view.
    #[track_caller]
    fn wait_order(
        &self,
        customer: &str,
        order_id: &str,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = Value::Null;
        while Instant::now() < deadline {
            let r = self
                .api
                .get(&format!("/order/{order_id}?party=customer"), Some(customer));
            assert_eq!(r.status, 200, "{}", r.text);
            last = r.body["order"].clone();
            if pred(&last) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "order never became {what}: last view {last}\n--- server log ---\n{}",
            self.server.log()
        );
    }

    /// `wait_order` until the order's status is `status`.
    #[track_caller]
    fn wait_status(&self, customer: &str, order_id: &str, status: &str) -> Value {
        self.wait_order(customer, order_id, status, |o| o["status"] == status)
    }

    /// Polls the driver's open offers until one is for `order_id`; returns its offer id.
    #[track_caller]
    fn wait_offer(&self, driver: &str, order_id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let offers = self.api.get("/driver/offers", Some(driver));
            assert_eq!(offers.status, 200, "{}", offers.text);
            let found = offers.body["offers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["orderId"] == order_id);
            if let Some(offer) = found {
                return offer["offerId"].as_str().unwrap_or_default().to_string();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "no offer for {order_id}\n--- server log ---\n{}",
            self.server.log()
        );
    }
}

struct World {
    store_id: String,
    store: String,
    customer: String,
}

fn world(h: &Harness, store_id: &str) -> World {
    let (store_id, store) = h.api.create_store(h.admin(), &store_body(store_id));
    let (_, customer) = h.api.create_customer(h.admin());
    World {
        store_id,
        store,
        customer,
    }
}

/// A driver on shift `metres_north` of the store.
fn driver(h: &Harness, metres_north: f64) -> (String, String) {
    let (id, token) = h.api.create_driver(h.admin());
    let r = h.api.report_location(
        &token,
        STORE_LAT + metres_north / 111_000.0,
        STORE_LON,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    (id, token)
}

/// Places an order and returns its id and the decision token from the store feed.
fn place(h: &Harness, w: &World) -> (String, String) {
    let placed = h
        .api
        .post("/order", Some(&w.customer), &order_body(&w.store_id));
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.body["order"]["status"], "initiated");
    let order_id = placed.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut after = 0;
    loop {
        let (id, event) = h
            .api
            .next_event("/store/events", &w.store, after, "order_placed");
        if event["orderId"] == order_id.as_str() {
            let token = event["taskToken"].as_str().unwrap_or_default().to_string();
            assert!(!token.is_empty(), "order_placed without a token: {event}");
            return (order_id, token);
        }
        after = id;
    }
}

fn decide(
    h: &Harness,
    w: &World,
    order_id: &str,
    token: &str,
    accepted: bool,
) -> support::api::Resp {
    let mut body = json!({"orderId": order_id, "storeId": w.store_id, "accepted": accepted, "taskToken": token});
    if !accepted {
        body["declinedReason"] = json!("no_capacity");
    }
    h.api.post("/order/decision", Some(&w.store), &body)
}

#[test]
fn full_lifecycle_from_placement_to_delivery() {
    let h = Harness::start();
    let w = world(&h, "contract-full");
    let (driver_id, drv) = driver(&h, 300.0);
    let (order_id, token) = place(&h, &w);

    let decided = decide(&h, &w, &order_id, &token, true);
    assert_eq!(decided.status, 200, "{}", decided.text);
    assert_eq!(
        decided.body["message"],
        format!("Decision to accept order [{order_id}] has been received.")
    );

    let offer_id = h.wait_offer(&drv, &order_id);
    let accepted = h.api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(&drv),
        &json!({}),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let view = h.wait_status(&w.customer, &order_id, "driver_assigned");
    assert!(
        !view.to_string().contains(&token),
        "the customer view leaks the token"
    );

    // En route: the location report naming the order is the pickup wait's heartbeat.
    let report = h.api.report_location(
        &drv,
        STORE_LAT + 0.001,
        STORE_LON,
        Some((&order_id, 111.0, 25.0)),
    );
    assert_eq!(report.status, 200, "{}", report.text);
    let arrived = h.api.post(
        "/order/arrival",
        Some(&drv),
        &json!({"orderId": order_id, "event": "arrived_at_store", "time": h.api.now_rfc3339()}),
    );
    assert_eq!(arrived.status, 200, "{}", arrived.text);

    pick_up(&h, &w, &drv, &order_id);

    let delivered = h.api.post(
        "/order/delivered",
        Some(&drv),
        &json!({"orderId": order_id, "evidence": evidence(&h.api, HOME_LAT, HOME_LON)}),
    );
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    let done = h.wait_status(&w.customer, &order_id, "delivered");
    assert!(done["deliveredAt"].is_string(), "{done}");
    let (_, assigned) = h
        .api
        .next_event("/store/events", &w.store, 0, "driver_assigned");
    assert_eq!(assigned["driverId"], driver_id.as_str());
    h.api.next_event("/store/events", &w.store, 0, "delivered");
}

#[test]
fn a_declined_order_keeps_its_id_and_reason() {
    let h = Harness::start();
    let w = world(&h, "contract-decline");
    let (order_id, token) = place(&h, &w);
    let declined = decide(&h, &w, &order_id, &token, false);
    assert_eq!(declined.status, 200, "{}", declined.text);
    assert_eq!(
        declined.body["message"],
        format!("Decision to decline order [{order_id}] has been received.")
    );
    let view = h.wait_status(&w.customer, &order_id, "declined_by_store");
    assert_eq!(view["declinedReason"], "no_capacity");
    // The workflow ended on the decline path: the order stays declined (nothing re-opens it).
    std::thread::sleep(Duration::from_millis(500));
    let later = h.api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&w.customer),
    );
    assert_eq!(later.body["order"]["status"], "declined_by_store");
}

#[test]
fn a_reused_token_is_task_timed_out() {
    let h = Harness::start();
    let w = world(&h, "contract-reuse");
    let (order_id, token) = place(&h, &w);
    assert_eq!(decide(&h, &w, &order_id, &token, true).status, 200);
    let again = decide(&h, &w, &order_id, &token, true);
    let message = again.expect_error(409, "task_timed_out");
    assert!(message.contains(&order_id), "{message}");
    // Declining with the used token is refused the same way, and the order stays accepted.
    decide(&h, &w, &order_id, &token, false).expect_error(409, "task_timed_out");
    h.wait_status(&w.customer, &order_id, "accepted_by_store");
}

#[test]
fn an_unknown_order_or_token_gets_the_documented_error() {
    let h = Harness::start();
    let w = world(&h, "contract-unknown");
    let (order_id, token) = place(&h, &w);
    let missing = "NoSuchOrder0123456789";
    let unknown = decide(&h, &w, missing, &token, true);
    assert!(unknown
        .expect_error(404, "order_not_found")
        .contains(missing));
    h.api
        .get(
            &format!("/order/{missing}?party=customer"),
            Some(&w.customer),
        )
        .expect_error(404, "order_not_found");
    // A forged token, and a real token presented for another order, are InvalidToken.
    decide(
        &h,
        &w,
        &order_id,
        "fpt_forgedforgedforgedforgedforgedforgedforg",
        true,
    )
    .expect_error(400, "invalid_token");
    decide(&h, &w, &order_id, "not a token at all", true).expect_error(400, "invalid_token");
    let (other_id, _) = place(&h, &w);
    decide(&h, &w, &other_id, &token, true).expect_error(400, "invalid_token");
    // None of that used the real token.
    assert_eq!(decide(&h, &w, &order_id, &token, true).status, 200);
}

#[test]
fn a_decision_timeout_cancels_the_order_and_closes_the_token() {
    let h = Harness::start();
    let w = world(&h, "contract-timeout");
    let (order_id, token) = place(&h, &w);
    h.lapse(300, SFN_DECISION_S);
    let view = h.wait_status(&w.customer, &order_id, "cancelled");
    assert_eq!(view["cancelReason"], "store_timeout");
    let late = decide(&h, &w, &order_id, &token, true);
    assert!(late.expect_error(409, "task_timed_out").contains(&order_id));
    let (_, cancelled) = h
        .api
        .next_event("/store/events", &w.store, 0, "order_cancelled");
    assert_eq!(cancelled["reason"], "store_timeout");
}

#[test]
fn an_expired_offer_goes_to_the_next_nearest_driver() {
    let h = Harness::start();
    let w = world(&h, "contract-redispatch");
    let (_, near) = driver(&h, 200.0);
    let (far_id, far) = driver(&h, 900.0);
    let (order_id, token) = place(&h, &w);
    assert_eq!(decide(&h, &w, &order_id, &token, true).status, 200);
    let first = h.wait_offer(&near, &order_id);
    h.lapse(60, SFN_OFFER_S);
    let second = h.wait_offer(&far, &order_id);
    assert_ne!(first, second);
    // The expired offer can no longer be accepted.
    h.api
        .post(
            &format!("/driver/offers/{first}/accept"),
            Some(&near),
            &json!({}),
        )
        .expect_error(409, "task_timed_out");
    accept(&h, &w, &far, &order_id, &second);
    let (_, assigned) = h
        .api
        .next_event("/store/events", &w.store, 0, "driver_assigned");
    assert_eq!(assigned["driverId"], far_id.as_str());
}

#[test]
fn a_lapsed_pickup_heartbeat_releases_the_driver() {
    let h = Harness::start();
    let w = world(&h, "contract-heartbeat");
    let (driver_id, drv) = driver(&h, 300.0);
    let order_id = assigned(&h, &w, &drv);
    // No location report names the order: the heartbeat lapses and the driver is released.
    h.lapse(120, SFN_HEARTBEAT_S);
    h.wait_order(&w.customer, &order_id, "back to accepted_by_store", |o| {
        o["status"] == "accepted_by_store"
    });
    let (_, unassigned) = h
        .api
        .next_event("/store/events", &w.store, 0, "driver_unassigned");
    assert_eq!(unassigned["driverId"], driver_id.as_str());
    assert_eq!(unassigned["reason"], "heartbeat_timeout");
}

#[test]
fn location_reports_are_the_pickup_heartbeat() {
    let h = Harness::start();
    let w = world(&h, "contract-alive");
    let (_, drv) = driver(&h, 300.0);
    let order_id = assigned(&h, &w, &drv);
    // Four heartbeat-sized gaps, each shorter than the heartbeat period, with a report naming the order in
    // between: together far longer than one period, yet the driver keeps the order.
    for _ in 0..4 {
        h.pass(100, 2);
        let r = h.api.report_location(
            &drv,
            STORE_LAT + 0.001,
            STORE_LON,
            Some((&order_id, 111.0, 25.0)),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    h.pass(60, 1);
    let view = h.api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&w.customer),
    );
    assert_eq!(
        view.body["order"]["status"], "driver_assigned",
        "{}",
        view.text
    );
}

/// `drv` accepts offer `offer_id`, and the order is theirs.
fn accept(h: &Harness, w: &World, drv: &str, order_id: &str, offer_id: &str) {
    let accepted = h.api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(drv),
        &json!({}),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    h.wait_status(&w.customer, order_id, "driver_assigned");
}

/// Places an order, has the store accept it and `drv` (the nearest driver) accept the offer.
fn assigned(h: &Harness, w: &World, drv: &str) -> String {
    let (order_id, token) = place(h, w);
    assert_eq!(decide(h, w, &order_id, &token, true).status, 200);
    let offer = h.wait_offer(drv, &order_id);
    accept(h, w, drv, &order_id, &offer);
    order_id
}

/// The driver scans the store's code at the store: the order is out for delivery.
fn pick_up(h: &Harness, w: &World, drv: &str, order_id: &str) {
    let code = h
        .api
        .get(&format!("/order/{order_id}/pickup-code"), Some(&w.store));
    assert_eq!(code.status, 200, "{}", code.text);
    let picked = h.api.post(
        "/order/pickup",
        Some(drv),
        &json!({"orderId": order_id, "code": code.body["qr"], "evidence": evidence(&h.api, STORE_LAT, STORE_LON)}),
    );
    assert_eq!(picked.status, 200, "{}", picked.text);
    h.wait_status(&w.customer, order_id, "out_for_delivery");
}

#[test]
fn a_pickup_that_never_happens_times_out_and_the_order_is_redispatched() {
    let h = Harness::start();
    let w = world(&h, "contract-pickup-timeout");
    let (driver_id, drv) = driver(&h, 300.0);
    let (_, backup) = driver(&h, 900.0);
    let order_id = assigned(&h, &w, &drv);
    // The driver keeps reporting (so the heartbeat never lapses) but never picks up: the pickup wait's own
    // timeout ends it. Bounded: at most the timeout plus a few steps.
    let (step_embedded, step_sfn) = (100, 2);
    let steps = match h.engine {
        Engine::Embedded => PICKUP_TIMEOUT_S / step_embedded + 3,
        Engine::StepFunctions => (SFN_PICKUP_TIMEOUT_S / step_sfn + 10) as i64,
    };
    let mut released = false;
    for _ in 0..steps {
        h.pass(step_embedded, step_sfn);
        let heartbeat = h.api.report_location(
            &drv,
            STORE_LAT + 0.003,
            STORE_LON,
            Some((&order_id, 333.0, 60.0)),
        );
        let r = h
            .api
            .report_location(&backup, STORE_LAT + 0.008, STORE_LON, None);
        assert_eq!(r.status, 200, "{}", r.text);
        if heartbeat.status != 200 {
            // The order was taken from this driver: they may no longer report on it.
            heartbeat.expect_error(403, "forbidden");
            released = true;
            break;
        }
    }
    assert!(released, "the pickup never timed out\n{}", h.server.log());
    let (_, unassigned) = h
        .api
        .next_event("/store/events", &w.store, 0, "driver_unassigned");
    assert_eq!(unassigned["driverId"], driver_id.as_str());
    assert_eq!(unassigned["reason"], "pickup_timeout");
    let (_, told) = h.api.next_event("/driver/events", &drv, 0, "unassigned");
    assert_eq!(told["reason"], "pickup_timeout");
    // Back to dispatch: the next driver is offered the order, and can take it.
    let offer = h.wait_offer(&backup, &order_id);
    accept(&h, &w, &backup, &order_id, &offer);
}

#[test]
fn an_unconfirmed_delivery_is_flagged_overdue_and_frees_the_driver() {
    let h = Harness::start();
    let w = world(&h, "contract-delivery-timeout");
    let (driver_id, drv) = driver(&h, 300.0);
    let order_id = assigned(&h, &w, &drv);
    pick_up(&h, &w, &drv, &order_id);
    h.lapse(DELIVERY_TIMEOUT_S, SFN_DELIVERY_TIMEOUT_S);
    h.wait_status(&w.customer, &order_id, "delivery_overdue");
    let (_, overdue) = h
        .api
        .next_event("/store/events", &w.store, 0, "delivery_overdue");
    assert_eq!(overdue["orderId"], order_id.as_str());
    assert_eq!(overdue["driverId"], driver_id.as_str());
    h.api
        .next_event("/driver/events", &drv, 0, "delivery_overdue");
    // The wait is over: a late confirmation is refused, and the driver is free for new orders.
    h.api
        .post(
            "/order/delivered",
            Some(&drv),
            &json!({"orderId": order_id, "evidence": evidence(&h.api, HOME_LAT, HOME_LON)}),
        )
        .expect_error(409, "invalid_state");
    let assignments = h.api.get("/driver/assignments", Some(&drv));
    assert_eq!(assignments.status, 200, "{}", assignments.text);
    assert_eq!(
        assignments.body["orders"],
        json!([]),
        "{}",
        assignments.text
    );
}

#[test]
fn a_missed_offer_is_made_again_once_everyone_was_asked_but_a_declined_one_is_not() {
    let h = Harness::start();
    let w = world(&h, "contract-reoffer");
    let (near_id, near) = driver(&h, 200.0);
    let (_, far) = driver(&h, 900.0);
    let on_shift = || {
        for (drv, metres) in [(&near, 200.0), (&far, 900.0)] {
            let r = h
                .api
                .report_location(drv, STORE_LAT + metres / 111_000.0, STORE_LON, None);
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    let (order_id, token) = place(&h, &w);
    assert_eq!(decide(&h, &w, &order_id, &token, true).status, 200);
    // near misses the offer; far is asked next and declines.
    let first = h.wait_offer(&near, &order_id);
    on_shift();
    h.lapse(60, SFN_OFFER_S);
    let second = h.wait_offer(&far, &order_id);
    let declined = h.api.post(
        &format!("/driver/offers/{second}/decline"),
        Some(&far),
        &json!({"reason": "too far"}),
    );
    assert_eq!(declined.status, 200, "{}", declined.text);
    // Everyone has been asked: near, who only missed it, is asked again.
    let third = h.wait_offer(&near, &order_id);
    assert_ne!(first, third);
    // near misses again. far has never missed and would come first if a decline were not final.
    on_shift();
    h.lapse(60, SFN_OFFER_S);
    let fourth = h.wait_offer(&near, &order_id);
    assert_ne!(third, fourth);
    let far_offers = h.api.get("/driver/offers", Some(&far));
    assert_eq!(far_offers.body["offers"], json!([]), "{}", far_offers.text);
    accept(&h, &w, &near, &order_id, &fourth);
    let (_, assigned) = h
        .api
        .next_event("/store/events", &w.store, 0, "driver_assigned");
    assert_eq!(assigned["driverId"], near_id.as_str());
}
