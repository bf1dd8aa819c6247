//! Timeouts, driven by the server's test clock (`--test-clock` + POST /admin/clock/advance), never sleeps:
//! store decision timeout, offer timeout → next-nearest driver, heartbeat lapse → driver replaced,
//! POS check (closed, at capacity), nobody accepting within the dispatch window, and a lone driver who
//! missed an offer being asked again (a decline is final). Timeouts both engines share (pickup, delivery,
//! re-offer among several drivers) are in tests/workflow_contract.rs.

mod support;

use serde_json::json;
use support::api::{order_body, store_body, Api, STORE_LAT, STORE_LON};
use support::server::TestServer;

fn order_status(api: &Api, order_id: &str, customer: &str) -> serde_json::Value {
    let r = api.get(&format!("/order/{order_id}?party=customer"), Some(customer));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["order"].clone()
}

/// Places and accepts an order; returns (orderId, store token).
fn accepted_order(api: &Api, admin: &str, customer: &str) -> (String, String) {
    let (store_id, store) = api.create_store(admin, &store_body("s1"));
    let placed = api.place_order(customer, &store_id, &store, 0);
    let d = api.post(
        "/order/decision",
        Some(&store),
        &json!({"orderId": placed.order_id, "storeId": store_id, "accepted": true, "taskToken": placed.task_token}),
    );
    assert_eq!(d.status, 200, "{}", d.text);
    (placed.order_id, store)
}

fn offers(api: &Api, driver: &str) -> Vec<String> {
    let r = api.get("/driver/offers", Some(driver));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["offers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["offerId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_store_that_does_not_decide_in_time_cancels_the_order() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (store_id, store) = api.create_store(admin, &store_body("slow"));
    let (_, customer) = api.create_customer(admin);
    let placed = api.place_order(&customer, &store_id, &store, 0);
    let (order_id, id) = (placed.order_id, placed.event_id);
    api.advance(admin, 299);
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "initiated"
    );
    api.advance(admin, 2);
    let order = order_status(&api, &order_id, &customer);
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["cancelReason"], "store_timeout");
    let (_, cancelled) = api.next_event("/store/events", &store, id, "order_cancelled");
    assert_eq!(cancelled["reason"], "store_timeout");
    // The late decision is TaskTimedOut.
    let late = api.post(
        "/order/decision",
        Some(&store),
        &json!({"orderId": order_id, "storeId": store_id, "accepted": true, "taskToken": placed.task_token}),
    );
    late.expect_error(409, "task_timed_out");
}

#[test]
fn an_unanswered_offer_moves_to_the_next_nearest_driver() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (_, near) = api.create_driver(admin);
    let (_, far) = api.create_driver(admin);
    let (_, farthest) = api.create_driver(admin);
    api.report_location(&far, STORE_LAT + 0.01, STORE_LON, None);
    api.report_location(&near, STORE_LAT + 0.001, STORE_LON, None);
    api.report_location(&farthest, STORE_LAT + 0.05, STORE_LON, None);
    let (_, customer) = api.create_customer(admin);
    let (order_id, _) = accepted_order(&api, admin, &customer);

    let first = offers(&api, &near);
    assert_eq!(first.len(), 1, "nearest driver gets the offer first");
    assert!(offers(&api, &far).is_empty() && offers(&api, &farthest).is_empty());
    api.advance(admin, 61);
    let (_, withdrawn) = api.next_event("/driver/events", &near, 0, "offer_withdrawn");
    assert_eq!(withdrawn["reason"], "expired");
    assert!(offers(&api, &near).is_empty());
    let second = offers(&api, &far);
    assert_eq!(second.len(), 1, "then the next-nearest");
    // The expired offer cannot be accepted any more.
    api.post(
        &format!("/driver/offers/{}/accept", first[0]),
        Some(&near),
        &json!({}),
    )
    .expect_error(409, "task_timed_out");
    let ok = api.post(
        &format!("/driver/offers/{}/accept", second[0]),
        Some(&far),
        &json!({}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "driver_assigned"
    );
}

#[test]
fn a_driver_who_stops_reporting_is_replaced() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (_, quiet) = api.create_driver(admin);
    let (_, backup) = api.create_driver(admin);
    api.report_location(&quiet, STORE_LAT + 0.001, STORE_LON, None);
    api.report_location(&backup, STORE_LAT + 0.02, STORE_LON, None);
    let (_, customer) = api.create_customer(admin);
    let (order_id, store) = accepted_order(&api, admin, &customer);
    let offer = offers(&api, &quiet);
    assert_eq!(
        api.post(
            &format!("/driver/offers/{}/accept", offer[0]),
            Some(&quiet),
            &json!({})
        )
        .status,
        200
    );

    // Reports within the heartbeat keep the assignment.
    api.advance(admin, 100);
    assert_eq!(
        api.report_location(&quiet, STORE_LAT, STORE_LON, Some((&order_id, 50.0, 10.0)))
            .status,
        200
    );
    api.report_location(&backup, STORE_LAT + 0.02, STORE_LON, None);
    api.advance(admin, 100);
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "driver_assigned"
    );
    // Then silence past 120 s: the order goes back to dispatch and the backup driver is offered it.
    api.report_location(&backup, STORE_LAT + 0.02, STORE_LON, None);
    api.advance(admin, 21);
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "accepted_by_store"
    );
    let (_, unassigned) = api.next_event("/store/events", &store, 0, "driver_unassigned");
    assert_eq!(unassigned["reason"], "heartbeat_timeout");
    api.next_event("/driver/events", &quiet, 0, "unassigned");
    assert_eq!(offers(&api, &backup).len(), 1);
    // The replaced driver can no longer act on the order.
    api.report_location(&quiet, STORE_LAT, STORE_LON, Some((&order_id, 10.0, 2.0)))
        .expect_error(403, "forbidden");
}

#[test]
fn the_pos_check_cancels_orders_for_closed_or_full_stores() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (_, customer) = api.create_customer(admin);
    // Open on no day of the week's clock right now: hours only on a day that is not today.
    let today = api.now().format("%a").to_string().to_lowercase();
    let other_day = if today == "mon" { "tue" } else { "mon" };
    let mut closed = store_body("closed");
    closed["openingHours"] = json!([{"days": [other_day], "open": "00:00", "close": "24:00"}]);
    let (closed_id, _) = api.create_store(admin, &closed);
    let r = api.post("/order", Some(&customer), &order_body(&closed_id));
    assert_eq!(r.status, 201);
    assert_eq!(r.body["order"]["status"], "cancelled");
    assert_eq!(r.body["order"]["cancelReason"], "store_closed");

    let mut tiny = store_body("tiny");
    tiny["capacity"] = json!(1);
    let (tiny_id, _) = api.create_store(admin, &tiny);
    let first = api.post("/order", Some(&customer), &order_body(&tiny_id));
    assert_eq!(first.body["order"]["status"], "initiated");
    let second = api.post("/order", Some(&customer), &order_body(&tiny_id));
    assert_eq!(second.body["order"]["status"], "cancelled");
    assert_eq!(second.body["order"]["cancelReason"], "store_at_capacity");
}

#[test]
fn an_order_nobody_takes_is_cancelled_after_the_dispatch_window() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (_, customer) = api.create_customer(admin);
    let (order_id, store) = accepted_order(&api, admin, &customer);
    // No driver on shift: dispatch retries every 30 s, and gives up after 30 minutes.
    api.advance(admin, 1700);
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "accepted_by_store"
    );
    api.advance(admin, 101);
    let order = order_status(&api, &order_id, &customer);
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["cancelReason"], "no_driver");
    api.next_event("/store/events", &store, 0, "order_cancelled");
}

#[test]
fn a_lone_driver_who_misses_an_offer_is_asked_again_until_they_decline() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (_, lone) = api.create_driver(admin);
    api.report_location(&lone, STORE_LAT + 0.002, STORE_LON, None);
    let (_, customer) = api.create_customer(admin);
    let (order_id, _) = accepted_order(&api, admin, &customer);
    let first = offers(&api, &lone);
    assert_eq!(first.len(), 1);
    // Missed: nobody else is on shift, so the same driver is asked again at once, with a new offer.
    api.advance(admin, 61);
    let second = offers(&api, &lone);
    assert_eq!(second.len(), 1, "asked again after missing the offer");
    assert_ne!(first, second);
    // Declined: final for this order, even with nobody else to ask.
    let declined = api.post(
        &format!("/driver/offers/{}/decline", second[0]),
        Some(&lone),
        &json!({}),
    );
    assert_eq!(declined.status, 200, "{}", declined.text);
    api.report_location(&lone, STORE_LAT + 0.002, STORE_LON, None);
    api.advance(admin, 31);
    assert!(
        offers(&api, &lone).is_empty(),
        "a decline is not asked again"
    );
    assert_eq!(
        order_status(&api, &order_id, &customer)["status"],
        "accepted_by_store"
    );
}
