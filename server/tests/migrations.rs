//! A database created by the first release (schema version 1, frozen below exactly as shipped) migrates
//! to the same schema as a fresh database, and keeps its rows.

use std::collections::BTreeMap;

use fencepost_server::db::schema::{self, CURRENT_VERSION};
use fencepost_server::db::{Db, Repository};
use rusqlite::Connection;

/// Schema version 1, frozen. Do not edit: it is what old databases on disk look like.
const FROZEN_V1: &str = r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE stores (
        store_id TEXT PRIMARY KEY, name TEXT NOT NULL, latitude REAL NOT NULL, longitude REAL NOT NULL,
        fence_json TEXT NOT NULL, hours_json TEXT NOT NULL, utc_offset_minutes INTEGER NOT NULL,
        capacity INTEGER NOT NULL, token_hash TEXT UNIQUE, created_at INTEGER NOT NULL);
    CREATE TABLE drivers (
        driver_id TEXT PRIMARY KEY, name TEXT, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
        latitude REAL, longitude REAL, last_report_at INTEGER, available INTEGER NOT NULL DEFAULT 1);
    CREATE TABLE customers (
        customer_id TEXT PRIMARY KEY, name TEXT, token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
    CREATE TABLE orders (
        order_id TEXT PRIMARY KEY, store_id TEXT NOT NULL REFERENCES stores(store_id),
        customer_id TEXT NOT NULL, status TEXT NOT NULL, payment_id TEXT NOT NULL, pies_json TEXT NOT NULL,
        address_json TEXT NOT NULL, steps_json TEXT NOT NULL, driver_id TEXT, created_at INTEGER NOT NULL,
        dispatch_estimated_at INTEGER NOT NULL, delivery_estimated_at INTEGER NOT NULL, delivered_at INTEGER,
        cancel_reason TEXT, declined_reason TEXT);
    CREATE INDEX orders_store_status ON orders(store_id, status);
    CREATE INDEX orders_driver_status ON orders(driver_id, status);
    CREATE TABLE tasks (
        token TEXT PRIMARY KEY, order_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
        driver_id TEXT, offer_id TEXT UNIQUE, created_at INTEGER NOT NULL, timeout_at INTEGER,
        heartbeat_seconds INTEGER, heartbeat_due_at INTEGER, closed_at INTEGER);
    CREATE INDEX tasks_order_kind ON tasks(order_id, kind, state);
    CREATE INDEX tasks_state ON tasks(state);
    CREATE INDEX tasks_driver ON tasks(driver_id, state);
    CREATE TABLE timers (
        id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, kind TEXT NOT NULL,
        due_at INTEGER NOT NULL);
    CREATE INDEX timers_due ON timers(due_at);
    CREATE TABLE dispatch_attempts (
        order_id TEXT NOT NULL, driver_id TEXT NOT NULL, PRIMARY KEY (order_id, driver_id));
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, audience TEXT NOT NULL, party_id TEXT NOT NULL,
        kind TEXT NOT NULL, data_json TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE INDEX events_party ON events(audience, party_id, id);
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (1);
"#;

/// One column as PRAGMA table_info describes it: (name, type, notnull, pk position).
type Column = (String, String, bool, i64);
/// Table → sorted columns, and the index names: the shape to compare.
type Shape = (BTreeMap<String, Vec<Column>>, Vec<String>);

fn shape(conn: &Connection) -> Shape {
    let mut tables = BTreeMap::new();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("listing tables");
    for name in names {
        let mut cols: Vec<Column> = conn
            .prepare(&format!("PRAGMA table_info({name})"))
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(5)?)))?
                    .collect()
            })
            .expect("table info");
        cols.sort();
        tables.insert(name, cols);
    }
    let indexes = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("listing indexes");
    (tables, indexes)
}

#[test]
fn a_version_1_database_migrates_to_the_fresh_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old_path = dir.path().join("old.db");
    {
        let conn = Connection::open(&old_path).expect("old db");
        conn.execute_batch(FROZEN_V1).expect("frozen v1 schema");
        conn.execute(
            "INSERT INTO stores VALUES ('s1', 'Old Pizza', 60.17, 24.94, '{\"radiusM\":50.0}', '[]', 0, 10, NULL, 0)",
            [],
        )
        .expect("a v1 row");
    }
    // Opening through the server's storage layer migrates it.
    let old = Db::open(&old_path).expect("migrating open");
    let store = old
        .write(|repo| repo.store("s1"))
        .expect("reading the migrated row");
    assert_eq!(store.map(|s| s.name), Some("Old Pizza".to_string()));
    drop(old);

    let fresh_path = dir.path().join("fresh.db");
    drop(Db::open(&fresh_path).expect("fresh db"));
    let old = Connection::open(&old_path).expect("reopen old");
    let fresh = Connection::open(&fresh_path).expect("reopen fresh");
    assert_eq!(shape(&old), shape(&fresh));
    assert_eq!(schema::version(&old).expect("version"), CURRENT_VERSION);
    assert_eq!(schema::version(&fresh).expect("version"), CURRENT_VERSION);
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future.db");
    {
        let conn = Connection::open(&path).expect("db");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);")
            .expect("future version");
    }
    let err = Db::open(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("99"), "{err}");
}
