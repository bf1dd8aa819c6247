//! SQLite storage: one connection (the single writer) in WAL mode; every unit of work is one transaction
//! handed to a closure as a `Repository`.

pub mod repo;
pub mod schema;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};
pub use repo::{EventRow, Repository, SqliteRepo, TaskRow};

pub struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating on first run) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", parent.display())))?;
        }
        Self::setup(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes in WAL mode;
        // temp_store=2 keeps temp tables in memory (no temp-path surprises).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", 2)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `work` in one immediate transaction: committed when it returns Ok, rolled back otherwise.
    pub fn write<T, E: From<Error>>(
        &self,
        work: impl FnOnce(&SqliteRepo<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        // A poisoned lock only means another request panicked mid-transaction; SQLite rolled it back.
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::from)?;
        let out = work(&SqliteRepo::new(&tx))?;
        tx.commit().map_err(Error::from)?;
        Ok(out)
    }
}
