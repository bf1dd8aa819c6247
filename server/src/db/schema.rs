//! Versioned schema. `MIGRATIONS[i]` upgrades version i to i+1; the current version is kept in the
//! `schema_version` table. Never edit a released migration: add a new one (tests/migrations compare a frozen
//! version-1 database migrated forward with a fresh one).

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub const MIGRATIONS: &[&str] = &[
    // 1: parties, orders, the embedded engine's tasks and timers, the event feeds.
    r#"
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
    "#,
    // 2: idempotency keys, and the last distance/ETA a driver reported on an order.
    r#"
    CREATE TABLE idempotency (
        scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL,
        body BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (scope, key));
    CREATE INDEX idempotency_created ON idempotency(created_at);
    ALTER TABLE orders ADD COLUMN eta_distance_m REAL;
    ALTER TABLE orders ADD COLUMN eta_s REAL;
    ALTER TABLE orders ADD COLUMN eta_at INTEGER;
    "#,
];

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The version recorded in the database (0 for a new file).
pub fn version(conn: &Connection) -> Result<i64> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
    let v: Option<i64> = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()?;
    Ok(v.unwrap_or(0))
}

/// Brings the schema to `CURRENT_VERSION`, one transaction per step. A database from a newer build is refused
/// rather than guessed at.
pub fn migrate(conn: &mut Connection) -> Result<i64> {
    let mut current = version(conn)?;
    if current > CURRENT_VERSION {
        return Err(Error::Schema(format!(
            "database is at schema version {current}, this build knows up to {CURRENT_VERSION}"
        )));
    }
    while current < CURRENT_VERSION {
        // IMMEDIATE, then re-read: two processes opening a new file at once (the API and worker Lambdas on
        // one shared store) must not both run the same step.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        current = version(&tx)?;
        if current >= CURRENT_VERSION {
            break;
        }
        let step =
            usize::try_from(current).map_err(|_| Error::Schema("negative version".into()))?;
        let sql = MIGRATIONS
            .get(step)
            .ok_or_else(|| Error::Schema(format!("no migration from {current}")))?;
        tx.execute_batch(sql)?;
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [current + 1],
        )?;
        tx.commit()?;
        current += 1;
    }
    Ok(current)
}
