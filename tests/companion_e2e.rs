//! The companion against the real `fencepost serve` process, driven by the real Munich car trace: a
//! full delivery, an outage mid-trip (every event arrives exactly once, counted on the server's store
//! feed), a companion dropped and reopened mid-delivery, and every pickup refusal.
//!
//! Time: the trace is replayed as fast as the companion takes it, with fix times starting at the wall
//! clock; the companion's clock follows the fixes and the server's test clock is advanced in step
//! (`POST /admin/clock/advance`), so evidence freshness and the 120 s heartbeat behave as on a real trip.

mod companion_support;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use companion_support::proxy::{Mode, Proxy};
use companion_support::{
    count, fix_at, munich_points, now_ms, read_feed, read_feed_until, wait_until, FixedToken,
    Recorder,
};
use fencepost_core::companion::outbox::{MessageKind, Outbox};
use fencepost_core::companion::{
    Companion, CompanionConfig, CompanionError, CompanionEvent, Leg, ManualClock, Phase,
    PickupRefusal, TrackingProfile,
};
use serde_json::{json, Value};
use support::api::Api;
use support::server::TestServer;

/// Where the drive starts (≈ 1.2 km before the store).
const START: usize = 250;
/// The store: the middle of a 66 s stop (indices 413–478) of the trace.
const STORE: usize = 445;
/// The drop-off: inside a 34 s stop (585–618), before the receiver freezes and jumps at ~617.
const DROPOFF: usize = 600;
const LAST_STORE_FIX: usize = 475;
const LAST_FIX: usize = 612;
/// Fixes between server-clock advances (seconds of trace time).
const STEP: usize = 10;
const WAIT: Duration = Duration::from_secs(15);

struct World {
    server: TestServer,
    api: Api,
    proxy: Proxy,
    points: Vec<(f64, f64)>,
    store_id: String,
    store_token: String,
    driver_token: String,
    customer_token: String,
    /// Fix time of trace index START.
    t0: i64,
    /// Seconds the server clock has been advanced.
    advanced: std::cell::Cell<i64>,
}

impl World {
    fn new() -> Self {
        let server = TestServer::start();
        let api = server.api();
        let points = munich_points();
        let admin = server.admin_token.clone();
        let (lat, lon) = points[STORE];
        let (store_id, store_token) = api.create_store(
            &admin,
            &json!({"storeId": "munich-1", "name": "Pizza München",
                    "location": {"latitude": lat, "longitude": lon}, "fence": {"radiusM": 40}, "capacity": 20}),
        );
        let (_, driver_token) = api.create_driver(&admin);
        let (_, customer_token) = api.create_customer(&admin);
        let proxy = Proxy::start(&server.base);
        Self {
            server,
            api,
            proxy,
            points,
            store_id,
            store_token,
            driver_token,
            customer_token,
            t0: now_ms(),
            advanced: std::cell::Cell::new(0),
        }
    }

    fn admin(&self) -> &str {
        &self.server.admin_token
    }

    fn config(&self) -> CompanionConfig {
        let mut c = CompanionConfig::new(self.proxy.url.clone());
        c.location_batch_interval_ms = 30_000;
        c.retry_base_ms = 50;
        c.retry_max_ms = 400;
        c.request_timeout_ms = 3_000;
        c.offer_poll_interval_ms = 200;
        // Kept for ten minutes after delivery so the test can inspect what was sent.
        c.fix_retention_ms = 600_000;
        c
    }

    fn open(&self, dir: &Path, clock: &Arc<ManualClock>) -> (Companion, Arc<Recorder>) {
        let recorder = Recorder::new();
        let companion = Companion::with_clock(
            self.config(),
            dir,
            recorder.clone(),
            Arc::new(FixedToken(self.driver_token.clone())),
            clock.clone(),
        )
        .expect("companion opens");
        (companion, recorder)
    }

    fn time_of(&self, index: usize) -> i64 {
        self.t0 + (index as i64 - START as i64) * 1000
    }

    /// Places an order to the drop-off and has the store accept it. Returns the order id.
    fn place_order(&self) -> String {
        let (lat, lon) = self.points[DROPOFF];
        let placed = self.api.post(
            "/order",
            Some(&self.customer_token),
            &json!({"storeId": self.store_id, "paymentId": "pay-1",
                    "pies": [{"size": "large", "cheese": "medium", "toppings": ["basil"]}],
                    "deliveryAddress": {"coordinates": {"latitude": lat, "longitude": lon},
                        "streetAddress": "Landsberger Str. 1", "city": "München", "postalCode": "80339",
                        "province": "Bayern"}}),
        );
        assert_eq!(placed.status, 201, "{}", placed.text);
        let order_id = placed.body["order"]["orderId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let feed = read_feed_until(
            &self.server.base,
            "/store/events",
            &self.store_token,
            |k, d| k == "order_placed" && d["orderId"] == order_id.as_str(),
        );
        let token = feed
            .iter()
            .rev()
            .find(|(k, d)| k == "order_placed" && d["orderId"] == order_id.as_str())
            .map(|(_, d)| d["taskToken"].as_str().unwrap_or_default().to_string())
            .expect("order_placed with a token");
        let decided = self.api.post(
            "/order/decision",
            Some(&self.store_token),
            &json!({"orderId": order_id, "storeId": self.store_id, "accepted": true, "taskToken": token}),
        );
        assert_eq!(decided.status, 200, "{}", decided.text);
        order_id
    }

    fn pickup_qr(&self, order_id: &str) -> String {
        let r = self.api.get(
            &format!("/order/{order_id}/pickup-code"),
            Some(&self.store_token),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["qr"].as_str().unwrap_or_default().to_string()
    }

    fn status(&self, order_id: &str) -> String {
        let r = self.api.get(
            &format!("/order/{order_id}?party=store"),
            Some(&self.store_token),
        );
        r.body["order"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Brings the server clock up to the trace time of `index` (never backwards).
    fn catch_up(&self, index: usize) {
        let target = (index as i64 - START as i64).max(0);
        let behind = target - self.advanced.get();
        if behind > 0 {
            self.api.advance(self.admin(), behind);
            self.advanced.set(target);
        }
    }

    /// Available driver, first fix, order placed, offer accepted. Returns the order id.
    fn dispatch(&self, companion: &Companion, recorder: &Recorder, clock: &ManualClock) -> String {
        self.dispatch_at(companion, recorder, clock, self.time_of(START))
    }

    /// As [`World::dispatch`], the driver standing at START at time `at_ms` (phone clock).
    fn dispatch_at(
        &self,
        companion: &Companion,
        recorder: &Recorder,
        clock: &ManualClock,
        at_ms: i64,
    ) -> String {
        companion.set_available(true).expect("available");
        clock.set(at_ms);
        companion
            .on_location(fix_at(&self.points, START, at_ms))
            .expect("fix");
        assert!(settle(companion), "availability report sent");
        let order_id = self.place_order();
        let offered = wait_for_offer(companion, recorder, &order_id);
        companion
            .accept_dispatch(offered.offer_id.clone())
            .expect("accept");
        assert!(settle(companion), "acceptance sent");
        assert_eq!(self.status(&order_id), "driver_assigned");
        order_id
    }

    /// Feeds trace fixes `from..to`; `online` decides, per index, whether the server clock keeps up (an
    /// unreachable server cannot be heartbeaten, so the test stops its clock meanwhile).
    fn drive(
        &self,
        companion: &Companion,
        clock: &ManualClock,
        from: usize,
        to: usize,
        online: impl Fn(usize) -> bool,
    ) {
        for i in from..to {
            let t = self.time_of(i);
            clock.set(t);
            companion
                .on_location(fix_at(&self.points, i, t))
                .expect("fix accepted");
            if i % STEP == 0 && online(i) {
                assert!(settle(companion), "synced at fix {i}");
                self.catch_up(i);
            }
        }
    }
}

/// Sync now and wait until nothing is pending (bounded).
fn settle(companion: &Companion) -> bool {
    companion.sync_now().expect("sync");
    wait_until(WAIT, || companion.state().sync.pending_messages == 0)
}

fn wait_for_offer(
    companion: &Companion,
    recorder: &Recorder,
    order_id: &str,
) -> fencepost_core::companion::DispatchOffer {
    let mut found = None;
    let ok = wait_until(WAIT, || {
        companion.sync_now().ok();
        found = recorder.events().into_iter().find_map(|e| match e {
            CompanionEvent::DispatchOffered { offer } if offer.order_id == order_id => Some(offer),
            _ => None,
        });
        found.is_some()
    });
    assert!(ok, "no offer for {order_id}: {:?}", recorder.events());
    found.expect("offer")
}

fn arrived(recorder: &Recorder, leg: Leg) -> bool {
    recorder
        .events()
        .iter()
        .any(|e| matches!(e, CompanionEvent::Arrived { leg: l, .. } if *l == leg))
}

/// The store leg from START to the store, the pickup, the customer leg, the delivery.
fn finish_delivery(
    w: &World,
    companion: &Companion,
    recorder: &Recorder,
    clock: &ManualClock,
    order_id: &str,
    from: usize,
) {
    if from < LAST_STORE_FIX {
        w.drive(companion, clock, from, LAST_STORE_FIX, |_| true);
    }
    assert!(
        arrived(recorder, Leg::Store),
        "arrival at the store detected: {:?}",
        recorder.events()
    );
    assert_eq!(companion.state().phase, Phase::ArrivedAtStore);
    assert!(settle(companion));
    w.catch_up(LAST_STORE_FIX);
    assert_eq!(w.status(order_id), "driver_arrived");

    companion
        .confirm_pickup(w.pickup_qr(order_id))
        .expect("pickup accepted on the phone");
    assert!(settle(companion), "pickup sent");
    assert_eq!(
        w.status(order_id),
        "out_for_delivery",
        "pickup resumed the workflow"
    );

    w.drive(companion, clock, LAST_STORE_FIX, LAST_FIX, |_| true);
    assert!(
        arrived(recorder, Leg::Customer),
        "arrival at the customer: {:?}",
        recorder.events()
    );
    companion
        .confirm_delivery()
        .expect("delivery accepted on the phone");
    assert!(settle(companion), "delivery sent");
    assert_eq!(w.status(order_id), "delivered");
    assert_eq!(companion.state().phase, Phase::Delivered);
    // Trip tracking stops at delivery; the driver is still available, so only the standby report stays…
    assert_eq!(companion.tracking_profile(), TrackingProfile::STANDBY);
    // … and going off shift turns location off entirely.
    companion.set_available(false).expect("off shift");
    assert_eq!(companion.tracking_profile(), TrackingProfile::OFF);
}

/// The server's store feed shows every step exactly once, and one `driver_eta` per location batch the
/// phone sent with a distance (a replayed batch must not produce a second one).
fn assert_exactly_once(w: &World, dir: &Path, order_id: &str) {
    let feed: Vec<(String, Value)> =
        read_feed(&w.server.base, "/store/events", &w.store_token, "delivered")
            .into_iter()
            .filter(|(_, d)| d["orderId"] == order_id)
            .collect();
    let kinds: Vec<String> = feed
        .iter()
        .map(|(k, d)| match d["place"].as_str() {
            Some(place) => format!("{k}/{place}"),
            None => k.clone(),
        })
        .filter(|k| k != "driver_eta")
        .collect();
    for kind in [
        "driver_assigned",
        "driver_approaching/store",
        "driver_arrived/store",
        "picked_up",
        "driver_approaching/customer",
        "driver_arrived/customer",
        "delivered",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            1,
            "{kind} exactly once: {kinds:?}"
        );
    }
    let (outbox, _) = Outbox::open(dir).expect("outbox readable");
    let batches: Vec<_> = outbox
        .messages_of(order_id)
        .expect("messages")
        .into_iter()
        .filter(|m| m.kind == MessageKind::Locations)
        .collect();
    assert!(
        batches.iter().all(|m| m.status == "sent"),
        "every batch delivered: {batches:?}"
    );
    let with_distance = batches
        .iter()
        .filter(|m| m.body.contains("\"distanceM\""))
        .count();
    assert!(with_distance >= 5, "batches with distance: {with_distance}");
    assert_eq!(
        count(&feed, "driver_eta"),
        with_distance,
        "one driver_eta per batch, none replayed twice"
    );
}

#[test]
fn a_full_delivery_from_a_real_trace() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(w.t0));
    let (companion, recorder) = w.open(dir.path(), &clock);
    assert!(
        !companion.tracking_profile().active,
        "no tracking before the driver goes available"
    );
    let order_id = w.dispatch(&companion, &recorder, &clock);
    finish_delivery(&w, &companion, &recorder, &clock, &order_id, START + 1);

    // (Requests per fix are measured by `cargo bench --bench companion`: this test syncs every 10 s of
    // trace time to keep the server clock in step, which seals extra batches.)
    companion.shutdown();
    assert_exactly_once(&w, dir.path(), &order_id);
    // Tracking profile went from en route to 1 s near the store.
    assert!(recorder.events().iter().any(|e| matches!(e,
        CompanionEvent::TrackingProfileChanged { profile } if profile.interval_ms == 1_000)));

    // Privacy: past the retention, nothing of the trip is left on the phone.
    clock.advance(600_001);
    let (companion, _) = w.open(dir.path(), &clock);
    let (outbox, _) = Outbox::open(dir.path()).expect("outbox");
    assert!(wait_until(WAIT, || outbox
        .messages_of(&order_id)
        .map(|m| m.is_empty())
        .unwrap_or(false)));
    assert_eq!(outbox.pending_fixes(None).expect("fixes"), 0);
    companion.shutdown();
}

#[test]
fn an_outage_mid_trip_loses_and_duplicates_nothing() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(w.t0));
    let (companion, recorder) = w.open(dir.path(), &clock);
    let order_id = w.dispatch(&companion, &recorder, &clock);

    // Unreachable for 60 s of the approach, then 30 s where the server works but its answers are lost.
    let refuse = 330..390;
    let swallow = 390..420;
    w.drive(&companion, &clock, START + 1, refuse.start, |_| true);
    w.proxy.set(Mode::Refuse);
    w.drive(&companion, &clock, refuse.start, refuse.end, |_| false);
    // The worker notices on its next attempt, which a loaded machine may not have scheduled yet.
    let noticed = wait_until(WAIT, || {
        companion.sync_now().ok();
        !companion.state().sync.online
    });
    let offline = companion.state().sync;
    assert!(
        noticed,
        "the companion never noticed the outage: {offline:?}"
    );
    assert!(offline.pending_messages > 0 || offline.pending_fixes > 0);
    w.proxy.set(Mode::Swallow);
    w.drive(&companion, &clock, swallow.start, swallow.end, |_| false);
    // Let swallowed attempts happen, then restore the network.
    companion.sync_now().expect("sync");
    std::thread::sleep(Duration::from_millis(600));
    w.proxy.set(Mode::Pass);
    assert!(settle(&companion), "backlog drained after the outage");
    w.catch_up(swallow.end);
    finish_delivery(&w, &companion, &recorder, &clock, &order_id, swallow.end);
    companion.shutdown();
    assert_exactly_once(&w, dir.path(), &order_id);
    // Some message really was retried with its key (swallowed or refused).
    let (outbox, _) = Outbox::open(dir.path()).expect("outbox");
    assert!(outbox
        .messages_of(&order_id)
        .expect("messages")
        .iter()
        .any(|m| m.attempts > 1));
}

#[test]
fn a_companion_reopened_mid_delivery_resumes_dispatch_and_pending_messages() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(w.t0));
    let order_id = {
        let (companion, recorder) = w.open(dir.path(), &clock);
        let order_id = w.dispatch(&companion, &recorder, &clock);
        w.drive(&companion, &clock, START + 1, 350, |_| true);
        w.proxy.set(Mode::Refuse);
        w.drive(&companion, &clock, 350, 390, |_| false);
        companion.sync_now().expect("sync");
        let state = companion.state();
        assert!(
            state.sync.pending_messages > 0,
            "messages waiting when dropped: {state:?}"
        );
        order_id
        // dropped here: the worker stops, nothing is flushed
    };
    w.proxy.set(Mode::Pass);
    let (companion, recorder) = w.open(dir.path(), &clock);
    let state = companion.state();
    assert_eq!(state.order_id.as_deref(), Some(order_id.as_str()));
    assert_eq!(state.phase, Phase::EnRouteToStore);
    assert!(
        companion.tracking_profile().active,
        "tracking resumes with the dispatch"
    );
    assert!(settle(&companion), "pending messages sent after reopening");
    w.catch_up(390);
    finish_delivery(&w, &companion, &recorder, &clock, &order_id, 390);
    companion.shutdown();
    assert_exactly_once(&w, dir.path(), &order_id);
}

fn refusal(result: Result<(), CompanionError>) -> PickupRefusal {
    match result {
        Err(CompanionError::PickupRefused { refusal }) => refusal,
        other => panic!("expected a pickup refusal, got {other:?}"),
    }
}

#[test]
fn every_pickup_refusal_is_typed() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(w.t0));
    let (companion, recorder) = w.open(dir.path(), &clock);
    let order_id = w.dispatch(&companion, &recorder, &clock);
    let qr = w.pickup_qr(&order_id);

    // Still ~100 m out: outside the store fence.
    w.drive(&companion, &clock, START + 1, 400, |_| true);
    assert_eq!(
        refusal(companion.confirm_pickup(qr.clone())),
        PickupRefusal::OutsideFence
    );

    w.drive(&companion, &clock, 400, 440, |_| true);
    assert!(arrived(&recorder, Leg::Store));

    // Another order's code (a second order the store accepted, not this driver's).
    let other = w.place_order();
    assert_eq!(
        refusal(companion.confirm_pickup(w.pickup_qr(&other))),
        PickupRefusal::WrongOrder
    );

    // The latest fix is a minute old.
    clock.set(w.time_of(439) + 60_000);
    assert!(matches!(
        refusal(companion.confirm_pickup(qr.clone())),
        PickupRefusal::StaleFix { age_s: 60 }
    ));

    // A mock provider's fix at the counter.
    let t = w.time_of(440) + 60_000;
    clock.set(t);
    let mut mocked = fix_at(&w.points, 440, t);
    mocked.is_mock = true;
    companion.on_location(mocked).expect("fix");
    assert_eq!(
        refusal(companion.confirm_pickup(qr.clone())),
        PickupRefusal::Mocked
    );

    // A jump of ~2 km in one second: quarantined.
    clock.set(t + 1_000);
    companion
        .on_location(fix_at(&w.points, 250, t + 1_000))
        .expect("fix");
    assert_eq!(
        refusal(companion.confirm_pickup(qr.clone())),
        PickupRefusal::QuarantinedJump
    );
    // None of the refused scans left the phone.
    assert!(settle(&companion));
    assert_eq!(w.status(&order_id), "driver_arrived");

    // Good fixes again; a forged code passes the phone (it cannot check the HMAC) but not the server.
    for k in 2..6 {
        let tk = t + k * 1_000;
        clock.set(tk);
        companion
            .on_location(fix_at(&w.points, 440, tk))
            .expect("fix");
    }
    w.api.advance(w.admin(), 65);
    companion
        .confirm_pickup("0000000000AB".to_string())
        .expect("passes the phone's checks");
    assert!(settle(&companion));
    let rejected = recorder.wait_for(WAIT, |e| matches!(e, CompanionEvent::PickupRejected { .. }));
    assert!(
        matches!(
            rejected,
            Some(CompanionEvent::PickupRejected {
                refusal: PickupRefusal::WrongOrder,
                ..
            })
        ),
        "{rejected:?}"
    );
    assert_eq!(companion.state().phase, Phase::ArrivedAtStore);
    assert_eq!(w.status(&order_id), "driver_arrived");

    // The real code then goes through.
    companion.confirm_pickup(qr).expect("real code");
    assert!(settle(&companion));
    assert_eq!(w.status(&order_id), "out_for_delivery");
}

/// Waits (bounded) for the companion to end `order_id` as cancelled.
fn wait_cancelled(recorder: &Recorder, order_id: &str) -> bool {
    recorder
        .wait_for(WAIT, |e| {
            matches!(e, CompanionEvent::PhaseChanged { order_id: o, phase: Phase::Cancelled } if o == order_id)
        })
        .is_some()
}

/// The server takes an accepted order away (the driver's heartbeat lapses on its test clock) and the
/// companion hears it on the driver feed within seconds — no location batch (the companion's clock
/// never reaches the 30 s batch interval), no refused request. Reopened on the same directory it resumes
/// the feed after that event, and the next order's unassignment ends only that order's dispatch.
#[test]
fn a_server_side_unassignment_reaches_the_companion_through_the_driver_feed() {
    let w = World::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(w.time_of(START)));
    let first = {
        let (companion, recorder) = w.open(dir.path(), &clock);
        let order_id = w.dispatch(&companion, &recorder, &clock);
        // Silence past the 120 s heartbeat: the server unassigns the driver and re-dispatches.
        w.api.advance(w.admin(), 121);
        assert_eq!(w.status(&order_id), "accepted_by_store");
        assert!(
            wait_cancelled(&recorder, &order_id),
            "cancellation heard on the feed: {:?}",
            recorder.events()
        );
        assert_eq!(companion.state().phase, Phase::Cancelled);
        // Emitted right after the phase change: waited for, not assumed.
        let why = recorder.wait_for(WAIT, |e| {
            matches!(e, CompanionEvent::Error { reason } if reason.contains("unassigned (heartbeat_timeout)"))
        });
        assert!(why.is_some(), "{:?}", recorder.events());
        companion.shutdown();
        order_id
    };
    let unassigned = crate::support::sse::read_until(
        &w.server.base,
        "/driver/events",
        &w.driver_token,
        0,
        WAIT,
        |e| e.kind == "unassigned" && e.data["orderId"] == first.as_str(),
    )
    .expect("the server's unassigned event")
    .pop()
    .expect("one event");
    let cursor = {
        let (outbox, _) = Outbox::open(dir.path()).expect("outbox");
        outbox.get_state("feed_last_event_id").expect("state")
    };
    let cursor: i64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(-1);
    assert!(
        cursor >= unassigned.id,
        "the feed cursor ({cursor}) is past the handled event ({})",
        unassigned.id
    );

    let (companion, recorder) = w.open(dir.path(), &clock);
    // The server's clock is 121 s ahead now: the driver's next fix is too, or it would be too old to
    // count as "seen" for dispatch.
    let second = w.dispatch_at(&companion, &recorder, &clock, w.time_of(START) + 122_000);
    assert_ne!(second, first);
    w.api.advance(w.admin(), 121);
    assert!(
        wait_cancelled(&recorder, &second),
        "{:?}",
        recorder.events()
    );
    let cancellations = recorder
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                CompanionEvent::PhaseChanged {
                    phase: Phase::Cancelled,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        cancellations, 1,
        "only the second order ended after the reopen"
    );
}
