//! The `Companion` facade against a local HTTP stub (the real server is exercised in
//! tests/companion_*.rs): token refresh on 401, a late acceptance, batching at 1 fix/s over an hour,
//! `on_location` completing while a request hangs, and the driver feed ending a cancelled dispatch.

mod companion_stub;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use companion_stub::{offers_body, Stub};
use fencepost_core::companion::wire::rfc3339;
use fencepost_core::companion::{
    Companion, CompanionConfig, CompanionEvent, CompanionListener, ManualClock, Phase, TokenError,
    TokenProvider,
};
use fencepost_core::LocationFix;

const T0: i64 = 1_900_000_000_000;
const STORE: (f64, f64) = (60.1699, 24.9384);

#[derive(Default)]
struct Events(Mutex<Vec<CompanionEvent>>);

impl CompanionListener for Events {
    fn on_event(&self, event: CompanionEvent) {
        if let Ok(mut e) = self.0.lock() {
            e.push(event);
        }
    }
}

impl Events {
    fn has(&self, pred: impl Fn(&CompanionEvent) -> bool) -> bool {
        self.0.lock().map(|e| e.iter().any(pred)).unwrap_or(false)
    }
}

/// Hands out a stale token first; a refresh yields the fresh one.
struct Rotating {
    refreshed: AtomicBool,
}

impl TokenProvider for Rotating {
    fn current_token(&self) -> Result<String, TokenError> {
        Ok(if self.refreshed.load(Ordering::SeqCst) {
            "fresh"
        } else {
            "stale"
        }
        .to_string())
    }
    fn refresh_token(&self) -> Result<String, TokenError> {
        self.refreshed.store(true, Ordering::SeqCst);
        Ok("fresh".to_string())
    }
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

fn config(url: &str) -> CompanionConfig {
    let mut c = CompanionConfig::new(url);
    c.retry_base_ms = 20;
    c.retry_max_ms = 100;
    c.request_timeout_ms = 5_000;
    c
}

fn fix(t: i64, lat: f64, lon: f64) -> LocationFix {
    LocationFix {
        accuracy_m: Some(6.0),
        ..LocationFix::new(t, lat, lon)
    }
}

fn open(
    url: &str,
    dir: &std::path::Path,
    clock: &Arc<ManualClock>,
    tokens: Arc<dyn TokenProvider>,
) -> (Companion, Arc<Events>) {
    let events = Arc::new(Events::default());
    let c = Companion::with_clock(config(url), dir, events.clone(), tokens, clock.clone())
        .expect("companion");
    (c, events)
}

/// Goes available, polls until `offer_id` is offered (bounded) and accepts it.
fn accept_offer(c: &Companion, events: &Events, offer_id: &str) {
    c.set_available(true).expect("available");
    c.sync_now().expect("poll");
    assert!(wait_until(Duration::from_secs(10), || events.has(
        |e| matches!(e, CompanionEvent::DispatchOffered { offer } if offer.offer_id == offer_id)
    )));
    c.accept_dispatch(offer_id.to_string()).expect("accept");
}

fn static_token() -> Arc<dyn TokenProvider> {
    Arc::new(Rotating {
        refreshed: AtomicBool::new(true),
    })
}

#[test]
fn an_expired_token_is_refreshed_once_and_the_message_resent_with_the_same_key() {
    let stub = Stub::start(Arc::new(|r| {
        if r.authorization.as_deref() == Some("Bearer fresh") {
            (200, r#"{"offers": [], "accepted": 1}"#.to_string())
        } else {
            (
                401,
                r#"{"message": "unknown token", "code": "unauthorized"}"#.to_string(),
            )
        }
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let tokens = Arc::new(Rotating {
        refreshed: AtomicBool::new(false),
    });
    let (c, _) = open(&stub.url, dir.path(), &clock, tokens);
    c.set_available(true).expect("available");
    c.on_location(fix(T0, STORE.0, STORE.1)).expect("fix");
    assert!(wait_until(Duration::from_secs(10), || c
        .state()
        .sync
        .pending_messages
        == 0));
    // The first request (an offer poll or the availability report) meets the 401, is repeated once
    // with the refreshed token, and everything after uses it.
    let all = stub.requests();
    assert!(all.len() >= 2, "{all:?}");
    assert_eq!(all[0].authorization.as_deref(), Some("Bearer stale"));
    assert_eq!(
        (&all[1].method, &all[1].path),
        (&all[0].method, &all[0].path)
    );
    assert_eq!(all[0].idempotency_key, all[1].idempotency_key);
    assert!(all[1..]
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer fresh")));
    let delivered: Vec<_> = all
        .iter()
        .filter(|r| r.method == "POST" && r.authorization.as_deref() == Some("Bearer fresh"))
        .collect();
    assert_eq!(
        delivered.len(),
        1,
        "the report reached the server once: {all:?}"
    );
    assert!(delivered[0].body.contains("\"available\":true"));
}

#[test]
fn no_location_leaves_the_phone_without_availability_or_a_dispatch() {
    let stub = Stub::start(Arc::new(|_| (200, r#"{"offers": []}"#.to_string())));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (c, _) = open(&stub.url, dir.path(), &clock, static_token());
    for k in 0..30 {
        c.on_location(fix(T0 + k * 1000, STORE.0, STORE.1))
            .expect("fix");
    }
    c.sync_now().expect("sync");
    std::thread::sleep(Duration::from_millis(200));
    assert!(stub.posts().is_empty(), "{:?}", stub.posts());
    assert!(!c.tracking_profile().active);
    // Bad input is a typed error, not a panic.
    assert!(c.on_location(fix(T0, f64::NAN, 0.0)).is_err());
    assert!(c.on_location(fix(T0, 91.0, 0.0)).is_err());
}

#[test]
fn an_acceptance_the_server_refuses_expires_the_dispatch_and_disarms_tracking() {
    let offers = offers_body("off1", "order-1", STORE.0, STORE.1, &rfc3339(T0 + 60_000));
    let stub = Stub::start(Arc::new(move |r| {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/driver/offers") => (200, offers.clone()),
            (_, p) if p.ends_with("/accept") => (
                409,
                r#"{"message": "offer expired", "code": "task_timed_out"}"#.to_string(),
            ),
            _ => (200, r#"{"accepted": 1}"#.to_string()),
        }
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
    accept_offer(&c, &events, "off1");
    assert_eq!(c.state().phase, Phase::Accepted);
    assert!(wait_until(Duration::from_secs(10), || c.state().phase
        == Phase::Expired));
    // Events are emitted just after the state changes (outside the lock): wait for it too.
    assert!(wait_until(Duration::from_secs(5), || events.has(
        |e| matches!(
            e,
            CompanionEvent::PhaseChanged {
                phase: Phase::Expired,
                ..
            }
        )
    )));
    // Standby again (the driver is still available), not trip tracking.
    assert_eq!(c.tracking_profile().interval_ms, 60_000);
    // The wrong offer id is a typed error.
    assert!(c.accept_dispatch("nope".to_string()).is_err());
}

/// One hour at 1 fix/s toward a store 40 km away: the companion's requests against the one-request-
/// per-fix baseline (3600). Counts, not times: deterministic.
#[test]
fn an_hour_at_one_fix_per_second_costs_at_most_a_sixtieth_of_the_requests() {
    let offers = offers_body("off1", "order-1", STORE.0, STORE.1, &rfc3339(T0 + 60_000));
    let stub = Stub::start(Arc::new(move |r| match r.method.as_str() {
        "GET" => (200, offers.clone()),
        _ => (200, r#"{"accepted": 1}"#.to_string()),
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
    accept_offer(&c, &events, "off1");
    let before = stub.posts().len();
    // 10 m/s northward, starting 40 km south of the store: never near it within the hour.
    let start_lat = STORE.0 - 0.36;
    for k in 0..3600i64 {
        let t = T0 + k * 1000;
        clock.set(t);
        c.on_location(fix(t, start_lat + k as f64 * 10.0 / 111_320.0, STORE.1))
            .expect("fix");
    }
    // End of the hour: what is still waiting goes out (one more batch).
    c.sync_now().expect("flush");
    assert!(wait_until(Duration::from_secs(20), || c
        .state()
        .sync
        .pending_messages
        == 0));
    let posts = stub.posts();
    let during = posts.len() - before;
    let fixes_sent: usize = posts
        .iter()
        .filter(|r| r.path == "/driver/locations")
        .map(|r| r.body.matches("\"time\"").count())
        .sum();
    assert!(during * 60 <= 3600, "{during} requests for 3600 fixes");
    assert!(
        fixes_sent >= 3590,
        "every fix still reaches the server: {fixes_sent}"
    );
    // Distinct keys: nothing was sent twice.
    let mut keys: Vec<_> = posts
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), posts.len());
}

#[test]
fn on_location_completes_while_a_request_hangs() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().map_while(Result::ok) {
            if let Ok(mut v) = h.lock() {
                v.push(s);
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (c, _) = open(&url, dir.path(), &clock, static_token());
    c.set_available(true).expect("available");
    c.on_location(fix(T0, STORE.0, STORE.1))
        .expect("first fix queues a report");
    assert!(wait_until(Duration::from_secs(5), || held
        .lock()
        .map(|v| !v.is_empty())
        .unwrap_or(false)));
    // The worker is now stuck in a request for up to 5 s; the caller is not.
    for k in 1..200 {
        c.on_location(fix(T0 + k * 1000, STORE.0, STORE.1))
            .expect("fix");
        let _ = c.state();
        let _ = c.tracking_profile();
    }
    assert!(
        c.state().sync.pending_messages >= 1,
        "the report is still in flight"
    );
    c.shutdown();
}

/// Ten minutes offline at 1 fix/s: the fixes wait and coalesce instead of becoming one batch per 90 s,
/// and once the server is back every fix arrives, in fewer requests.
#[test]
fn offline_fixes_coalesce_into_few_batches_and_all_arrive() {
    let down = Arc::new(AtomicBool::new(false));
    let offers = offers_body("off1", "order-1", STORE.0, STORE.1, &rfc3339(T0 + 60_000));
    let d = down.clone();
    let stub = Stub::start(Arc::new(move |r| {
        if r.method == "GET" {
            (200, offers.clone())
        } else if d.load(Ordering::SeqCst) {
            (
                503,
                r#"{"message": "down", "code": "internal"}"#.to_string(),
            )
        } else {
            (200, r#"{"accepted": 1}"#.to_string())
        }
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
    accept_offer(&c, &events, "off1");
    assert!(wait_until(Duration::from_secs(10), || c
        .state()
        .sync
        .pending_messages
        == 0));
    down.store(true, Ordering::SeqCst);
    let start_lat = STORE.0 - 0.36;
    for k in 0..700i64 {
        let t = T0 + k * 1000;
        clock.set(t);
        c.on_location(fix(t, start_lat + k as f64 * 10.0 / 111_320.0, STORE.1))
            .expect("fix");
        if k % 90 == 0 {
            // Give the worker a chance to attempt (and fail) what is due.
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    // The worker notices on its next attempt, which a loaded machine may not have scheduled yet (no
    // sync_now here: it would cut the waiting fixes into a batch).
    assert!(wait_until(Duration::from_secs(10), || !c
        .state()
        .sync
        .online));
    let offline = c.state().sync;
    assert!(
        offline.pending_messages <= 2,
        "no batch per interval while offline: {offline:?}"
    );
    assert!(
        offline.pending_fixes >= 500,
        "fixes wait to coalesce: {offline:?}"
    );
    down.store(false, Ordering::SeqCst);
    // Keep nudging: an attempt already under way when the server came back fails and schedules its retry
    // on the frozen test clock, consuming a single nudge.
    assert!(wait_until(Duration::from_secs(20), || {
        c.sync_now().ok();
        c.state().sync.pending_messages == 0
    }));
    let delivered: Vec<_> = stub
        .posts()
        .into_iter()
        .filter(|r| r.path == "/driver/locations" && !r.body.is_empty())
        .collect();
    let mut keys: Vec<_> = delivered
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert!(
        keys.len() <= 4,
        "{} distinct batches for 700 fixes",
        keys.len()
    );
    let fixes: usize = {
        // Count each batch once (retries repeat the same body).
        let mut seen = std::collections::HashSet::new();
        delivered
            .iter()
            .filter(|r| seen.insert(r.idempotency_key.clone()))
            .map(|r| r.body.matches("\"time\"").count())
            .sum()
    };
    assert!(fixes >= 695, "every fix arrived: {fixes}");
}

#[test]
fn an_unreadable_dispatch_record_is_reported_not_fatal() {
    let stub = Stub::start(Arc::new(|_| (200, r#"{"offers": []}"#.to_string())));
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut outbox, _) =
            fencepost_core::companion::outbox::Outbox::open(dir.path()).expect("outbox");
        outbox.put_state("dispatch", "{not json").expect("state");
    }
    let clock = Arc::new(ManualClock::new(T0));
    let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
    assert_eq!(c.state().phase, Phase::Idle);
    assert!(events.has(|e| matches!(e, CompanionEvent::Error { .. })));
}

/// The driver feed: a cancellation of the current order ends the dispatch at once (no location batch
/// needed), one about another order is ignored, and a companion reopened on the same directory resumes
/// the feed after the last event it handled, so the old cancellation cannot end a new dispatch of the
/// same order.
#[test]
fn a_cancellation_on_the_driver_feed_ends_the_dispatch_once_and_is_not_replayed() {
    let reoffer = Arc::new(AtomicBool::new(false));
    let offered = reoffer.clone();
    let first = offers_body("off1", "order-1", STORE.0, STORE.1, &rfc3339(T0 + 60_000));
    let second = offers_body("off2", "order-1", STORE.0, STORE.1, &rfc3339(T0 + 60_000));
    let feed = concat!(
        ": keep-alive\n\n",
        "id: 1\nevent: unassigned\ndata: {\"orderId\":\"order-9\",\"reason\":\"pickup_timeout\"}\n\n",
        "id: 2\nevent: order_cancelled\ndata: {\"orderId\":\"order-1\",\n",
        "data: \"reason\":\"store_cancelled\"}\n\n",
    );
    let stub = Stub::start(Arc::new(move |r| {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/driver/offers") if offered.load(Ordering::SeqCst) => (200, second.clone()),
            ("GET", "/driver/offers") => (200, first.clone()),
            // Replayed from the start without a cursor; nothing new after it (the stub keeps the
            // stream open with keep-alives, as the server does).
            ("GET", "/driver/events") if r.last_event_id.is_none() => (200, feed.to_string()),
            ("GET", "/driver/events") => (200, String::new()),
            _ => (200, r#"{"accepted": 1}"#.to_string()),
        }
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let is_cancelled = |e: &CompanionEvent| {
        matches!(
            e,
            CompanionEvent::PhaseChanged {
                phase: Phase::Cancelled,
                ..
            }
        )
    };
    {
        let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
        accept_offer(&c, &events, "off1");
        // No fix is ever sent: only the feed can end this dispatch.
        assert!(wait_until(Duration::from_secs(10), || events.has(is_cancelled)));
        assert_eq!(c.state().phase, Phase::Cancelled);
        assert!(events.has(|e| matches!(e, CompanionEvent::Error { reason }
            if reason.contains("order_cancelled (store_cancelled)"))));
        assert!(
            !events.has(
                |e| matches!(e, CompanionEvent::Error { reason } if reason.contains("unassigned"))
            ),
            "the earlier event about another order is ignored"
        );
        c.shutdown();
    }
    let before = stub.requests().len();
    reoffer.store(true, Ordering::SeqCst);
    let (c, events) = open(&stub.url, dir.path(), &clock, static_token());
    accept_offer(&c, &events, "off2");
    let feed_requests = || -> Vec<_> {
        stub.requests()
            .into_iter()
            .skip(before)
            .filter(|r| r.path == "/driver/events")
            .collect()
    };
    // Bounded: the reopened companion's feed has connected.
    assert!(wait_until(Duration::from_secs(10), || !feed_requests().is_empty()));
    assert!(
        feed_requests()
            .iter()
            .all(|r| r.last_event_id.as_deref() == Some("2")),
        "the reopened companion resumes after the last event: {:?}",
        feed_requests()
    );
    assert_eq!(c.state().phase, Phase::Accepted);
    assert!(!events.has(is_cancelled));
}
