//! The durable outbox. Every outbound message is a row written (and committed) before any attempt to send
//! it; it carries an idempotency key derived from the order and the step, so a resend after a crash or a
//! lost answer is harmless. Messages of one order go out strictly in order: only the oldest pending
//! message of each order is ever eligible. Fixes wait in `pending_fixes` until they are sealed into a
//! location batch; while offline they accumulate there (so batches coalesce), bounded by thinning the
//! oldest fixes first. Events are separate messages and are never thinned.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::error::Result;
use super::schema::{self, OpenReport};

/// The wire limit on fixes per location batch (docs/http-api.md).
pub const MAX_FIXES_PER_BATCH: usize = 600;

/// A message to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The order the message belongs to; empty for messages that belong to none (availability).
    pub order_id: String,
    pub kind: MessageKind,
    pub idempotency_key: String,
    /// Path under the backend URL, e.g. `/order/arrival`.
    pub path: String,
    /// The JSON body, frozen at write time: a resend must carry the same body as the first attempt.
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Accept,
    Decline,
    Locations,
    Availability,
    Arrival,
    Pickup,
    Delivered,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Accept => "accept",
            MessageKind::Decline => "decline",
            MessageKind::Locations => "locations",
            MessageKind::Availability => "availability",
            MessageKind::Arrival => "arrival",
            MessageKind::Pickup => "pickup",
            MessageKind::Delivered => "delivered",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "accept" => MessageKind::Accept,
            "decline" => MessageKind::Decline,
            "locations" => MessageKind::Locations,
            "availability" => MessageKind::Availability,
            "arrival" => MessageKind::Arrival,
            "pickup" => MessageKind::Pickup,
            "delivered" => MessageKind::Delivered,
            _ => return None,
        })
    }
}

/// A stored message due for (another) attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub seq: i64,
    pub order_id: String,
    pub kind: MessageKind,
    pub idempotency_key: String,
    pub path: String,
    pub body: String,
    pub attempts: u32,
}

/// A stored message as diagnostics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub kind: MessageKind,
    pub idempotency_key: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub body: String,
    pub attempts: u32,
}

/// A fix waiting for its batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredFix {
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

pub struct Outbox {
    conn: Connection,
    /// Whether the connection currently commits with `synchronous=FULL`.
    full_sync: bool,
}

/// How hard a commit must reach the disk. Messages and dispatch state are `Full` (fsynced: they survive
/// power loss); fixes and send bookkeeping are `Cheap` (WAL `NORMAL`: they survive a killed process, and a
/// power cut may roll back the last few — a fix lost, or a message sent again under its same key).
/// In WAL mode the next `Full` commit makes every earlier commit durable too, so order is kept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    Full,
    Cheap,
}

impl Outbox {
    /// Opens `dir/companion.db`, creating, upgrading or (when corrupt) recreating it.
    pub fn open(dir: &Path) -> Result<(Self, OpenReport)> {
        std::fs::create_dir_all(dir).map_err(super::error::Error::StorageDir)?;
        let (conn, report) = schema::open(&dir.join("companion.db"))?;
        Ok((
            Self {
                conn,
                full_sync: true,
            },
            report,
        ))
    }

    fn durability(&mut self, d: Durability) -> Result<()> {
        let full = d == Durability::Full;
        if full != self.full_sync {
            self.conn
                .pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
            self.full_sync = full;
        }
        Ok(())
    }

    /// Writes a message. Returns false (and writes nothing) when a message with the same idempotency
    /// key exists already: the step was recorded before (e.g. a double tap, or a replayed trigger after a
    /// restart).
    pub fn enqueue(&mut self, msg: &NewMessage, now_ms: i64) -> Result<bool> {
        self.durability(Durability::Full)?;
        let tx = self.conn.transaction()?;
        if msg.kind == MessageKind::Availability {
            // Only the newest availability report matters; one not yet attempted is replaced.
            tx.execute(
                "DELETE FROM outbox WHERE kind = 'availability' AND status = 'pending' AND attempts = 0",
                [],
            )?;
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO outbox
             (order_id, kind, idempotency_key, path, body, created_ms, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                msg.order_id,
                msg.kind.as_str(),
                msg.idempotency_key,
                msg.path,
                msg.body,
                now_ms
            ],
        )?;
        tx.commit()?;
        Ok(inserted == 1)
    }

    /// Stores a fix for the order's next batch, then thins the oldest fixes while more than
    /// `max_pending` are waiting.
    pub fn add_fix(&mut self, order_id: &str, fix: StoredFix, max_pending: u32) -> Result<()> {
        self.durability(Durability::Cheap)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO pending_fixes (order_id, time_ms, lat, lon, accuracy_m) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![order_id, fix.time_ms, fix.lat, fix.lon, fix.accuracy_m],
        )?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM pending_fixes WHERE order_id = ?1",
            [order_id],
            |row| row.get(0),
        )?;
        if count > i64::from(max_pending) {
            // Drop every second fix of the oldest half: old track detail is worth least, the shape of the
            // trip survives, and the newest fixes (which feed the ETA) are untouched.
            tx.execute(
                "DELETE FROM pending_fixes WHERE id IN (
                     SELECT id FROM (
                         SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n
                         FROM pending_fixes WHERE order_id = ?1 ORDER BY id LIMIT ?2
                     ) WHERE n % 2 = 0
                 )",
                params![order_id, count / 2],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Seals up to one batch of the order's waiting fixes into a message built by `build` (which gets the
    /// fixes in time order) and removes them from the waiting list, atomically. Returns false when no fix
    /// was waiting.
    pub fn seal_batch(
        &mut self,
        order_id: &str,
        now_ms: i64,
        build: impl FnOnce(&[StoredFix], i64) -> NewMessage,
    ) -> Result<bool> {
        self.durability(Durability::Full)?;
        let tx = self.conn.transaction()?;
        let (ids, fixes) = {
            let mut stmt = tx.prepare(
                "SELECT id, time_ms, lat, lon, accuracy_m FROM pending_fixes
                 WHERE order_id = ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![order_id, MAX_FIXES_PER_BATCH as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    StoredFix {
                        time_ms: row.get(1)?,
                        lat: row.get(2)?,
                        lon: row.get(3)?,
                        accuracy_m: row.get(4)?,
                    },
                ))
            })?;
            let mut ids = Vec::new();
            let mut fixes = Vec::new();
            for row in rows {
                let (id, fix) = row?;
                ids.push(id);
                fixes.push(fix);
            }
            (ids, fixes)
        };
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(false);
        };
        // Row ids are never reused (AUTOINCREMENT), so the first id names this batch for good.
        let msg = build(&fixes, *first);
        tx.execute(
            "INSERT INTO outbox (order_id, kind, idempotency_key, path, body, created_ms, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                msg.order_id,
                msg.kind.as_str(),
                msg.idempotency_key,
                msg.path,
                msg.body,
                now_ms
            ],
        )?;
        tx.execute(
            "DELETE FROM pending_fixes WHERE order_id = ?1 AND id BETWEEN ?2 AND ?3",
            params![order_id, first, last],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The oldest message due now among the heads of the per-order queues.
    pub fn next_due(&self, now_ms: i64) -> Result<Option<Message>> {
        let row = self
            .conn
            .query_row(
                "SELECT seq, order_id, kind, idempotency_key, path, body, attempts FROM outbox o
                 WHERE status = 'pending' AND next_attempt_ms <= ?1
                   AND seq = (SELECT MIN(seq) FROM outbox
                              WHERE status = 'pending' AND order_id = o.order_id)
                 ORDER BY seq LIMIT 1",
                [now_ms],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, u32>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((seq, order_id, kind, key, path, body, attempts)) = row else {
            return Ok(None);
        };
        let kind = MessageKind::parse(&kind).ok_or(super::error::Error::Corrupt {
            what: "outbox message kind",
        })?;
        Ok(Some(Message {
            seq,
            order_id,
            kind,
            idempotency_key: key,
            path,
            body,
            attempts,
        }))
    }

    /// When the earliest queue head becomes due (None: nothing pending).
    pub fn next_attempt_ms(&self) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT MIN(next_attempt_ms) FROM outbox o WHERE status = 'pending'
               AND seq = (SELECT MIN(seq) FROM outbox WHERE status = 'pending' AND order_id = o.order_id)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Attempts already made on the order's oldest pending message (None: its queue is empty). A head
    /// that has failed before means the server is unreachable: fixes then wait and coalesce.
    pub fn head_attempts(&self, order_id: &str) -> Result<Option<u32>> {
        Ok(self
            .conn
            .query_row(
                "SELECT attempts FROM outbox WHERE status = 'pending' AND order_id = ?1
                 ORDER BY seq LIMIT 1",
                [order_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// `sync_now`: every pending message becomes due at once (backoff forgotten).
    pub fn make_all_due(&mut self) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE outbox SET next_attempt_ms = 0 WHERE status = 'pending'",
            [],
        )?)
    }

    pub fn mark_sent(&mut self, seq: i64, now_ms: i64) -> Result<()> {
        self.durability(Durability::Cheap)?;
        self.conn.execute(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, done_ms = ?2, last_error = NULL
             WHERE seq = ?1",
            params![seq, now_ms],
        )?;
        Ok(())
    }

    /// Records a failed attempt; the message stays at the head of its queue until `next_attempt_ms`.
    pub fn mark_retry(&mut self, seq: i64, next_attempt_ms: i64, reason: &str) -> Result<()> {
        self.durability(Durability::Cheap)?;
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 WHERE seq = ?1",
            params![seq, next_attempt_ms, reason],
        )?;
        Ok(())
    }

    /// The server refused the message for good (a 4xx that no retry can fix). Kept, not deleted, so the
    /// record of what was tried survives; it no longer blocks its order's queue.
    pub fn mark_failed(&mut self, seq: i64, now_ms: i64, reason: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, done_ms = ?2, last_error = ?3
             WHERE seq = ?1",
            params![seq, now_ms, reason],
        )?;
        Ok(())
    }

    /// Gives up every pending message of an order the server no longer lets this driver act on (it was
    /// cancelled or reassigned): marked failed with `reason`, and its waiting fixes dropped.
    pub fn abandon_order(&mut self, order_id: &str, now_ms: i64, reason: &str) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE outbox SET status = 'failed', done_ms = ?2, last_error = ?3
             WHERE order_id = ?1 AND status = 'pending'",
            params![order_id, now_ms, reason],
        )?;
        tx.execute("DELETE FROM pending_fixes WHERE order_id = ?1", [order_id])?;
        tx.commit()?;
        Ok(n)
    }

    /// Privacy: deletes finished messages (and so the fixes and evidence positions in them) that were
    /// done by `cutoff_ms`, except those of `keep_order` (the dispatch still in progress, whose records
    /// back its idempotency and diagnostics until it ends).
    pub fn purge_done(&mut self, cutoff_ms: i64, keep_order: Option<&str>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND done_ms <= ?1
               AND order_id != ?2",
            params![cutoff_ms, keep_order.unwrap_or("")],
        )?)
    }

    /// Drops the fixes of an order that were never batched (used once the order is over).
    pub fn drop_pending_fixes(&mut self, order_id: &str) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM pending_fixes WHERE order_id = ?1", [order_id])?)
    }

    pub fn pending_messages(&self) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending'",
            [],
            |row| row.get(0),
        )?)
    }

    pub fn pending_fixes(&self, order_id: Option<&str>) -> Result<u32> {
        Ok(match order_id {
            Some(id) => self.conn.query_row(
                "SELECT COUNT(*) FROM pending_fixes WHERE order_id = ?1",
                [id],
                |row| row.get(0),
            )?,
            None => self
                .conn
                .query_row("SELECT COUNT(*) FROM pending_fixes", [], |row| row.get(0))?,
        })
    }

    /// Every stored message of an order, in queue order (for tests and diagnostics).
    pub fn messages_of(&self, order_id: &str) -> Result<Vec<MessageRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, idempotency_key, status, body, attempts FROM outbox
             WHERE order_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([order_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                MessageRecord {
                    kind: MessageKind::Accept,
                    idempotency_key: row.get(1)?,
                    status: row.get(2)?,
                    body: row.get(3)?,
                    attempts: row.get(4)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, mut record) = row?;
            record.kind = MessageKind::parse(&kind).ok_or(super::error::Error::Corrupt {
                what: "outbox message kind",
            })?;
            out.push(record);
        }
        Ok(out)
    }

    pub fn get_state(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    pub fn put_state(&mut self, key: &str, value: &str) -> Result<()> {
        self.durability(Durability::Full)?;
        self.conn.execute(
            "INSERT INTO state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    pub fn delete_state(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM state WHERE key = ?1", [key])?;
        Ok(())
    }
}
