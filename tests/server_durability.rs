//! Restart in the middle: the server is killed (SIGKILL, as in a crash) at several points of an order's
//! life and restarted on the same database; every order resumes where it was, timers included.

mod support;

use serde_json::json;
use support::api::{
    evidence, order_body, store_body, text, HOME_LAT, HOME_LON, STORE_LAT, STORE_LON,
};
use support::server::TestServer;

#[test]
fn orders_and_timers_survive_a_crash() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.clone();
    let (store_id, store) = api.create_store(&admin, &store_body("durable"));
    let (_, customer) = api.create_customer(&admin);
    let (_, driver) = api.create_driver(&admin);
    // Order A waits for the store's decision; order B is accepted and offered to the driver.
    let a = api.post("/order", Some(&customer), &order_body(&store_id));
    let order_a = a.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let b = api.post("/order", Some(&customer), &order_body(&store_id));
    let order_b = b.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut tokens = std::collections::HashMap::new();
    let mut after = 0;
    while tokens.len() < 2 {
        let (id, ev) = api.next_event("/store/events", &store, after, "order_placed");
        after = id;
        tokens.insert(
            ev["orderId"].as_str().unwrap_or_default().to_string(),
            ev["taskToken"].clone(),
        );
    }
    api.report_location(&driver, STORE_LAT + 0.001, STORE_LON, None);
    let d = api.post("/order/decision", Some(&store), &json!({"orderId": order_b, "storeId": store_id, "accepted": true, "taskToken": tokens[&order_b]}));
    assert_eq!(d.status, 200);
    let offer_before =
        api.get("/driver/offers", Some(&driver)).body["offers"][0]["offerId"].clone();
    assert!(offer_before.is_string());

    // Crash and restart: same database, new process, the test clock back at wall time.
    let server = server.restart();
    let api = server.api();
    let offer_after = api.get("/driver/offers", Some(&driver)).body["offers"][0]["offerId"].clone();
    assert_eq!(offer_before, offer_after, "the open offer is still there");
    let view = |order: &str| {
        api.get(&format!("/order/{order}?party=customer"), Some(&customer))
            .body["order"]
            .clone()
    };
    assert_eq!(view(&order_a)["status"], "initiated");
    assert_eq!(view(&order_b)["status"], "accepted_by_store");

    // Timers persisted: the offer (60 s) expires, and order A's decision (300 s) times out, after restart.
    api.advance(&admin, 61);
    let offers = api.get("/driver/offers", Some(&driver)).body["offers"].clone();
    assert!(
        offers
            .as_array()
            .is_some_and(|o| o.iter().all(|x| x["offerId"] != offer_before)),
        "the offer made before the crash expired after it: {offers}"
    );
    api.advance(&admin, 240);
    assert_eq!(view(&order_a)["status"], "cancelled");
    assert_eq!(view(&order_a)["cancelReason"], "store_timeout");

    // An order carries on to delivery on the restarted server: a new order C, accepted, and the driver
    // fresh again. The dispatch retry offers the driver C, or B again (whose offer the driver missed).
    let c = api.place_order(&customer, &store_id, &store, after);
    api.post("/order/decision", Some(&store), &json!({"orderId": c.order_id, "storeId": store_id, "accepted": true, "taskToken": c.task_token}));
    api.report_location(&driver, STORE_LAT, STORE_LON, None);
    api.advance(&admin, 31); // the dispatch retry timer picks up the now-fresh driver
    let offer = api.get("/driver/offers", Some(&driver)).body["offers"][0].clone();
    let order_c = text(&offer["orderId"]);
    assert!(
        order_c == c.order_id || order_c == order_b,
        "offer after the restart: {offer}"
    );
    let offer_id = text(&offer["offerId"]);
    assert_eq!(
        api.post(
            &format!("/driver/offers/{offer_id}/accept"),
            Some(&driver),
            &json!({})
        )
        .status,
        200
    );
    let code_before = api
        .get(&format!("/order/{order_c}/pickup-code"), Some(&store))
        .body["code"]
        .clone();

    // Crash again between assignment and pickup: the pickup code (server secret) and assignment survive.
    let server = server.restart();
    let api = server.api();
    assert_eq!(
        api.get(&format!("/order/{order_c}/pickup-code"), Some(&store))
            .body["code"],
        code_before
    );
    let picked = api.post("/order/pickup", Some(&driver), &json!({"orderId": order_c, "code": code_before, "evidence": evidence(&api, STORE_LAT, STORE_LON)}));
    assert_eq!(picked.status, 200, "{}", picked.text);
    let delivered = api.post(
        "/order/delivered",
        Some(&driver),
        &json!({"orderId": order_c, "evidence": evidence(&api, HOME_LAT, HOME_LON)}),
    );
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(
        api.get(&format!("/order/{order_c}?party=customer"), Some(&customer))
            .body["order"]["status"],
        "delivered"
    );
}
