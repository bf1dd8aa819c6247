//! The whole life of an order against the real `fencepost serve` process over HTTP: the accept path from
//! placement to delivery (store feed, offers, location/ETA reports, arrival, pickup code, evidence), and
//! the decline path that the seed got wrong.

mod support;

use serde_json::{json, Value};
use support::api::{
    evidence, order_body, store_body, Api, HOME_LAT, HOME_LON, STORE_LAT, STORE_LON,
};
use support::server::TestServer;

/// Task tokens must never reach a customer or a driver.
#[track_caller]
fn assert_no_token(body: &Value) {
    let text = body.to_string();
    assert!(
        !text.contains("fpt_") && !text.contains("taskToken"),
        "token leaked: {text}"
    );
}

fn status(api: &Api, order_id: &str, party: &str, token: &str) -> String {
    let r = api.get(&format!("/order/{order_id}?party={party}"), Some(token));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["order"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_order_goes_from_placement_to_delivery() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (store_id, store) = api.create_store(admin, &store_body("helsinki-1"));
    let (driver_id, driver) = api.create_driver(admin);
    let (_, customer) = api.create_customer(admin);
    // The driver is on shift ~300 m from the store.
    assert_eq!(
        api.report_location(&driver, STORE_LAT + 0.0027, STORE_LON, None)
            .status,
        200
    );

    let placed = api.post("/order", Some(&customer), &order_body(&store_id));
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(
        placed.body["message"],
        "Order of [1] pizza(s) has been initiated!"
    );
    assert_eq!(placed.body["order"]["status"], "initiated");
    assert_no_token(&placed.body);
    let order_id = placed.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(order_id.len(), 21);

    // The store hears of it (with the decision token) on its feed; its view carries a deadline, no token.
    let (id, placed_event) = api.next_event("/store/events", &store, 0, "order_placed");
    assert_eq!(placed_event["orderId"], order_id.as_str());
    let token = placed_event["taskToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(token.starts_with("fpt_"));
    let store_view = api.get(&format!("/order/{order_id}?party=store"), Some(&store));
    assert!(
        store_view.body["order"]["decisionDeadline"].is_string(),
        "{}",
        store_view.text
    );
    assert_no_token(&store_view.body);

    let decided = api.post(
        "/order/decision",
        Some(&store),
        &json!({"orderId": order_id, "storeId": store_id, "accepted": true, "taskToken": token}),
    );
    assert_eq!(decided.status, 200, "{}", decided.text);
    assert_eq!(
        decided.body["message"],
        format!("Decision to accept order [{order_id}] has been received.")
    );

    // The only available driver gets the offer, on the feed and by polling; no token in either.
    let (_, offer_event) = api.next_event("/driver/events", &driver, 0, "offer");
    assert_no_token(&offer_event);
    let offers = api.get("/driver/offers", Some(&driver));
    assert_eq!(offers.status, 200);
    assert_no_token(&offers.body);
    let offer_id = offers.body["offers"][0]["offerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(offer_event["offerId"], offer_id.as_str());
    assert_eq!(offers.body["offers"][0]["storeFence"]["radiusM"], 40.0);

    let accepted = api.post(
        &format!("/driver/offers/{offer_id}/accept"),
        Some(&driver),
        &json!({}),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["order"]["status"], "driver_assigned");
    assert_no_token(&accepted.body);
    let (id, assigned) = api.next_event("/store/events", &store, id, "driver_assigned");
    assert_eq!(assigned["driverId"], driver_id.as_str());
    let assignments = api.get("/driver/assignments", Some(&driver));
    assert_eq!(assignments.body["orders"][0]["orderId"], order_id.as_str());

    // En route: batched location + ETA reports reach the store feed and the customer's view.
    let report = api.report_location(
        &driver,
        STORE_LAT + 0.001,
        STORE_LON,
        Some((&order_id, 111.0, 25.0)),
    );
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.body["accepted"], 1);
    let (id, eta) = api.next_event("/store/events", &store, id, "driver_eta");
    assert_eq!(eta["distanceM"], 111.0);
    let customer_view = api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&customer),
    );
    assert_eq!(customer_view.body["order"]["driverEta"]["etaS"], 25.0);
    assert_no_token(&customer_view.body);

    let arrival = |event: &str| {
        api.post(
            "/order/arrival",
            Some(&driver),
            &json!({"orderId": order_id, "event": event, "time": api.now_rfc3339()}),
        )
    };
    assert_eq!(arrival("approaching_store").status, 200);
    let (id, _) = api.next_event("/store/events", &store, id, "driver_approaching");
    let arrived = arrival("arrived_at_store");
    assert_eq!(arrived.status, 200, "{}", arrived.text);
    assert_eq!(arrived.body["status"], "driver_arrived");
    let (id, _) = api.next_event("/store/events", &store, id, "driver_arrived");

    // The store shows its QR code; the driver scans it and proves they are at the store.
    let code = api.get(&format!("/order/{order_id}/pickup-code"), Some(&store));
    assert_eq!(code.status, 200, "{}", code.text);
    let qr = code.body["qr"].as_str().unwrap_or_default().to_string();
    assert!(qr.len() <= 40 && qr.starts_with("FP1:"), "{qr}");
    let picked = api.post(
        "/order/pickup",
        Some(&driver),
        &json!({"orderId": order_id, "code": qr, "evidence": evidence(&api, STORE_LAT, STORE_LON)}),
    );
    assert_eq!(picked.status, 200, "{}", picked.text);
    assert_eq!(
        picked.body["message"],
        format!("Pickup has been recorded for order [{order_id}].")
    );
    assert!(picked.body["deliverySteps"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    let (id, _) = api.next_event("/store/events", &store, id, "picked_up");
    assert_eq!(
        status(&api, &order_id, "customer", &customer),
        "out_for_delivery"
    );

    assert_eq!(arrival("arrived_at_customer").status, 200);
    let delivered = api.post(
        "/order/delivered",
        Some(&driver),
        &json!({"orderId": order_id, "evidence": evidence(&api, HOME_LAT, HOME_LON)}),
    );
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(delivered.body["order"]["status"], "delivered");
    api.next_event("/store/events", &store, id, "delivered");
    let done = api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&customer),
    );
    assert_eq!(done.body["order"]["status"], "delivered");
    assert!(done.body["order"]["deliveredAt"].is_string());
    // Free again: the driver has no assignments left.
    assert_eq!(
        api.get("/driver/assignments", Some(&driver)).body["orders"],
        json!([])
    );
}

#[test]
fn a_declined_order_is_marked_declined_with_its_reason() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.as_str();
    let (store_id, store) = api.create_store(admin, &store_body("decliner"));
    let (_, customer) = api.create_customer(admin);
    let placed = api.place_order(&customer, &store_id, &store, 0);
    let (order_id, token) = (placed.order_id, placed.task_token);

    let decision = json!({"orderId": order_id, "storeId": store_id, "accepted": false, "taskToken": token,
                          "declinedReason": "closing_time"});
    let declined = api.post("/order/decision", Some(&store), &decision);
    assert_eq!(declined.status, 200, "{}", declined.text);
    assert_eq!(
        declined.body["message"],
        format!("Decision to decline order [{order_id}] has been received.")
    );
    let view = api.get(
        &format!("/order/{order_id}?party=customer"),
        Some(&customer),
    );
    assert_eq!(view.body["order"]["status"], "declined_by_store");
    assert_eq!(view.body["order"]["declinedReason"], "closing_time");

    // The token was used: a second decision (the seed's 500) is a clear 409.
    let again = api.post("/order/decision", Some(&store), &decision);
    let message = again.expect_error(409, "task_timed_out");
    assert!(message.contains(&order_id), "{message}");
    // Declining needs a reason.
    let no_reason = api.post(
        "/order/decision",
        Some(&store),
        &json!({"orderId": order_id, "storeId": store_id, "accepted": false, "taskToken": token}),
    );
    assert!(no_reason
        .expect_error(400, "invalid_body")
        .contains("declinedReason"));
}

#[test]
fn stores_load_from_geojson_and_bad_files_stop_the_server_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stores.geojson");
    // A circle store and a polygon store (a ~110 m square around the test location).
    let doc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [STORE_LON, STORE_LAT]},
         "properties": {"id": "circle", "name": "Circle Pizza", "radius_m": 35, "capacity": 5}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
            [STORE_LON - 0.001, STORE_LAT - 0.0005], [STORE_LON + 0.001, STORE_LAT - 0.0005],
            [STORE_LON + 0.001, STORE_LAT + 0.0005], [STORE_LON - 0.001, STORE_LAT + 0.0005],
            [STORE_LON - 0.001, STORE_LAT - 0.0005]]]},
         "properties": {"id": "square", "name": "Square Pizza",
                        "opening_hours": [{"days": ["mon","tue","wed","thu","fri","sat","sun"], "open": "00:00", "close": "24:00"}]}}
    ]});
    std::fs::write(&path, doc.to_string()).expect("writing stores");
    let server = TestServer::start_with(support::server::ServerOptions {
        seed_stores: Some(path.clone()),
        ..Default::default()
    });
    let api = server.api();
    let admin = server.admin_token.as_str();
    for id in ["circle", "square"] {
        let r = api.post(
            &format!("/admin/stores/{id}/token"),
            Some(admin),
            &json!({}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let store = api
        .post("/admin/stores/square/token", Some(admin), &json!({}))
        .body["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, customer) = api.create_customer(admin);
    let placed = api.post("/order", Some(&customer), &order_body("square"));
    assert_eq!(
        placed.body["order"]["status"], "initiated",
        "{}",
        placed.text
    );
    api.next_event("/store/events", &store, 0, "order_placed");
    drop(server);

    // A broken file: the server refuses to start and says which feature is wrong.
    std::fs::write(&path, r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.9, 95.0]}, "properties": {"id": "bad"}}]}"#)
        .expect("writing bad stores");
    let out = std::process::Command::new(support::server::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("x.db"))
        .arg("--seed-stores")
        .arg(&path)
        .env("FENCEPOST_ADMIN_TOKEN", support::server::ADMIN_TOKEN)
        .output()
        .expect("running serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feature 0") && stderr.contains("latitude"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("95.0"),
        "no coordinates in errors: {stderr}"
    );
}
