//! The store's journal modes: WAL by default; a rollback journal (`delete`) for a file several hosts share
//! (the Lambda functions on EFS), where two connections must still see each other's commits.

use fencepost_server::db::{Db, JournalMode, Repository};
use rusqlite::Connection;

fn journal_mode_on_disk(path: &std::path::Path) -> String {
    let conn = Connection::open(path).expect("open the file directly");
    conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("read the journal mode")
}

#[test]
fn the_default_is_wal_and_delete_leaves_no_shared_memory_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wal = dir.path().join("wal.db");
    drop(Db::open(&wal).expect("open in WAL mode"));
    assert_eq!(journal_mode_on_disk(&wal), "wal");

    let shared = dir.path().join("shared.db");
    let db = Db::open_with(&shared, JournalMode::Delete).expect("open with a rollback journal");
    db.write(|repo| repo.put_meta("probe", b"1"))
        .expect("a write");
    assert_eq!(journal_mode_on_disk(&shared), "delete");
    assert!(
        !dir.path().join("shared.db-shm").exists(),
        "a rollback journal needs no shared-memory file"
    );
}

#[test]
fn two_connections_on_one_file_see_each_others_commits_with_a_rollback_journal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.db");
    // Like the API and worker functions: two handles open at once, each with its own connection.
    let api = Db::open_with(&path, JournalMode::Delete).expect("first handle");
    let worker = Db::open_with(&path, JournalMode::Delete).expect("second handle");
    worker
        .write(|repo| repo.put_meta("filed_by_worker", b"token"))
        .expect("worker writes");
    let seen = api
        .write(|repo| repo.meta("filed_by_worker"))
        .expect("api reads");
    assert_eq!(seen.as_deref(), Some(&b"token"[..]));
    api.write(|repo| repo.put_meta("answered_by_api", b"ok"))
        .expect("api writes");
    let seen = worker
        .write(|repo| repo.meta("answered_by_api"))
        .expect("worker reads");
    assert_eq!(seen.as_deref(), Some(&b"ok"[..]));
}

#[test]
fn an_unknown_journal_mode_is_a_clear_error() {
    let err = "memory".parse::<JournalMode>().expect_err("not supported");
    assert!(err.to_string().contains("`wal` or `delete`"), "{err}");
    assert_eq!(
        "DELETE".parse::<JournalMode>().ok(),
        Some(JournalMode::Delete)
    );
    assert_eq!(" wal ".parse::<JournalMode>().ok(), Some(JournalMode::Wal));
}
