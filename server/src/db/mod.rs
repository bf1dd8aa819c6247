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

/// How SQLite keeps its journal. `Wal` (the default) lets readers run beside the writer but needs shared
/// memory, which SQLite documents does not work between hosts on a network file system; `Delete` (a rollback
/// journal, coordinated by file locks only) is the mode for one file shared by several hosts, such as the
/// Lambda functions' store on EFS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JournalMode {
    #[default]
    Wal,
    Delete,
}

impl std::str::FromStr for JournalMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wal" => Ok(Self::Wal),
            "delete" => Ok(Self::Delete),
            other => Err(Error::Config(format!(
                "the SQLite journal mode must be `wal` or `delete`, not {other:?}"
            ))),
        }
    }
}

impl Db {
    /// Opens (creating on first run) and migrates the database at `path`, in WAL mode.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, JournalMode::Wal)
    }

    /// Opens (creating on first run) and migrates the database at `path` with the given journal mode.
    pub fn open_with(path: &Path, journal: JournalMode) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", parent.display())))?;
        }
        Self::setup(Connection::open(path)?, journal)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, JournalMode::Wal)
    }

    fn setup(mut conn: Connection, journal: JournalMode) -> Result<Self> {
        // WAL: readers never block the writer, and NORMAL sync is durable across process crashes in WAL
        // mode. A rollback journal needs FULL for the same guarantee. temp_store=2 keeps temp tables in
        // memory (no temp-path surprises).
        let (mode, sync) = match journal {
            JournalMode::Wal => ("WAL", "NORMAL"),
            JournalMode::Delete => ("DELETE", "FULL"),
        };
        conn.pragma_update(None, "journal_mode", mode)?;
        conn.pragma_update(None, "synchronous", sync)?;
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
