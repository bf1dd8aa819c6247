//! Helpers for the companion's end-to-end tests (tests/companion_*.rs): a listener that records events,
//! a fixed token provider, a TCP proxy that can make the server unreachable (or swallow its answers)
//! without restarting it, a reader for the store's event feed, and the real Munich trace.

#![allow(dead_code)] // each test file uses a different subset

pub mod proxy;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fencepost_core::companion::{CompanionEvent, CompanionListener, TokenError, TokenProvider};
use fencepost_core::LocationFix;
use serde_json::Value;

/// Records every event; tests wait on it with a bound.
#[derive(Default)]
pub struct Recorder {
    events: Mutex<Vec<CompanionEvent>>,
    changed: Condvar,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn events(&self) -> Vec<CompanionEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Waits (at most `timeout`) for an event matching `pred`; returns it.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&CompanionEvent) -> bool,
    ) -> Option<CompanionEvent> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events.lock().ok()?;
        loop {
            if let Some(e) = events.iter().find(|e| pred(e)) {
                return Some(e.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            events = self.changed.wait_timeout(events, left).ok()?.0;
        }
    }
}

impl CompanionListener for Recorder {
    fn on_event(&self, event: CompanionEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
        self.changed.notify_all();
    }
}

/// A driver token that never expires (the 401 path is tested in core with a stub).
pub struct FixedToken(pub String);

impl TokenProvider for FixedToken {
    fn current_token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
    fn refresh_token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
}

/// Polls `cond` every 20 ms for at most `timeout`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Every event of an SSE feed from the start until one of type `until` (bounded by 15 s): (type, data).
pub fn read_feed(base: &str, path: &str, token: &str, until: &str) -> Vec<(String, Value)> {
    read_feed_until(base, path, token, |kind, _| kind == until)
}

/// Every event of an SSE feed from the start until `stop(type, data)` holds (bounded by 15 s).
pub fn read_feed_until(
    base: &str,
    path: &str,
    token: &str,
    stop: impl Fn(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let read =
        crate::support::sse::read_until(base, path, token, 0, Duration::from_secs(15), |e| {
            stop(&e.kind, &e.data)
        });
    match read {
        Ok(events) => events.into_iter().map(|e| (e.kind, e.data)).collect(),
        Err(out) => panic!("feed {path} ended before the expected event: {out:?}"),
    }
}

pub fn count(feed: &[(String, Value)], kind: &str) -> usize {
    feed.iter().filter(|(k, _)| k == kind).count()
}

/// The Munich car trace (1 Hz; BMW Car IT barefoot, Apache-2.0; see fixtures/README.md) as
/// (lat, lon) in recorded order. The logger gives no accuracy; callers state one.
pub fn munich_points() -> Vec<(f64, f64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/traces/munich_barefoot/x0001-001.json"
    );
    let text = std::fs::read_to_string(path).expect("Munich trace fixture");
    let rows: Vec<Value> = serde_json::from_str(&text).expect("trace JSON");
    rows.iter()
        .filter_map(|r| {
            let p = r["point"]
                .as_str()?
                .strip_prefix("POINT(")?
                .strip_suffix(')')?;
            let (lon, lat) = p.split_once(' ')?;
            Some((lat.parse().ok()?, lon.parse().ok()?))
        })
        .collect()
}

/// Trace point `i` as a fix at `time_ms` with an 8 m accuracy (a phone's fused fix in a city).
pub fn fix_at(points: &[(f64, f64)], i: usize, time_ms: i64) -> LocationFix {
    let (lat, lon) = points[i];
    LocationFix {
        accuracy_m: Some(8.0),
        ..LocationFix::new(time_ms, lat, lon)
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
