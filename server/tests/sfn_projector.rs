//! What the Step Functions engine does with each workflow message and task outcome, against a real SQLite
//! store and no AWS (the round trip through moto is tests/workflow_contract.rs). SQS delivers at least
//! once, so every message is also applied twice.

use chrono::Utc;
use fencepost_server::db::{Db, Repository, SqliteRepo};
use fencepost_server::error::Error;
use fencepost_server::model::{Coordinates, DeliveryAddress, OrderRecord, OrderStatus, Store};
use fencepost_server::workflow::stepfunctions::projector::{Followup, Projector, WorkflowMessage};
use fencepost_server::Timing;
use serde_json::json;

const STORE: Coordinates = Coordinates {
    latitude: 60.1699,
    longitude: 24.9384,
};
const NOW: i64 = 1_800_000_000_000;

fn setup() -> Db {
    let db = Db::open_in_memory().expect("in-memory db");
    db.write(|repo| -> Result<(), Error> {
        let store: Store = serde_json::from_value(json!({
            "storeId": "s1", "name": "S", "location": {"latitude": STORE.latitude, "longitude": STORE.longitude},
            "fence": {"radiusM": 40.0}, "openingHours": [], "utcOffsetMinutes": 0, "capacity": 10}))?;
        repo.insert_store(&store, None, NOW)?;
        let now = Utc::now();
        repo.insert_order(&OrderRecord {
            order_id: "o1".into(),
            store_id: "s1".into(),
            customer_id: "c1".into(),
            status: OrderStatus::Initiated,
            payment_id: "p".into(),
            pies: vec![],
            delivery_address: DeliveryAddress {
                coordinates: Coordinates { latitude: 60.18, longitude: 24.94 },
                street_address: "a".into(),
                city: "b".into(),
                postal_code: "c".into(),
                province: "d".into(),
            },
            delivery_steps: vec![],
            driver_id: None,
            created_at: now,
            dispatch_estimated_at: now,
            delivery_estimated_at: now,
            delivered_at: None,
            cancel_reason: None,
            declined_reason: None,
            driver_eta: None,
        })
    })
    .expect("seeded store and order");
    db
}

fn msg(body: serde_json::Value) -> WorkflowMessage {
    serde_json::from_value(body).expect("a workflow message")
}

/// Applies `m` twice (as a redelivery would) and returns both follow-ups.
fn apply_twice(db: &Db, m: &WorkflowMessage) -> (Followup, Followup) {
    let timing = Timing::default();
    let once = |repo: &SqliteRepo<'_>| {
        Projector {
            repo,
            now_ms: NOW,
            timing: &timing,
        }
        .on_message(m)
    };
    (
        db.write(once).expect("applied"),
        db.write(once).expect("applied again"),
    )
}

fn with<T>(db: &Db, f: impl FnOnce(&Projector<'_>) -> Result<T, Error>) -> T {
    let timing = Timing::default();
    db.write(|repo| {
        f(&Projector {
            repo,
            now_ms: NOW,
            timing: &timing,
        })
    })
    .expect("projector call")
}

fn events(db: &Db, audience: &str, party: &str) -> Vec<String> {
    db.write(|repo| repo.events_after(audience, party, 0, 100))
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn status(db: &Db) -> OrderStatus {
    db.write(|repo| repo.order("o1"))
        .expect("read")
        .expect("order o1")
        .status
}

fn add_driver(db: &Db, id: &str, metres_north: f64) {
    db.write(|repo| -> Result<(), Error> {
        repo.insert_driver(id, None, &format!("hash-{id}"), NOW)?;
        let at = Coordinates {
            latitude: STORE.latitude + metres_north / 111_000.0,
            longitude: STORE.longitude,
        };
        repo.record_driver_location(id, at, NOW, true)
    })
    .expect("driver");
}

#[test]
fn a_decision_message_files_the_token_once_and_tells_the_store() {
    let db = setup();
    let m =
        msg(json!({"kind": "decision", "orderId": "o1", "taskToken": "tok-a", "timeoutS": 300.0}));
    assert_eq!(apply_twice(&db, &m), (Followup::Nothing, Followup::Nothing));
    let task = db
        .write(|repo| repo.task("tok-a"))
        .expect("read")
        .expect("task filed");
    assert_eq!(
        (task.kind.as_str(), task.state.as_str(), task.timeout_at_ms),
        ("decision", "open", Some(NOW + 300_000))
    );
    assert_eq!(
        events(&db, "store", "s1"),
        vec!["order_placed"],
        "one event despite the redelivery"
    );
}

#[test]
fn offers_go_to_the_nearest_untried_driver_and_fail_back_to_the_workflow_when_nobody_is_left() {
    let db = setup();
    let deadline = (NOW + 600_000) as f64;
    let offer = |token: &str| {
        msg(
            json!({"kind": "offer", "orderId": "o1", "taskToken": token, "timeoutS": 60.0, "dispatchDeadlineMs": deadline}),
        )
    };
    // Nobody on shift: the workflow is told to wait and retry.
    let (first, _) = apply_twice(&db, &offer("tok-b0"));
    assert!(
        matches!(
            first,
            Followup::Fail {
                error: "NoDriverAvailable",
                ..
            }
        ),
        "{first:?}"
    );
    assert_eq!(
        status(&db),
        OrderStatus::AcceptedByStore,
        "an offer means the store accepted"
    );

    add_driver(&db, "far", 900.0);
    add_driver(&db, "near", 100.0);
    assert_eq!(apply_twice(&db, &offer("tok-b1")).0, Followup::Nothing);
    let b1 = db
        .write(|repo| repo.task("tok-b1"))
        .expect("read")
        .expect("offer filed");
    assert_eq!(b1.driver_id.as_deref(), Some("near"));
    assert!(b1.offer_id.is_some());
    // The first offer expired: the next one closes it, withdraws it from that driver, and goes to the next.
    apply_twice(&db, &offer("tok-b2"));
    let b1 = db
        .write(|repo| repo.task("tok-b1"))
        .expect("read")
        .expect("task");
    assert_eq!(b1.state, "timed_out");
    assert_eq!(
        events(&db, "driver", "near"),
        vec!["offer", "offer_withdrawn"]
    );
    let b2 = db
        .write(|repo| repo.task("tok-b2"))
        .expect("read")
        .expect("task");
    assert_eq!(b2.driver_id.as_deref(), Some("far"));
    // Everyone tried: back to waiting for drivers.
    let (third, _) = apply_twice(&db, &offer("tok-b3"));
    assert!(
        matches!(
            third,
            Followup::Fail {
                error: "NoDriverAvailable",
                ..
            }
        ),
        "{third:?}"
    );
    // Past the dispatch window the workflow is told to cancel.
    let late = msg(
        json!({"kind": "offer", "orderId": "o1", "taskToken": "tok-b4", "timeoutS": 60.0, "dispatchDeadlineMs": NOW as f64}),
    );
    let (closed, _) = apply_twice(&db, &late);
    assert!(
        matches!(
            closed,
            Followup::Fail {
                error: "DispatchWindowClosed",
                ..
            }
        ),
        "{closed:?}"
    );
}

#[test]
fn a_pickup_lapse_releases_the_driver_and_restarts_the_dispatch_clock() {
    let db = setup();
    add_driver(&db, "d1", 100.0);
    let offer = msg(
        json!({"kind": "offer", "orderId": "o1", "taskToken": "tok-b", "timeoutS": 60.0, "dispatchDeadlineMs": (NOW + 600_000) as f64}),
    );
    apply_twice(&db, &offer);
    let b = db
        .write(|repo| repo.task("tok-b"))
        .expect("read")
        .expect("task");
    with(&db, |p| p.on_success(&b));
    assert_eq!(status(&db), OrderStatus::DriverAssigned);
    let pickup = msg(
        json!({"kind": "pickup", "orderId": "o1", "taskToken": "tok-c", "driverId": "d1", "timeoutS": 600.0, "heartbeatS": 120.0}),
    );
    apply_twice(&db, &pickup);
    let c = db
        .write(|repo| repo.task("tok-c"))
        .expect("read")
        .expect("pickup task");
    assert_eq!(
        (c.heartbeat_seconds, c.heartbeat_due_at_ms),
        (Some(120), Some(NOW + 120_000))
    );

    let release = msg(
        json!({"kind": "release_driver", "orderId": "o1", "taskToken": "tok-r", "driverId": "d1"}),
    );
    let (answer, _) = apply_twice(&db, &release);
    let expected = json!({"dispatchDeadlineMs": NOW + Timing::default().dispatch_window_s * 1000});
    assert_eq!(
        answer,
        Followup::Succeed {
            token: "tok-r".into(),
            output: expected
        }
    );
    assert_eq!(status(&db), OrderStatus::AcceptedByStore);
    assert_eq!(
        db.write(|repo| repo.task("tok-c"))
            .expect("read")
            .expect("task")
            .state,
        "timed_out"
    );
    let store_events = events(&db, "store", "s1");
    assert_eq!(
        store_events
            .iter()
            .filter(|k| *k == "driver_unassigned")
            .count(),
        1,
        "{store_events:?}"
    );
}

#[test]
fn a_cancellation_closes_every_open_wait_once() {
    let db = setup();
    apply_twice(
        &db,
        &msg(json!({"kind": "decision", "orderId": "o1", "taskToken": "tok-a", "timeoutS": 5.0})),
    );
    apply_twice(
        &db,
        &msg(json!({"kind": "cancelled", "orderId": "o1", "reason": "store_timeout"})),
    );
    let order = db
        .write(|repo| repo.order("o1"))
        .expect("read")
        .expect("order");
    assert_eq!(
        (order.status, order.cancel_reason.as_deref()),
        (OrderStatus::Cancelled, Some("store_timeout"))
    );
    assert_eq!(
        db.write(|repo| repo.task("tok-a"))
            .expect("read")
            .expect("task")
            .state,
        "cancelled"
    );
    assert_eq!(
        events(&db, "store", "s1"),
        vec!["order_placed", "order_cancelled"]
    );
}

#[test]
fn a_decline_keeps_the_reason_from_the_decision() {
    let db = setup();
    apply_twice(
        &db,
        &msg(json!({"kind": "decision", "orderId": "o1", "taskToken": "tok-a", "timeoutS": 5.0})),
    );
    let a = db
        .write(|repo| repo.task("tok-a"))
        .expect("read")
        .expect("task");
    with(&db, |p| p.on_failure(&a, "closing_time"));
    // The execution's own message arrives later without a cause (moto drops it): the reason stays.
    apply_twice(
        &db,
        &msg(json!({"kind": "declined", "orderId": "o1", "cause": null})),
    );
    let order = db
        .write(|repo| repo.order("o1"))
        .expect("read")
        .expect("order");
    assert_eq!(order.status, OrderStatus::DeclinedByStore);
    assert_eq!(
        serde_json::to_value(order.declined_reason).expect("json"),
        json!("closing_time")
    );
}

#[test]
fn unknown_orders_and_kinds_are_errors_not_panics() {
    let db = setup();
    let timing = Timing::default();
    for body in [
        json!({"kind": "decision", "orderId": "nope", "taskToken": "t"}),
        json!({"kind": "teleport", "orderId": "o1"}),
        json!({"kind": "offer", "orderId": "o1"}),
    ] {
        let m = msg(body.clone());
        let out = db.write(|repo| {
            Projector {
                repo,
                now_ms: NOW,
                timing: &timing,
            }
            .on_message(&m)
        });
        assert!(out.is_err(), "{body} should be refused");
    }
}
