//! The store and order that the workflow engine tests (embedded_engine.rs, sfn_projector.rs) start from:
//! one always-open store and one `initiated` order, in an in-memory SQLite database.
//! Include with `mod workflow_fixture;`.

#![allow(dead_code)] // each test file uses a different subset

use chrono::Utc;
use fencepost_server::db::{Db, Repository};
use fencepost_server::error::Error;
use fencepost_server::model::{
    Coordinates, DeliveryAddress, OrderRecord, OrderStatus, Pie, Size, Store, StoreFence,
};

pub const STORE_ID: &str = "s1";
pub const STORE: Coordinates = Coordinates {
    latitude: 60.1699,
    longitude: 24.9384,
};

/// An always-open store with room for ten orders.
pub fn store() -> Store {
    Store {
        store_id: STORE_ID.into(),
        name: "S".into(),
        location: STORE,
        fence: StoreFence::default(),
        opening_hours: vec![],
        utc_offset_minutes: 0,
        capacity: 10,
    }
}

/// A freshly placed order at the store.
pub fn order(order_id: &str) -> OrderRecord {
    let now = Utc::now();
    OrderRecord {
        order_id: order_id.into(),
        store_id: STORE_ID.into(),
        customer_id: "c1".into(),
        status: OrderStatus::Initiated,
        payment_id: "p".into(),
        pies: vec![Pie {
            size: Size::Small,
            cheese: Size::Small,
            toppings: vec![],
        }],
        delivery_address: DeliveryAddress {
            coordinates: Coordinates {
                latitude: 60.18,
                longitude: 24.94,
            },
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
    }
}

/// An in-memory database holding `store()` and `order(order_id)`, stored at `now_ms`.
pub fn seeded_db(order_id: &str, now_ms: i64) -> Db {
    let db = Db::open_in_memory().expect("in-memory db");
    db.write(|repo| -> Result<(), Error> {
        repo.insert_store(&store(), None, now_ms)?;
        repo.insert_order(&order(order_id))
    })
    .expect("seeded store and order");
    db
}

/// Puts driver `id` on shift, `metres_north` of the store, reporting at `now_ms`.
pub fn add_driver(db: &Db, id: &str, metres_north: f64, now_ms: i64) {
    db.write(|repo| -> Result<(), Error> {
        repo.insert_driver(id, None, &format!("hash-{id}"), now_ms)?;
        let at = Coordinates {
            latitude: STORE.latitude + metres_north / 111_000.0,
            longitude: STORE.longitude,
        };
        repo.record_driver_location(id, at, now_ms, true)
    })
    .expect("driver");
}

/// The kinds of the events `party` of `audience` has received, oldest first.
pub fn events(db: &Db, audience: &str, party: &str) -> Vec<String> {
    db.write(|repo| repo.events_after(audience, party, 0, 100))
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}
