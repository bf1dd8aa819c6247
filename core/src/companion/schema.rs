//! The companion's SQLite schema, versioned: `VERSION` + one SQL script per version, applied in order by
//! [`upgrade`] and recorded in `schema_version`. A file that is not a database (or is corrupt) is moved
//! aside — never deleted — after salvaging what can still be read, and a fresh one is created.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::{Error, Result};

/// The newest schema version this build writes.
pub const VERSION: u32 = 1;

/// Version 1: the outbox (one row per outbound message, kept until sent and past retention), fixes not
/// yet in a batch, and small key/value state (the active dispatch, availability).
const V1: &str = "
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    last_error TEXT,
    done_ms INTEGER
);
CREATE INDEX outbox_queue ON outbox (status, order_id, seq);
CREATE TABLE pending_fixes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    accuracy_m REAL
);
CREATE INDEX pending_fixes_order ON pending_fixes (order_id, id);
CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Scripts by the version they create; `MIGRATIONS[v - 1]` upgrades from `v - 1` to `v`.
const MIGRATIONS: &[&str] = &[V1];

/// What [`open`] had to do to get a usable database.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The old file was unreadable and moved here.
    pub moved_aside: Option<PathBuf>,
    /// Outbox rows copied from the unreadable file into the fresh one.
    pub salvaged_messages: usize,
}

/// Opens (creating or upgrading) the database at `path`.
pub fn open(path: &Path) -> Result<(Connection, OpenReport)> {
    match open_checked(path) {
        Ok(conn) => Ok((conn, OpenReport::default())),
        Err(err) if is_corruption(&err) => recreate(path),
        Err(err) => Err(err),
    }
}

fn open_checked(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    // Reading the schema touches the header and the schema pages: a foreign or truncated file fails here.
    let ok: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if ok != "ok" {
        return Err(Error::Corrupt { what: "database" });
    }
    upgrade(&mut conn)?;
    Ok(conn)
}

/// WAL so readers never block the writer and a killed process leaves a consistent file; temp_store in
/// memory because Android has no usable temp directory for SQLite; FULL sync by default so a committed
/// message survives power loss too (the outbox relaxes it for fixes: see `outbox::Durability`).
fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "temp_store", 2)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Applies every migration after the stored version, each in its own transaction.
pub fn upgrade(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: Option<u32> = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |row| {
            row.get(0)
        })
        .unwrap_or(None);
    let current = current.unwrap_or(0);
    if current > VERSION {
        // A newer app wrote this file; rewriting it would lose what it knows.
        return Err(Error::Corrupt {
            what: "database (written by a newer version)",
        });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [index as u32 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn is_corruption(err: &Error) -> bool {
    match err {
        Error::Corrupt { what } => *what == "database",
        Error::Storage(rusqlite::Error::SqliteFailure(e, _)) => matches!(
            e.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        ),
        _ => false,
    }
}

/// Moves the unreadable file (and its WAL) aside, creates a fresh database, and copies over every outbox
/// row and state entry that can still be read from the old one.
fn recreate(path: &Path) -> Result<(Connection, OpenReport)> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let aside = path.with_extension(format!("corrupt-{stamp}"));
    std::fs::rename(path, &aside).map_err(Error::StorageDir)?;
    for suffix in ["-wal", "-shm"] {
        let mut from = path.as_os_str().to_owned();
        from.push(suffix);
        let mut to = aside.as_os_str().to_owned();
        to.push(suffix);
        // A missing WAL/SHM is normal; anything else we still want to move if possible.
        let _ = std::fs::rename(&from, &to);
    }
    let mut conn = open_checked(path)?;
    let salvaged = salvage(&aside, &mut conn);
    Ok((
        conn,
        OpenReport {
            moved_aside: Some(aside),
            salvaged_messages: salvaged,
        },
    ))
}

/// Best effort: whatever rows the damaged file still yields. Errors just end the salvage.
fn salvage(from: &Path, into: &mut Connection) -> usize {
    let Ok(old) = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    let Ok(mut stmt) = old.prepare(
        "SELECT order_id, kind, idempotency_key, path, body, created_ms FROM outbox
         WHERE status = 'pending' ORDER BY seq",
    ) else {
        return 0;
    };
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
        ))
    });
    let mut copied = 0;
    if let Ok(rows) = rows {
        for (order_id, kind, key, path, body, created) in rows.flatten() {
            let inserted = into.execute(
                "INSERT OR IGNORE INTO outbox
                 (order_id, kind, idempotency_key, path, body, created_ms, next_attempt_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
                rusqlite::params![order_id, kind, key, path, body, created],
            );
            if matches!(inserted, Ok(1)) {
                copied += 1;
            }
        }
    }
    if let Ok(mut stmt) = old.prepare("SELECT key, value FROM state") {
        if let Ok(rows) = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        }) {
            for (key, value) in rows.flatten() {
                let _ = into.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)",
                    [key, value],
                );
            }
        }
    }
    copied
}
