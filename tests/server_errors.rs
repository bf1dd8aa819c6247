//! Every error the API promises, against the real server over HTTP: status, code and message.

mod support;

use serde_json::{json, Value};
use support::api::{
    evidence, fresh_key, order_body, store_body, text, Api, Resp, STORE_LAT, STORE_LON,
};
use support::server::{ServerOptions, TestServer};
use support::sse::count;

struct World {
    server: TestServer,
    store_id: String,
    store: String,
    other_store: String,
    driver: String,
    other_driver: String,
    customer: String,
    other_customer: String,
}

fn world() -> World {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.clone();
    let (store_id, store) = api.create_store(&admin, &store_body("s1"));
    let (_, other_store) = api.create_store(&admin, &store_body("s2"));
    let (_, driver) = api.create_driver(&admin);
    let (_, other_driver) = api.create_driver(&admin);
    let (_, customer) = api.create_customer(&admin);
    let (_, other_customer) = api.create_customer(&admin);
    World {
        server,
        store_id,
        store,
        other_store,
        driver,
        other_driver,
        customer,
        other_customer,
    }
}

/// Places an order and returns (orderId, decision token, id of its `order_placed` event).
fn place(api: &Api, w: &World, after: i64) -> (String, String, i64) {
    let placed = api.place_order(&w.customer, &w.store_id, &w.store, after);
    (placed.order_id, placed.task_token, placed.event_id)
}

/// The store's pickup code for its order.
fn pickup_code(api: &Api, w: &World, order_id: &str) -> String {
    let r = api.get(&format!("/order/{order_id}/pickup-code"), Some(&w.store));
    assert_eq!(r.status, 200, "{}", r.text);
    text(&r.body["code"])
}

/// Places an order, accepts it, and has `w.driver` accept the offer. Returns the order id.
fn assigned_order(api: &Api, w: &World) -> String {
    assert_eq!(
        api.report_location(&w.driver, STORE_LAT, STORE_LON, None)
            .status,
        200
    );
    let (order_id, token, _) = place(api, w, 0);
    let d = api.post(
        "/order/decision",
        Some(&w.store),
        &json!({"orderId": order_id, "storeId": w.store_id, "accepted": true, "taskToken": token}),
    );
    assert_eq!(d.status, 200, "{}", d.text);
    let offers = api.get("/driver/offers", Some(&w.driver));
    let offer_id = offers.body["offers"][0]["offerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let a = api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(&w.driver),
        &json!({}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    order_id
}

#[test]
fn order_placement_and_reading_errors() {
    let w = world();
    let api = w.server.api();
    // Unknown store: the seed's message, plus a code.
    let mut body = order_body("nope");
    let r = api.post("/order", Some(&w.customer), &body);
    assert_eq!(
        r.expect_error(404, "store_not_found"),
        "Store with id [nope] does not exist."
    );
    // Invalid bodies name the field at fault.
    body = order_body(&w.store_id);
    body["pies"][0]["size"] = json!("huge");
    assert!(api
        .post("/order", Some(&w.customer), &body)
        .expect_error(400, "invalid_body")
        .starts_with("Invalid request body"));
    body = order_body(&w.store_id);
    body.as_object_mut().map(|o| o.remove("paymentId"));
    assert!(api
        .post("/order", Some(&w.customer), &body)
        .expect_error(400, "invalid_body")
        .contains("paymentId"));
    body = order_body(&w.store_id);
    body["deliveryAddress"]["coordinates"]["latitude"] = json!(123.0);
    let msg = api
        .post("/order", Some(&w.customer), &body)
        .expect_error(400, "invalid_body");
    assert!(msg.contains("latitude") && !msg.contains("123"), "{msg}");
    body = order_body(&w.store_id);
    body["pies"] = json!([]);
    assert!(api
        .post("/order", Some(&w.customer), &body)
        .expect_error(400, "invalid_body")
        .contains("pies"));
    let r = api.post_raw(
        "/order",
        Some(&w.customer),
        None,
        "application/json",
        b"{not json".to_vec(),
    );
    r.expect_error(400, "invalid_body");
    let r = api.post_raw(
        "/order",
        Some(&w.customer),
        None,
        "text/plain",
        b"{}".to_vec(),
    );
    r.expect_error(415, "unsupported_media_type");
    // Oversized bodies stop at the limit.
    let huge = format!("{{\"storeId\": \"{}\"}}", "x".repeat(300 * 1024));
    api.post_raw(
        "/order",
        Some(&w.customer),
        None,
        "application/json",
        huge.into_bytes(),
    )
    .expect_error(413, "payload_too_large");
    // Authentication and party.
    api.post("/order", None, &order_body(&w.store_id))
        .expect_error(401, "unauthorized");
    api.post("/order", Some("fpc_forged"), &order_body(&w.store_id))
        .expect_error(401, "unauthorized");
    api.post("/order", Some(&w.driver), &order_body(&w.store_id))
        .expect_error(403, "wrong_party");

    let (order_id, _, _) = place(&api, &w, 0);
    let r = api.get(&format!("/order/{order_id}"), Some(&w.customer));
    assert_eq!(
        r.expect_error(400, "missing_party"),
        "Must specify a party 'customer', 'store' or 'driver' as a query string parameter."
    );
    api.get(&format!("/order/{order_id}?party=chef"), Some(&w.customer))
        .expect_error(400, "invalid_party");
    let r = api.get("/order/unknownorder?party=customer", Some(&w.customer));
    assert_eq!(
        r.expect_error(404, "order_not_found"),
        "Order with id [unknownorder] does not exist."
    );
    api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&w.other_customer),
    )
    .expect_error(403, "forbidden");
    api.get(
        &format!("/order/{order_id}?party=store"),
        Some(&w.other_store),
    )
    .expect_error(403, "forbidden");
    api.get(&format!("/order/{order_id}?party=driver"), Some(&w.driver))
        .expect_error(403, "forbidden");
    api.get(&format!("/order/{order_id}?party=store"), Some(&w.customer))
        .expect_error(403, "wrong_party");
    api.get("/no/such/path", None)
        .expect_error(404, "not_found");
    // A path that is not UTF-8 once decoded: a JSON error like every other, the text not echoed.
    let msg = api
        .get("/order/%FF%FE?party=customer", Some(&w.customer))
        .expect_error(400, "invalid_path");
    assert!(!msg.contains("%FF"), "{msg}");
    api.post("/driver/offers/%FF/accept", Some(&w.driver), &json!({}))
        .expect_error(400, "invalid_path");
    // A feed resumed from a point that is not an event id.
    api.get("/store/events?after=-3", Some(&w.store))
        .expect_error(400, "invalid_event_id");
}

#[test]
fn decision_token_errors() {
    let w = world();
    let api = w.server.api();
    let (order_a, token_a, after) = place(&api, &w, 0);
    let (order_b, token_b, _) = place(&api, &w, after);
    let decide = |order: &str, token: &str, as_store: &str, store_id: &str| {
        api.post(
            "/order/decision",
            Some(as_store),
            &json!({"orderId": order, "storeId": store_id, "accepted": true, "taskToken": token}),
        )
    };
    // Malformed, unknown, and another order's token: InvalidToken → 400.
    decide(&order_a, "garbage", &w.store, &w.store_id).expect_error(400, "invalid_token");
    let unknown = format!("fpt_{}", "A".repeat(43));
    decide(&order_a, &unknown, &w.store, &w.store_id).expect_error(400, "invalid_token");
    decide(&order_a, &token_b, &w.store, &w.store_id).expect_error(400, "invalid_token");
    // Another store cannot decide; a body naming another store is refused too.
    decide(&order_a, &token_a, &w.other_store, "s2").expect_error(403, "forbidden");
    decide(&order_a, &token_a, &w.store, "s2").expect_error(403, "forbidden");
    decide("nope", &token_a, &w.store, &w.store_id).expect_error(404, "order_not_found");
    // First use works; the second is TaskTimedOut → 409, with a different idempotency key.
    assert_eq!(
        decide(&order_a, &token_a, &w.store, &w.store_id).status,
        200
    );
    decide(&order_a, &token_a, &w.store, &w.store_id).expect_error(409, "task_timed_out");
    // The other order is untouched.
    assert_eq!(
        decide(&order_b, &token_b, &w.store, &w.store_id).status,
        200
    );
    // Pickup codes are for the store's own accepted orders.
    api.get(
        &format!("/order/{order_a}/pickup-code"),
        Some(&w.other_store),
    )
    .expect_error(403, "forbidden");
    api.get(&format!("/order/{order_a}/pickup-code"), Some(&w.driver))
        .expect_error(403, "wrong_party");
}

#[test]
fn idempotency_replays_the_first_answer() {
    let w = world();
    let api = w.server.api();
    let key = fresh_key();
    let first = api.post_with_key(
        "/order",
        Some(&w.customer),
        Some(&key),
        &order_body(&w.store_id),
    );
    assert_eq!(first.status, 201);
    let replay = api.post_with_key(
        "/order",
        Some(&w.customer),
        Some(&key),
        &order_body(&w.store_id),
    );
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.text, first.text,
        "same body, same order id: no second order"
    );
    assert!(replay.replayed && !first.replayed);
    let mut other = order_body(&w.store_id);
    other["paymentId"] = json!("pay-2");
    api.post_with_key("/order", Some(&w.customer), Some(&key), &other)
        .expect_error(422, "idempotency_key_reused");
    // Errors replay too (a replayed 409 stays a 409, a replayed 404 stays 404).
    let k404 = fresh_key();
    let a = api.post_with_key(
        "/order",
        Some(&w.customer),
        Some(&k404),
        &order_body("nope"),
    );
    let b = api.post_with_key(
        "/order",
        Some(&w.customer),
        Some(&k404),
        &order_body("nope"),
    );
    assert_eq!((a.status, a.text.clone()), (b.status, b.text.clone()));
    // Keys are per caller: the same key from another customer is a new request.
    let c = api.post_with_key(
        "/order",
        Some(&w.other_customer),
        Some(&key),
        &order_body(&w.store_id),
    );
    assert_eq!(c.status, 201);
    assert_ne!(c.body["order"]["orderId"], first.body["order"]["orderId"]);
    // Driver calls require a key; keys must be printable.
    let fix = json!({"fixes": [{"time": api.now_rfc3339(), "latitude": 60.0, "longitude": 24.0}]});
    api.post_with_key("/driver/locations", Some(&w.driver), None, &fix)
        .expect_error(400, "missing_idempotency_key");
    api.post_with_key(
        "/driver/locations",
        Some(&w.driver),
        Some(&"k".repeat(200)),
        &fix,
    )
    .expect_error(400, "invalid_idempotency_key");
}

#[test]
fn driver_errors_offers_locations_pickup_evidence() {
    let w = world();
    let api = w.server.api();
    let order_id = assigned_order(&api, &w);
    // Location reports: bad values are refused with the fix index, never the value.
    let now = api.now_rfc3339();
    let bad = json!({"fixes": [{"time": now, "latitude": 91.5, "longitude": 24.0}]});
    let msg = api
        .post("/driver/locations", Some(&w.driver), &bad)
        .expect_error(400, "invalid_body");
    assert!(
        msg.contains("fixes[0].latitude") && !msg.contains("91.5"),
        "{msg}"
    );
    let earlier = (api.now() - chrono::Duration::seconds(10)).to_rfc3339();
    let backwards = json!({"fixes": [{"time": now, "latitude": 60.0, "longitude": 24.0},
                                     {"time": earlier, "latitude": 60.0, "longitude": 24.0}]});
    assert!(api
        .post("/driver/locations", Some(&w.driver), &backwards)
        .expect_error(400, "invalid_body")
        .contains("backwards"));
    api.post("/driver/locations", Some(&w.driver), &json!({"fixes": []}))
        .expect_error(400, "invalid_body");
    let neg =
        json!({"fixes": [{"time": now, "latitude": 60.0, "longitude": 24.0, "accuracyM": -1.0}]});
    api.post("/driver/locations", Some(&w.driver), &neg)
        .expect_error(400, "invalid_body");
    // Another driver cannot report on, pick up, or read this order.
    let on_order =
        json!({"fixes": [{"time": now, "latitude": 60.0, "longitude": 24.0}], "orderId": order_id});
    api.post("/driver/locations", Some(&w.other_driver), &on_order)
        .expect_error(403, "forbidden");
    let code = pickup_code(&api, &w, &order_id);
    let pickup = |driver: &str, code: &str, ev: Value| {
        api.post(
            "/order/pickup",
            Some(driver),
            &json!({"orderId": order_id, "code": code, "evidence": ev}),
        )
    };
    pickup(&w.other_driver, &code, evidence(&api, STORE_LAT, STORE_LON))
        .expect_error(403, "forbidden");
    pickup(&w.driver, &code, json!({})).expect_error(400, "invalid_body");
    // A forged code, and a real code of another order, are refused.
    pickup(
        &w.driver,
        "AAAAAAAAAAAA",
        evidence(&api, STORE_LAT, STORE_LON),
    )
    .expect_error(403, "invalid_pickup_code");
    pickup(
        &w.driver,
        &format!("FP1:otherorder:{code}"),
        evidence(&api, STORE_LAT, STORE_LON),
    )
    .expect_error(403, "invalid_pickup_code");
    // Evidence: mock, stale, imprecise, outside the fence, device says outside.
    let mut ev = evidence(&api, STORE_LAT, STORE_LON);
    ev["mock"] = json!(true);
    pickup(&w.driver, &code, ev).expect_error(422, "mock_location");
    let mut ev = evidence(&api, STORE_LAT, STORE_LON);
    ev["time"] = json!((api.now() - chrono::Duration::seconds(600)).to_rfc3339());
    pickup(&w.driver, &code, ev).expect_error(422, "stale_evidence");
    let mut ev = evidence(&api, STORE_LAT, STORE_LON);
    ev["accuracyM"] = json!(500.0);
    pickup(&w.driver, &code, ev).expect_error(422, "inaccurate_evidence");
    pickup(
        &w.driver,
        &code,
        evidence(&api, STORE_LAT + 0.01, STORE_LON),
    )
    .expect_error(422, "outside_fence");
    let mut ev = evidence(&api, STORE_LAT, STORE_LON);
    ev["insideFence"] = json!(false);
    pickup(&w.driver, &code, ev).expect_error(422, "outside_fence");
    // Delivery before pickup is the wrong state.
    api.post(
        "/order/delivered",
        Some(&w.driver),
        &json!({"orderId": order_id, "evidence": evidence(&api, 60.0, 24.0)}),
    )
    .expect_error(409, "invalid_state");
    // The genuine pickup works once; a new attempt (new key) is TaskTimedOut.
    assert_eq!(
        pickup(&w.driver, &code, evidence(&api, STORE_LAT, STORE_LON)).status,
        200
    );
    pickup(&w.driver, &code, evidence(&api, STORE_LAT, STORE_LON))
        .expect_error(409, "task_timed_out");
    api.post(
        "/order/arrival",
        Some(&w.driver),
        &json!({"orderId": order_id, "event": "arrived_at_store", "time": api.now_rfc3339()}),
    )
    .expect_error(409, "invalid_state");
    // Offers: unknown, someone else's, answered.
    api.post(
        "/driver/offers/ofr_nope/accept",
        Some(&w.driver),
        &json!({}),
    )
    .expect_error(404, "offer_not_found");
    api.get("/driver/offers", Some(&w.customer))
        .expect_error(403, "wrong_party");
}

#[test]
fn offer_answers_and_admin_errors() {
    let w = world();
    let api = w.server.api();
    let admin = w.server.admin_token.clone();
    assert_eq!(
        api.report_location(&w.driver, STORE_LAT, STORE_LON, None)
            .status,
        200
    );
    let (order_id, token, _) = place(&api, &w, 0);
    api.post(
        "/order/decision",
        Some(&w.store),
        &json!({"orderId": order_id, "storeId": w.store_id, "accepted": true, "taskToken": token}),
    );
    let offer_id = api.get("/driver/offers", Some(&w.driver)).body["offers"][0]["offerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(&w.other_driver),
        &json!({}),
    )
    .expect_error(403, "forbidden");
    let declined = api.post(
        &format!("/driver/offers/{offer_id}/decline"),
        Some(&w.driver),
        &json!({"reason": "too far"}),
    );
    assert_eq!(declined.status, 200, "{}", declined.text);
    api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(&w.driver),
        &json!({}),
    )
    .expect_error(409, "task_timed_out");
    // Admin: party, duplicates, validation.
    api.post("/admin/stores", Some(&w.store), &store_body("x"))
        .expect_error(403, "wrong_party");
    api.post("/admin/stores", Some(&admin), &store_body("s1"))
        .expect_error(409, "store_exists");
    let mut bad = store_body("s3");
    bad["openingHours"] = json!([{"days": ["mon"], "open": "25:00", "close": "10:00"}]);
    assert!(api
        .post("/admin/stores", Some(&admin), &bad)
        .expect_error(400, "invalid_body")
        .contains("openingHours"));
    api.post("/admin/stores/nope/token", Some(&admin), &json!({}))
        .expect_error(404, "store_not_found");
    // A re-issued store token replaces the old one.
    let fresh = api.post("/admin/stores/s1/token", Some(&admin), &json!({}));
    assert_eq!(fresh.status, 200);
    api.get("/store/events", Some(&w.store))
        .expect_error(401, "unauthorized");
}

#[test]
fn clock_control_is_absent_without_the_flag() {
    let server = TestServer::start_with(ServerOptions {
        test_clock: false,
        ..ServerOptions::default()
    });
    let api = server.api();
    api.post(
        "/admin/clock/advance",
        Some(&server.admin_token),
        &json!({"seconds": 10}),
    )
    .expect_error(404, "not_found");
}

/// Identical answers, exactly one of them fresh (the others replayed).
#[track_caller]
fn assert_one_answer(answers: &[Resp], status: u16) -> Resp {
    let first = &answers[0];
    assert_eq!(first.status, status, "{}", first.text);
    for a in answers {
        assert_eq!((a.status, &a.text), (first.status, &first.text));
    }
    let fresh = answers.iter().filter(|a| !a.replayed).count();
    assert_eq!(fresh, 1, "one request did the work, the others replayed it");
    first.clone()
}

#[test]
fn concurrent_requests_with_one_key_take_effect_once() {
    const N: usize = 8;
    let w = world();
    let api = w.server.api();
    assert_eq!(
        api.report_location(&w.driver, STORE_LAT, STORE_LON, None)
            .status,
        200
    );
    let placed = api.post_concurrently(
        N,
        "/order",
        &w.customer,
        &fresh_key(),
        &order_body(&w.store_id),
    );
    let placed = assert_one_answer(&placed, 201);
    let order_id = placed.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, ev) = api.next_event("/store/events", &w.store, 0, "order_placed");
    let decision = json!({"orderId": order_id, "storeId": w.store_id, "accepted": true,
                          "taskToken": ev["taskToken"]});
    let decided = api.post_concurrently(N, "/order/decision", &w.store, &fresh_key(), &decision);
    assert_one_answer(&decided, 200);

    let offer_id = api.get("/driver/offers", Some(&w.driver)).body["offers"][0]["offerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let accepted = api.post_concurrently(
        N,
        &format!("/driver/offers/{offer_id}/accept"),
        &w.driver,
        &fresh_key(),
        &json!({}),
    );
    assert_eq!(
        assert_one_answer(&accepted, 200).body["order"]["status"],
        "driver_assigned"
    );
    let report = json!({"fixes": [{"time": api.now_rfc3339(), "latitude": STORE_LAT, "longitude": STORE_LON}],
                        "orderId": order_id, "distanceM": 12.0, "etaS": 3.0});
    let reports = api.post_concurrently(N, "/driver/locations", &w.driver, &fresh_key(), &report);
    assert_one_answer(&reports, 200);
    let code = pickup_code(&api, &w, &order_id);
    let pickup = json!({"orderId": order_id, "code": code, "evidence": evidence(&api, STORE_LAT, STORE_LON)});
    let pickups = api.post_concurrently(N, "/order/pickup", &w.driver, &fresh_key(), &pickup);
    assert_one_answer(&pickups, 200);

    // Each call took effect once: one event each on the store's feed, up to a last, single call.
    let last = api.post(
        "/order/arrival",
        Some(&w.driver),
        &json!({"orderId": order_id, "event": "arrived_at_customer", "time": api.now_rfc3339()}),
    );
    assert_eq!(last.status, 200, "{}", last.text);
    let feed = api.feed_until("/store/events", &w.store, 0, |e| {
        e.kind == "driver_arrived" && e.data["place"] == "customer"
    });
    for kind in ["order_placed", "driver_assigned", "driver_eta", "picked_up"] {
        assert_eq!(count(&feed, kind), 1, "{kind} events: {feed:?}");
    }
}
