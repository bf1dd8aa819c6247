//! A cancelled order tells the people waiting on it: the store when asked to, and the assigned driver
//! always (the driver app ends the dispatch when this event arrives on its feed).

mod workflow_fixture;

use fencepost_server::db::Repository;
use fencepost_server::error::Error;
use fencepost_server::model::OrderStatus;
use fencepost_server::workflow::outcome::Outcomes;
use fencepost_server::Timing;

/// Cancels order-1 (seeded with driver-1 on shift nearby) for `reason`; with `assigned`, driver-1 holds it.
fn cancel(assigned: bool, reason: &str, tell_store: bool) -> fencepost_server::db::Db {
    let db = workflow_fixture::seeded_db("order-1", 0);
    workflow_fixture::add_driver(&db, "driver-1", 100.0, 0);
    let timing = Timing::default();
    db.write(|repo| -> Result<(), Error> {
        let outcomes = Outcomes {
            repo,
            now_ms: 1_000,
            timing: &timing,
        };
        let mut order = outcomes.order("order-1")?;
        if assigned {
            order.status = OrderStatus::DriverAssigned;
            order.driver_id = Some("driver-1".into());
            repo.update_order(&order)?;
        }
        outcomes.cancelled(&mut order, reason, tell_store)
    })
    .expect("cancel");
    db
}

#[test]
fn a_cancelled_order_with_a_driver_tells_the_driver_and_the_store() {
    let db = cancel(true, "store_closed", true);
    let store_id = workflow_fixture::store().store_id;
    assert_eq!(
        workflow_fixture::events(&db, "store", &store_id),
        ["order_cancelled"]
    );
    assert_eq!(
        workflow_fixture::events(&db, "driver", "driver-1"),
        ["order_cancelled"]
    );
    let order = db.write(|repo| repo.order("order-1")).expect("read");
    assert_eq!(order.map(|o| o.status), Some(OrderStatus::Cancelled));
}

#[test]
fn a_cancelled_order_without_a_driver_tells_no_driver() {
    let db = cancel(false, "no_driver", false);
    assert!(workflow_fixture::events(&db, "driver", "driver-1").is_empty());
    let store_id = workflow_fixture::store().store_id;
    assert!(workflow_fixture::events(&db, "store", &store_id).is_empty());
}
