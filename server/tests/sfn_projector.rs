//! What the Step Functions engine does with each workflow message and task outcome, against a real SQLite
//! store and no AWS (the round trip through moto is tests/workflow_contract.rs). SQS delivers at least
//! once, so every message is also applied twice.

mod workflow_fixture;

use fencepost_server::db::{Db, Repository, SqliteRepo, TaskRow};
use fencepost_server::error::Error;
use fencepost_server::model::OrderStatus;
use fencepost_server::workflow::stepfunctions::projector::{Followup, Projector, WorkflowMessage};
use fencepost_server::Timing;
use serde_json::json;
use workflow_fixture::events;

const NOW: i64 = 1_800_000_000_000;

fn setup() -> Db {
    workflow_fixture::seeded_db("o1", NOW)
}

fn msg(body: serde_json::Value) -> WorkflowMessage {
    serde_json::from_value(body).expect("a workflow message")
}

/// Applies `m` twice (as a redelivery would) and returns both follow-ups.
fn apply_twice(db: &Db, m: &WorkflowMessage) -> (Followup, Followup) {
    apply_twice_at(db, m, NOW)
}

/// `apply_twice` with the message arriving at `now_ms`.
fn apply_twice_at(db: &Db, m: &WorkflowMessage, now_ms: i64) -> (Followup, Followup) {
    // Drivers stay on shift for the whole test, however far its clock moves.
    let timing = Timing {
        driver_fresh_s: 86_400,
        ..Timing::default()
    };
    let once = |repo: &SqliteRepo<'_>| {
        Projector {
            repo,
            now_ms,
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

fn task(db: &Db, token: &str) -> TaskRow {
    db.write(|repo| repo.task(token))
        .expect("read")
        .expect("task filed")
}

/// The data of the last event of `kind` that `party` of `audience` received.
fn event_data(db: &Db, audience: &str, party: &str, kind: &str) -> serde_json::Value {
    let events = db
        .write(|repo| repo.events_after(audience, party, 0, 100))
        .expect("events");
    let last = events.into_iter().rev().find(|e| e.kind == kind);
    let data = last.map(|e| e.data_json).unwrap_or_default();
    serde_json::from_str(&data).unwrap_or_default()
}

/// Takes the order to `driver_assigned` with driver d1 (offer tok-b) and files its pickup wait (tok-c).
fn assigned_with_pickup(db: &Db, timeout_s: f64, heartbeat_s: f64) {
    add_driver(db, "d1", 100.0);
    let offer = msg(
        json!({"kind": "offer", "orderId": "o1", "taskToken": "tok-b", "timeoutS": 60.0, "dispatchDeadlineMs": (NOW + 600_000) as f64}),
    );
    apply_twice(db, &offer);
    let b = task(db, "tok-b");
    with(db, |p| p.on_success(&b));
    assert_eq!(status(db), OrderStatus::DriverAssigned);
    let pickup = msg(
        json!({"kind": "pickup", "orderId": "o1", "taskToken": "tok-c", "driverId": "d1", "timeoutS": timeout_s, "heartbeatS": heartbeat_s}),
    );
    apply_twice(db, &pickup);
}

/// The driver offer task `token` went to.
fn offered_to(db: &Db, token: &str) -> String {
    db.write(|repo| repo.task(token))
        .expect("read")
        .expect("offer filed")
        .driver_id
        .unwrap_or_default()
}

fn status(db: &Db) -> OrderStatus {
    db.write(|repo| repo.order("o1"))
        .expect("read")
        .expect("order o1")
        .status
}

fn add_driver(db: &Db, id: &str, metres_north: f64) {
    workflow_fixture::add_driver(db, id, metres_north, NOW);
}

#[test]
fn a_decision_message_files_the_token_once_and_tells_the_store() {
    let db = setup();
    let m =
        msg(json!({"kind": "decision", "orderId": "o1", "taskToken": "tok-a", "timeoutS": 300.0}));
    assert_eq!(apply_twice(&db, &m), (Followup::Nothing, Followup::Nothing));
    let task = task(&db, "tok-a");
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
fn offers_go_to_the_nearest_untried_driver_then_to_those_who_only_missed_and_never_to_a_decliner() {
    let db = setup();
    let deadline = (NOW + 3_600_000) as f64;
    let offer = |token: &str| {
        msg(
            json!({"kind": "offer", "orderId": "o1", "taskToken": token, "timeoutS": 60.0, "dispatchDeadlineMs": deadline}),
        )
    };
    // Offer n arrives as offer n-1 expires (60 s each).
    let expired_then_offer =
        |n: i64, token: &str| apply_twice_at(&db, &offer(token), NOW + n * 60_000);
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
    assert_eq!(expired_then_offer(1, "tok-b1").0, Followup::Nothing);
    let b1 = task(&db, "tok-b1");
    assert_eq!(b1.driver_id.as_deref(), Some("near"));
    assert!(b1.offer_id.is_some());
    // The first offer expired: the next one closes it, withdraws it from that driver, and goes to the next.
    expired_then_offer(2, "tok-b2");
    let b1 = task(&db, "tok-b1");
    assert_eq!(b1.state, "timed_out");
    assert_eq!(
        events(&db, "driver", "near"),
        vec!["offer", "offer_withdrawn"]
    );
    let b2 = task(&db, "tok-b2");
    assert_eq!(b2.driver_id.as_deref(), Some("far"));
    // Everyone asked and both missed once: the nearer is asked again (missing an offer is not refusing).
    assert_eq!(expired_then_offer(3, "tok-b3").0, Followup::Nothing);
    assert_eq!(offered_to(&db, "tok-b3"), "near");
    // Now near has missed twice and far once: far is asked first.
    expired_then_offer(4, "tok-b4");
    assert_eq!(offered_to(&db, "tok-b4"), "far");
    // far declines: final for this order, so only near is asked from now on.
    let b4 = task(&db, "tok-b4");
    with(&db, |p| p.on_failure(&b4, "too far"));
    expired_then_offer(5, "tok-b5");
    assert_eq!(offered_to(&db, "tok-b5"), "near");
    expired_then_offer(6, "tok-b6");
    assert_eq!(offered_to(&db, "tok-b6"), "near");
    // near declines too: nobody is left to ask, the workflow waits and retries.
    let b6 = task(&db, "tok-b6");
    with(&db, |p| p.on_failure(&b6, ""));
    let (third, _) = expired_then_offer(7, "tok-b7");
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
    assert_eq!(
        events(&db, "driver", "far"),
        vec!["offer", "offer_withdrawn", "offer"],
        "far was asked twice and never again after declining"
    );
    // Past the dispatch window the workflow is told to cancel.
    let late = msg(
        json!({"kind": "offer", "orderId": "o1", "taskToken": "tok-b8", "timeoutS": 60.0, "dispatchDeadlineMs": NOW as f64}),
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
    assigned_with_pickup(&db, 600.0, 120.0);
    let c = task(&db, "tok-c");
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
    assert_eq!(task(&db, "tok-c").state, "timed_out");
    let store_events = events(&db, "store", "s1");
    assert_eq!(
        store_events
            .iter()
            .filter(|k| *k == "driver_unassigned")
            .count(),
        1,
        "{store_events:?}"
    );
    assert_eq!(
        event_data(&db, "store", "s1", "driver_unassigned")["reason"],
        "heartbeat_timeout",
        "the heartbeat was due first"
    );
}

#[test]
fn a_pickup_wait_that_outlives_its_timeout_is_a_pickup_timeout() {
    let db = setup();
    assigned_with_pickup(&db, 60.0, 120.0);
    let release = msg(
        json!({"kind": "release_driver", "orderId": "o1", "taskToken": "tok-r", "driverId": "d1"}),
    );
    apply_twice_at(&db, &release, NOW + 60_000);
    assert_eq!(status(&db), OrderStatus::AcceptedByStore);
    assert_eq!(
        event_data(&db, "store", "s1", "driver_unassigned")["reason"],
        "pickup_timeout"
    );
    assert_eq!(
        event_data(&db, "driver", "d1", "unassigned")["reason"],
        "pickup_timeout"
    );
}

#[test]
fn an_overdue_delivery_ends_the_order_and_frees_the_driver() {
    let db = setup();
    assigned_with_pickup(&db, 600.0, 120.0);
    let c = task(&db, "tok-c");
    with(&db, |p| p.on_success(&c));
    assert_eq!(status(&db), OrderStatus::OutForDelivery);
    apply_twice(
        &db,
        &msg(
            json!({"kind": "delivery", "orderId": "o1", "taskToken": "tok-d", "driverId": "d1", "timeoutS": 600.0}),
        ),
    );
    assert_eq!(task(&db, "tok-d").timeout_at_ms, Some(NOW + 600_000));
    apply_twice(
        &db,
        &msg(json!({"kind": "delivery_overdue", "orderId": "o1"})),
    );
    assert_eq!(status(&db), OrderStatus::DeliveryOverdue);
    assert_eq!(task(&db, "tok-d").state, "cancelled");
    let overdue = event_data(&db, "store", "s1", "delivery_overdue");
    assert_eq!(overdue, json!({"orderId": "o1", "driverId": "d1"}));
    assert_eq!(
        events(&db, "driver", "d1")
            .iter()
            .filter(|k| *k == "delivery_overdue")
            .count(),
        1,
        "told once despite the redelivery"
    );
    let available = db
        .write(|repo| repo.available_drivers(NOW - 1000))
        .expect("drivers");
    assert!(
        available.iter().any(|(id, _)| id == "d1"),
        "the driver is free for new offers"
    );
}

#[test]
fn a_decline_overtaken_by_the_next_offer_stays_a_decline() {
    let db = setup();
    add_driver(&db, "near", 100.0);
    add_driver(&db, "far", 900.0);
    let offer = |token: &str| {
        msg(
            json!({"kind": "offer", "orderId": "o1", "taskToken": token, "timeoutS": 60.0, "dispatchDeadlineMs": (NOW + 600_000) as f64}),
        )
    };
    apply_twice(&db, &offer("tok-b1"));
    assert_eq!(offered_to(&db, "tok-b1"), "near");
    // near declines after 1 s; the execution's next offer reaches us before AWS's answer to the decline.
    apply_twice_at(&db, &offer("tok-b2"), NOW + 1_000);
    assert_eq!(task(&db, "tok-b1").state, "failed");
    assert_eq!(
        events(&db, "driver", "near"),
        vec!["offer"],
        "a declined offer is not withdrawn as expired"
    );
    let b1 = task(&db, "tok-b1");
    with(&db, |p| p.on_failure(&b1, "busy"));
    assert_eq!(offered_to(&db, "tok-b2"), "far");
    // far lets it expire: far (who only missed it) is asked again, near (who declined) never.
    apply_twice_at(&db, &offer("tok-b3"), NOW + 61_000);
    assert_eq!(offered_to(&db, "tok-b3"), "far");
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
    assert_eq!(task(&db, "tok-a").state, "cancelled");
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
    let a = task(&db, "tok-a");
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
