//! The repository: every read and write the server makes, as one trait. `SqliteRepo` implements it over
//! a transaction; the HTTP layer and the embedded engine only see the trait.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::clock::from_ms;
use crate::error::{Error, Result};
use crate::model::{Coordinates, DeclinedReason, DriverEta, OrderRecord, OrderStatus, Store};

/// One task of the embedded engine (a Step Functions `.waitForTaskToken` equivalent).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub token: String,
    pub order_id: String,
    pub kind: String,
    pub state: String,
    pub driver_id: Option<String>,
    pub offer_id: Option<String>,
    pub created_at_ms: i64,
    pub timeout_at_ms: Option<i64>,
    pub heartbeat_seconds: Option<i64>,
    pub heartbeat_due_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub data_json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimerRow {
    pub id: i64,
    pub order_id: String,
    pub kind: String,
    pub due_at_ms: i64,
}

pub struct IdempotentAnswer {
    pub request_hash: String,
    pub status: u16,
    pub body: Vec<u8>,
}

pub trait Repository {
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Returns false when the store id exists already.
    fn insert_store(&self, store: &Store, token_hash: Option<&str>, now_ms: i64) -> Result<bool>;
    fn store(&self, store_id: &str) -> Result<Option<Store>>;
    fn set_store_token(&self, store_id: &str, token_hash: &str) -> Result<bool>;
    fn store_by_token(&self, token_hash: &str) -> Result<Option<String>>;

    fn insert_driver(
        &self,
        driver_id: &str,
        name: Option<&str>,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<()>;
    fn driver_by_token(&self, token_hash: &str) -> Result<Option<String>>;
    fn record_driver_location(
        &self,
        driver_id: &str,
        at: Coordinates,
        at_ms: i64,
        available: bool,
    ) -> Result<()>;
    /// Drivers who reported since `since_ms`, are available, have no active order and no open offer.
    fn available_drivers(&self, since_ms: i64) -> Result<Vec<(String, Coordinates)>>;

    fn insert_customer(
        &self,
        customer_id: &str,
        name: Option<&str>,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<()>;
    fn customer_by_token(&self, token_hash: &str) -> Result<Option<String>>;

    fn insert_order(&self, order: &OrderRecord) -> Result<()>;
    fn order(&self, order_id: &str) -> Result<Option<OrderRecord>>;
    fn update_order(&self, order: &OrderRecord) -> Result<()>;
    fn count_orders(&self, store_id: &str, statuses: &[OrderStatus]) -> Result<u32>;
    fn driver_orders(&self, driver_id: &str, statuses: &[OrderStatus]) -> Result<Vec<OrderRecord>>;

    /// Orders still `initiated` with no task at all: their execution never started (a crash between
    /// storing the order and starting its workflow).
    fn unstarted_orders(&self) -> Result<Vec<String>>;
    fn insert_task(&self, task: &TaskRow) -> Result<()>;
    fn task(&self, token: &str) -> Result<Option<TaskRow>>;
    fn task_by_offer(&self, offer_id: &str) -> Result<Option<TaskRow>>;
    fn open_task(&self, order_id: &str, kind: &str) -> Result<Option<TaskRow>>;
    fn open_offers_for_driver(&self, driver_id: &str) -> Result<Vec<TaskRow>>;
    /// Closes an open task; false when it was not open (already used, failed or timed out).
    fn close_task(&self, token: &str, state: &str, now_ms: i64) -> Result<bool>;
    fn set_heartbeat_due(&self, token: &str, due_ms: i64) -> Result<()>;
    fn due_tasks(&self, now_ms: i64, limit: usize) -> Result<Vec<TaskRow>>;

    fn insert_timer(&self, order_id: &str, kind: &str, due_ms: i64) -> Result<()>;
    fn due_timers(&self, now_ms: i64, limit: usize) -> Result<Vec<TimerRow>>;
    fn delete_timer(&self, id: i64) -> Result<()>;
    fn delete_timers(&self, order_id: &str, kind: &str) -> Result<()>;

    fn add_dispatch_attempt(&self, order_id: &str, driver_id: &str) -> Result<()>;
    fn dispatch_attempts(&self, order_id: &str) -> Result<Vec<String>>;

    fn append_event(
        &self,
        audience: &str,
        party_id: &str,
        kind: &str,
        data_json: &str,
        now_ms: i64,
    ) -> Result<i64>;
    fn events_after(
        &self,
        audience: &str,
        party_id: &str,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<EventRow>>;
    /// Whether an event of `kind` about this order, driver and place was already sent (repeats are ignored).
    fn has_order_event(
        &self,
        audience: &str,
        party_id: &str,
        kind: &str,
        order_id: &str,
        driver_id: &str,
        place: &str,
    ) -> Result<bool>;

    fn idempotent_answer(&self, scope: &str, key: &str) -> Result<Option<IdempotentAnswer>>;
    fn save_idempotent_answer(
        &self,
        scope: &str,
        key: &str,
        answer: &IdempotentAnswer,
        now_ms: i64,
    ) -> Result<()>;
    fn purge_idempotency(&self, before_ms: i64) -> Result<usize>;

    /// Every task of `kind` the order ever had, open or closed (dispatch reads how each offer ended).
    fn order_tasks(&self, order_id: &str, kind: &str) -> Result<Vec<TaskRow>>;
}

pub struct SqliteRepo<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteRepo<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }
}

const ORDER_COLUMNS: &str =
    "order_id, store_id, customer_id, status, payment_id, pies_json, address_json, \
    steps_json, driver_id, created_at, dispatch_estimated_at, delivery_estimated_at, delivered_at, \
    cancel_reason, declined_reason, eta_distance_m, eta_s, eta_at";

const TASK_COLUMNS: &str =
    "token, order_id, kind, state, driver_id, offer_id, created_at, timeout_at, \
    heartbeat_seconds, heartbeat_due_at";

fn status_list(statuses: &[OrderStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

fn declined_to_str(r: DeclinedReason) -> &'static str {
    match r {
        DeclinedReason::NoCapacity => "no_capacity",
        DeclinedReason::ClosingTime => "closing_time",
        DeclinedReason::OpeningTime => "opening_time",
    }
}

fn declined_from_str(s: &str) -> Option<DeclinedReason> {
    match s {
        "no_capacity" => Some(DeclinedReason::NoCapacity),
        "closing_time" => Some(DeclinedReason::ClosingTime),
        "opening_time" => Some(DeclinedReason::OpeningTime),
        _ => None,
    }
}

/// Raw columns of an order row; JSON is decoded outside the rusqlite closure so errors keep their type.
struct OrderRaw {
    cols: (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    ),
    times: (i64, i64, i64, Option<i64>),
    reasons: (Option<String>, Option<String>),
    eta: (Option<f64>, Option<f64>, Option<i64>),
}

fn order_raw(r: &Row<'_>) -> rusqlite::Result<OrderRaw> {
    Ok(OrderRaw {
        cols: (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ),
        times: (r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?),
        reasons: (r.get(13)?, r.get(14)?),
        eta: (r.get(15)?, r.get(16)?, r.get(17)?),
    })
}

fn order_from_raw(raw: OrderRaw) -> Result<OrderRecord> {
    let (order_id, store_id, customer_id, status, payment_id, pies, address, steps, driver_id) =
        raw.cols;
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| Error::Corrupt(format!("unknown status {status}")))?;
    let driver_eta = match raw.eta {
        (Some(distance_m), Some(eta_s), Some(at)) => Some(DriverEta {
            distance_m,
            eta_s,
            at: from_ms(at),
        }),
        _ => None,
    };
    Ok(OrderRecord {
        order_id,
        store_id,
        customer_id,
        status,
        payment_id,
        pies: serde_json::from_str(&pies)?,
        delivery_address: serde_json::from_str(&address)?,
        delivery_steps: serde_json::from_str(&steps)?,
        driver_id,
        created_at: from_ms(raw.times.0),
        dispatch_estimated_at: from_ms(raw.times.1),
        delivery_estimated_at: from_ms(raw.times.2),
        delivered_at: raw.times.3.map(from_ms),
        cancel_reason: raw.reasons.0,
        declined_reason: raw.reasons.1.as_deref().and_then(declined_from_str),
        driver_eta,
    })
}

fn task_from_row(r: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        token: r.get(0)?,
        order_id: r.get(1)?,
        kind: r.get(2)?,
        state: r.get(3)?,
        driver_id: r.get(4)?,
        offer_id: r.get(5)?,
        created_at_ms: r.get(6)?,
        timeout_at_ms: r.get(7)?,
        heartbeat_seconds: r.get(8)?,
        heartbeat_due_at_ms: r.get(9)?,
    })
}

impl SqliteRepo<'_> {
    /// Every row `sql` selects, each read by `read`.
    fn rows<T>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(args, read)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
    /// The id `sql` selects for a token hash bound as `?1`: a store, driver or customer by its token.
    fn id_by_token(&self, sql: &str, token_hash: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row([token_hash], |r| r.get(0))
            .optional()?)
    }
    /// A driver or customer row: `sql` binds id, name, token hash and creation time.
    fn insert_party(
        &self,
        sql: &str,
        id: &str,
        name: Option<&str>,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.conn
            .execute(sql, params![id, name, token_hash, now_ms])?;
        Ok(())
    }
    fn tasks_where(&self, clause: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<TaskRow>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE {clause}");
        self.rows(&sql, args, task_from_row)
    }
    fn one_task(&self, clause: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Option<TaskRow>> {
        Ok(self.tasks_where(clause, args)?.into_iter().next())
    }
}

impl Repository for SqliteRepo<'_> {
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    fn insert_store(&self, s: &Store, token_hash: Option<&str>, now_ms: i64) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO stores (store_id, name, latitude, longitude, fence_json, hours_json, \
             utc_offset_minutes, capacity, token_hash, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            params![
                s.store_id,
                s.name,
                s.location.latitude,
                s.location.longitude,
                serde_json::to_string(&s.fence)?,
                serde_json::to_string(&s.opening_hours)?,
                s.utc_offset_minutes,
                s.capacity,
                token_hash,
                now_ms
            ],
        )?;
        Ok(n == 1)
    }
    fn store(&self, store_id: &str) -> Result<Option<Store>> {
        let raw = self
            .conn
            .prepare_cached(
                "SELECT store_id, name, latitude, longitude, fence_json, hours_json, utc_offset_minutes, capacity \
                 FROM stores WHERE store_id = ?1",
            )?
            .query_row([store_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i32>(6)?,
                    r.get::<_, u32>(7)?,
                ))
            })
            .optional()?;
        let Some((store_id, name, latitude, longitude, fence, hours, utc_offset_minutes, capacity)) =
            raw
        else {
            return Ok(None);
        };
        Ok(Some(Store {
            store_id,
            name,
            location: Coordinates {
                latitude,
                longitude,
            },
            fence: serde_json::from_str(&fence)?,
            opening_hours: serde_json::from_str(&hours)?,
            utc_offset_minutes,
            capacity,
        }))
    }
    fn set_store_token(&self, store_id: &str, token_hash: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE stores SET token_hash = ?2 WHERE store_id = ?1",
            params![store_id, token_hash],
        )?;
        Ok(n == 1)
    }
    fn store_by_token(&self, token_hash: &str) -> Result<Option<String>> {
        self.id_by_token(
            "SELECT store_id FROM stores WHERE token_hash = ?1",
            token_hash,
        )
    }

    fn insert_driver(
        &self,
        driver_id: &str,
        name: Option<&str>,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.insert_party(
            "INSERT INTO drivers (driver_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            driver_id,
            name,
            token_hash,
            now_ms,
        )
    }
    fn driver_by_token(&self, token_hash: &str) -> Result<Option<String>> {
        self.id_by_token(
            "SELECT driver_id FROM drivers WHERE token_hash = ?1",
            token_hash,
        )
    }
    fn record_driver_location(
        &self,
        driver_id: &str,
        at: Coordinates,
        at_ms: i64,
        available: bool,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE drivers SET latitude = ?2, longitude = ?3, last_report_at = ?4, available = ?5 \
                 WHERE driver_id = ?1",
            )?
            .execute(params![driver_id, at.latitude, at.longitude, at_ms, available])?;
        Ok(())
    }
    fn available_drivers(&self, since_ms: i64) -> Result<Vec<(String, Coordinates)>> {
        let busy = status_list(&[
            OrderStatus::DriverAssigned,
            OrderStatus::DriverArrived,
            OrderStatus::OutForDelivery,
        ]);
        let sql = format!(
            "SELECT d.driver_id, d.latitude, d.longitude FROM drivers d \
             WHERE d.available = 1 AND d.last_report_at >= ?1 AND d.latitude IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.driver_id = d.driver_id AND o.status IN ({busy})) \
             AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.driver_id = d.driver_id AND t.state = 'open' \
                             AND t.kind = 'offer')"
        );
        self.rows(&sql, [since_ms], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Coordinates {
                    latitude: r.get(1)?,
                    longitude: r.get(2)?,
                },
            ))
        })
    }

    fn insert_customer(
        &self,
        customer_id: &str,
        name: Option<&str>,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.insert_party(
            "INSERT INTO customers (customer_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            customer_id,
            name,
            token_hash,
            now_ms,
        )
    }
    fn customer_by_token(&self, token_hash: &str) -> Result<Option<String>> {
        self.id_by_token(
            "SELECT customer_id FROM customers WHERE token_hash = ?1",
            token_hash,
        )
    }

    fn insert_order(&self, o: &OrderRecord) -> Result<()> {
        self.conn.execute(
            &format!("INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)"),
            params![
                o.order_id,
                o.store_id,
                o.customer_id,
                o.status.as_str(),
                o.payment_id,
                serde_json::to_string(&o.pies)?,
                serde_json::to_string(&o.delivery_address)?,
                serde_json::to_string(&o.delivery_steps)?,
                o.driver_id,
                o.created_at.timestamp_millis(),
                o.dispatch_estimated_at.timestamp_millis(),
                o.delivery_estimated_at.timestamp_millis(),
                o.delivered_at.map(|t| t.timestamp_millis()),
                o.cancel_reason,
                o.declined_reason.map(declined_to_str),
                o.driver_eta.map(|e| e.distance_m),
                o.driver_eta.map(|e| e.eta_s),
                o.driver_eta.map(|e| e.at.timestamp_millis()),
            ],
        )?;
        Ok(())
    }
    fn order(&self, order_id: &str) -> Result<Option<OrderRecord>> {
        let raw = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?1"
            ))?
            .query_row([order_id], order_raw)
            .optional()?;
        raw.map(order_from_raw).transpose()
    }
    fn update_order(&self, o: &OrderRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE orders SET status = ?2, driver_id = ?3, delivered_at = ?4, cancel_reason = ?5, \
                 declined_reason = ?6, eta_distance_m = ?7, eta_s = ?8, eta_at = ?9, steps_json = ?10 \
                 WHERE order_id = ?1",
            )?
            .execute(params![
                o.order_id,
                o.status.as_str(),
                o.driver_id,
                o.delivered_at.map(|t| t.timestamp_millis()),
                o.cancel_reason,
                o.declined_reason.map(declined_to_str),
                o.driver_eta.map(|e| e.distance_m),
                o.driver_eta.map(|e| e.eta_s),
                o.driver_eta.map(|e| e.at.timestamp_millis()),
                serde_json::to_string(&o.delivery_steps)?,
            ])?;
        Ok(())
    }
    fn count_orders(&self, store_id: &str, statuses: &[OrderStatus]) -> Result<u32> {
        let sql = format!(
            "SELECT COUNT(*) FROM orders WHERE store_id = ?1 AND status IN ({})",
            status_list(statuses)
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([store_id], |r| r.get(0))?)
    }
    fn driver_orders(&self, driver_id: &str, statuses: &[OrderStatus]) -> Result<Vec<OrderRecord>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE driver_id = ?1 AND status IN ({}) ORDER BY created_at",
            status_list(statuses)
        );
        let raws = self.rows(&sql, [driver_id], order_raw)?;
        raws.into_iter().map(order_from_raw).collect()
    }

    fn unstarted_orders(&self) -> Result<Vec<String>> {
        self.rows(
            "SELECT o.order_id FROM orders o WHERE o.status = 'initiated' \
             AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.order_id = o.order_id)",
            [],
            |r| r.get(0),
        )
    }
    fn insert_task(&self, t: &TaskRow) -> Result<()> {
        self.conn.execute(
            &format!("INSERT INTO tasks ({TASK_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
            params![
                t.token,
                t.order_id,
                t.kind,
                t.state,
                t.driver_id,
                t.offer_id,
                t.created_at_ms,
                t.timeout_at_ms,
                t.heartbeat_seconds,
                t.heartbeat_due_at_ms
            ],
        )?;
        Ok(())
    }
    fn task(&self, token: &str) -> Result<Option<TaskRow>> {
        self.one_task("token = ?1", &[&token])
    }
    fn task_by_offer(&self, offer_id: &str) -> Result<Option<TaskRow>> {
        self.one_task("offer_id = ?1", &[&offer_id])
    }
    fn open_task(&self, order_id: &str, kind: &str) -> Result<Option<TaskRow>> {
        self.one_task(
            "order_id = ?1 AND kind = ?2 AND state = 'open'",
            &[&order_id, &kind],
        )
    }
    fn open_offers_for_driver(&self, driver_id: &str) -> Result<Vec<TaskRow>> {
        self.tasks_where(
            "driver_id = ?1 AND kind = 'offer' AND state = 'open' ORDER BY created_at",
            &[&driver_id],
        )
    }
    fn close_task(&self, token: &str, state: &str, now_ms: i64) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE tasks SET state = ?2, closed_at = ?3 WHERE token = ?1 AND state = 'open'",
            )?
            .execute(params![token, state, now_ms])?;
        Ok(n == 1)
    }
    fn set_heartbeat_due(&self, token: &str, due_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE tasks SET heartbeat_due_at = ?2 WHERE token = ?1 AND state = 'open'",
            )?
            .execute(params![token, due_ms])?;
        Ok(())
    }
    fn due_tasks(&self, now_ms: i64, limit: usize) -> Result<Vec<TaskRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.tasks_where(
            "state = 'open' AND ((timeout_at IS NOT NULL AND timeout_at <= ?1) OR \
             (heartbeat_due_at IS NOT NULL AND heartbeat_due_at <= ?1)) ORDER BY created_at LIMIT ?2",
            &[&now_ms, &limit],
        )
    }

    fn insert_timer(&self, order_id: &str, kind: &str, due_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO timers (order_id, kind, due_at) VALUES (?1, ?2, ?3)")?
            .execute(params![order_id, kind, due_ms])?;
        Ok(())
    }
    fn due_timers(&self, now_ms: i64, limit: usize) -> Result<Vec<TimerRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT id, order_id, kind, due_at FROM timers WHERE due_at <= ?1 ORDER BY due_at LIMIT ?2",
            params![now_ms, limit],
            |r| {
                Ok(TimerRow {
                    id: r.get(0)?,
                    order_id: r.get(1)?,
                    kind: r.get(2)?,
                    due_at_ms: r.get(3)?,
                })
            },
        )
    }
    fn delete_timer(&self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM timers WHERE id = ?1", [id])?;
        Ok(())
    }
    fn delete_timers(&self, order_id: &str, kind: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM timers WHERE order_id = ?1 AND kind = ?2",
            [order_id, kind],
        )?;
        Ok(())
    }

    fn add_dispatch_attempt(&self, order_id: &str, driver_id: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO dispatch_attempts (order_id, driver_id) VALUES (?1, ?2)",
            [order_id, driver_id],
        )?;
        Ok(())
    }
    fn dispatch_attempts(&self, order_id: &str) -> Result<Vec<String>> {
        self.rows(
            "SELECT driver_id FROM dispatch_attempts WHERE order_id = ?1",
            [order_id],
            |r| r.get(0),
        )
    }

    fn append_event(
        &self,
        audience: &str,
        party_id: &str,
        kind: &str,
        data_json: &str,
        now_ms: i64,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (audience, party_id, kind, data_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![audience, party_id, kind, data_json, now_ms])?;
        Ok(self.conn.last_insert_rowid())
    }
    fn events_after(
        &self,
        audience: &str,
        party_id: &str,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<EventRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT id, kind, data_json FROM events WHERE audience = ?1 AND party_id = ?2 AND id > ?3 \
             ORDER BY id LIMIT ?4",
            params![audience, party_id, after_id, limit],
            |r| {
                Ok(EventRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    data_json: r.get(2)?,
                })
            },
        )
    }

    fn has_order_event(
        &self,
        audience: &str,
        party_id: &str,
        kind: &str,
        order_id: &str,
        driver_id: &str,
        place: &str,
    ) -> Result<bool> {
        let found: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM events WHERE audience = ?1 AND party_id = ?2 AND kind = ?3 \
                 AND json_extract(data_json, '$.orderId') = ?4 AND json_extract(data_json, '$.driverId') = ?5 \
                 AND json_extract(data_json, '$.place') = ?6 LIMIT 1",
            )?
            .query_row(params![audience, party_id, kind, order_id, driver_id, place], |r| r.get(0))
            .optional()?;
        Ok(found.is_some())
    }

    fn idempotent_answer(&self, scope: &str, key: &str) -> Result<Option<IdempotentAnswer>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT request_hash, status, body FROM idempotency WHERE scope = ?1 AND key = ?2",
            )?
            .query_row([scope, key], |r| {
                Ok(IdempotentAnswer {
                    request_hash: r.get(0)?,
                    status: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .optional()?)
    }
    fn save_idempotent_answer(
        &self,
        scope: &str,
        key: &str,
        a: &IdempotentAnswer,
        now_ms: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO idempotency (scope, key, request_hash, status, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![scope, key, a.request_hash, a.status, a.body, now_ms])?;
        Ok(())
    }
    fn purge_idempotency(&self, before_ms: i64) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM idempotency WHERE created_at < ?1", [before_ms])?)
    }
    fn order_tasks(&self, order_id: &str, kind: &str) -> Result<Vec<TaskRow>> {
        self.tasks_where(
            "order_id = ?1 AND kind = ?2 ORDER BY created_at",
            &[&order_id, &kind],
        )
    }
}
