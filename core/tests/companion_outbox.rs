//! The durable outbox on a real SQLite file: written before sent, deduplicated by idempotency key,
//! in order per order, bounded while offline, and surviving reopen and corruption.

use fencepost_core::companion::outbox::{MessageKind, NewMessage, Outbox, StoredFix};
use fencepost_core::companion::schema;

fn msg(order: &str, kind: MessageKind, key: &str) -> NewMessage {
    NewMessage {
        order_id: order.to_owned(),
        kind,
        idempotency_key: key.to_owned(),
        path: "/order/arrival".to_owned(),
        body: format!("{{\"k\":\"{key}\"}}"),
    }
}

fn fix(t: i64) -> StoredFix {
    StoredFix {
        time_ms: t,
        lat: 60.17,
        lon: 24.94,
        accuracy_m: Some(5.0),
    }
}

#[test]
fn same_idempotency_key_is_written_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
    assert!(outbox
        .enqueue(&msg("o1", MessageKind::Arrival, "o1:arrived_at_store"), 1)
        .expect("enqueue"));
    assert!(!outbox
        .enqueue(&msg("o1", MessageKind::Arrival, "o1:arrived_at_store"), 2)
        .expect("enqueue again"));
    assert_eq!(outbox.pending_messages().expect("count"), 1);
}

#[test]
fn only_the_head_of_each_order_is_due_and_a_failing_head_blocks_its_order_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
    outbox
        .enqueue(&msg("a", MessageKind::Accept, "a:1"), 0)
        .expect("a1");
    outbox
        .enqueue(&msg("a", MessageKind::Arrival, "a:2"), 0)
        .expect("a2");
    outbox
        .enqueue(&msg("b", MessageKind::Accept, "b:1"), 0)
        .expect("b1");

    let head = outbox.next_due(10).expect("due").expect("some");
    assert_eq!(head.idempotency_key, "a:1");
    // a:1 fails and backs off until t=1000: a:2 must wait behind it, b:1 goes ahead.
    outbox.mark_retry(head.seq, 1000, "down").expect("retry");
    let next = outbox.next_due(10).expect("due").expect("some");
    assert_eq!(next.idempotency_key, "b:1");
    outbox.mark_sent(next.seq, 10).expect("sent");
    assert_eq!(outbox.next_due(10).expect("due"), None);
    assert_eq!(outbox.next_attempt_ms().expect("next"), Some(1000));

    let again = outbox.next_due(1000).expect("due").expect("some");
    assert_eq!(again.idempotency_key, "a:1");
    assert_eq!(again.attempts, 1);
    outbox.mark_sent(again.seq, 1000).expect("sent");
    let last = outbox.next_due(1000).expect("due").expect("some");
    assert_eq!(last.idempotency_key, "a:2");
}

#[test]
fn fixes_seal_into_batches_of_at_most_600_with_stable_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
    for t in 0..700 {
        outbox.add_fix("o", fix(t * 1000), 5000).expect("fix");
    }
    let mut sizes = Vec::new();
    loop {
        let mut size = 0;
        let sealed = outbox
            .seal_batch("o", 1, |fixes, first| {
                size = fixes.len();
                assert!(fixes.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
                NewMessage {
                    order_id: "o".into(),
                    kind: MessageKind::Locations,
                    idempotency_key: format!("o:locations:{first}"),
                    path: "/driver/locations".into(),
                    body: "{}".into(),
                }
            })
            .expect("seal");
        if !sealed {
            break;
        }
        sizes.push(size);
    }
    assert_eq!(sizes, vec![600, 100]);
    assert_eq!(outbox.pending_fixes(Some("o")).expect("count"), 0);
    let keys: Vec<String> = outbox
        .messages_of("o")
        .expect("list")
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    assert_eq!(keys, vec!["o:locations:1", "o:locations:601"]);
}

#[test]
fn offline_fixes_stay_bounded_and_the_oldest_are_thinned_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
    outbox
        .enqueue(&msg("o", MessageKind::Arrival, "o:approaching_store"), 0)
        .expect("event");
    let cap = 100;
    for t in 0..1000 {
        outbox.add_fix("o", fix(t * 1000), cap).expect("fix");
    }
    let kept = outbox.pending_fixes(Some("o")).expect("count");
    assert!(kept <= cap && kept > cap / 2, "kept {kept}");
    let mut times = Vec::new();
    outbox
        .seal_batch("o", 1, |fixes, first| {
            times = fixes.iter().map(|f| f.time_ms).collect();
            msg("o", MessageKind::Locations, &format!("o:locations:{first}"))
        })
        .expect("seal");
    // The newest fixes are all there, one second apart; the oldest are sparse.
    let tail: Vec<i64> = times.iter().rev().take(10).copied().collect();
    assert_eq!(
        tail,
        (990..1000).rev().map(|t| t * 1000).collect::<Vec<_>>()
    );
    let first_gap = times[1] - times[0];
    assert!(
        first_gap >= 4000,
        "oldest fixes should be thinned, gap {first_gap}"
    );
    // The event was never touched.
    assert_eq!(
        outbox.messages_of("o").expect("list")[0].idempotency_key,
        "o:approaching_store"
    );
}

#[test]
fn messages_and_state_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
        outbox
            .enqueue(&msg("o", MessageKind::Pickup, "o:pickup:1"), 5)
            .expect("enqueue");
        outbox.put_state("dispatch", "{\"x\":1}").expect("state");
    }
    let (outbox, report) = Outbox::open(dir.path()).expect("reopen");
    assert_eq!(report, schema::OpenReport::default());
    let due = outbox.next_due(5).expect("due").expect("pending message");
    assert_eq!(due.kind, MessageKind::Pickup);
    assert_eq!(
        outbox.get_state("dispatch").expect("state").as_deref(),
        Some("{\"x\":1}")
    );
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("companion.db"), vec![0x42u8; 8192]).expect("write junk");
    let (mut outbox, report) = Outbox::open(dir.path()).expect("recreated");
    let aside = report.moved_aside.expect("moved aside");
    assert!(aside.exists(), "the damaged file is kept for inspection");
    assert!(outbox
        .enqueue(&msg("o", MessageKind::Accept, "o:accept"), 0)
        .expect("usable"));
}

#[test]
fn a_damaged_database_keeps_every_message_it_still_yields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("companion.db");
    {
        let (mut outbox, _) = Outbox::open(dir.path()).expect("open");
        for i in 0..5 {
            outbox
                .enqueue(&msg("o", MessageKind::Arrival, &format!("o:{i}")), i)
                .expect("enqueue");
        }
    }
    // Add a table the outbox does not need, checkpoint everything into the main file, then break that
    // table's root page: the integrity check fails, but the outbox rows are intact and must be kept.
    let (root, page_size) = {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "CREATE TABLE filler (x BLOB); INSERT INTO filler VALUES (zeroblob(20000));",
        )
        .expect("filler");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        let root: i64 = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'filler'",
                [],
                |r| r.get(0),
            )
            .expect("root page");
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .expect("page size");
        (root, page_size)
    };
    let mut bytes = std::fs::read(&path).expect("read");
    let offset = ((root - 1) * page_size) as usize;
    for b in &mut bytes[offset..offset + 12] {
        *b = 0xFF;
    }
    std::fs::write(&path, &bytes).expect("write damaged");
    let (outbox, report) = Outbox::open(dir.path()).expect("opened");
    assert!(report.moved_aside.is_some(), "the damaged file is detected");
    assert_eq!(
        report.salvaged_messages, 5,
        "every readable message is carried over"
    );
    assert_eq!(outbox.pending_messages().expect("count"), 5);
    let first = outbox.next_due(0).expect("due").expect("some");
    assert_eq!(first.idempotency_key, "o:0", "order is kept");
}

#[test]
fn a_database_from_a_newer_version_is_refused_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("companion.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);",
        )
        .expect("future schema");
    }
    assert!(Outbox::open(dir.path()).is_err());
    assert!(path.exists());
}

#[test]
fn upgrading_an_empty_file_matches_a_fresh_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh = dir.path().join("fresh");
    let (_fresh, _) = Outbox::open(&fresh).expect("fresh");
    let upgraded_path = dir.path().join("upgraded.db");
    let mut conn = rusqlite::Connection::open(&upgraded_path).expect("open");
    schema::upgrade(&mut conn).expect("upgrade from 0");
    schema::upgrade(&mut conn).expect("upgrading twice is a no-op");
    let dump = |c: &rusqlite::Connection| -> Vec<String> {
        let mut stmt = c
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .expect("prepare");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows")
    };
    let fresh_conn = rusqlite::Connection::open(fresh.join("companion.db")).expect("open fresh");
    assert_eq!(dump(&conn), dump(&fresh_conn));
    let versions: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .expect("count");
    assert_eq!(versions, i64::from(schema::VERSION));
}
