//! The driver feed task: while a dispatch is active it keeps `GET /driver/events` open, so a cancelled,
//! unassigned or overdue order ends on the phone within moments instead of at the next location batch
//! (up to 90 s later). It runs beside the worker loop on the companion's runtime, takes the session lock
//! only to hand over one parsed event, resumes after the last event it handled (`Last-Event-ID`, kept in
//! SQLite so a restart does not replay old cancellations), and reconnects with bounded, jittered backoff.
//! Nothing it logs carries positions or tokens: feed data is only read by the session.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::backend::Outcome;
use super::error::Error;
use super::sse::SseParser;
use super::worker::{backoff_ms, report, Shared, MAX_IDLE};

const PATH: &str = "/driver/events";
/// The server sends a keep-alive every 15 s; this much silence means the connection is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// A stream is recycled after this long (a fresh request, resumed from the cursor).
const MAX_LIFE: Duration = Duration::from_secs(3600);
/// Reconnect backoff bounds (before jitter), whatever the outbox's retry settings.
const BACKOFF_BASE_MS: u64 = 250;
const BACKOFF_MAX_MS: u64 = 30_000;

/// Why one connection ended.
enum Ended {
    /// The companion stopped or the dispatch ended: nothing to reconnect for.
    NotWanted,
    /// The connection delivered at least one chunk before it dropped: reconnect promptly.
    DroppedAfterData,
    /// It failed before delivering anything: back off.
    Failed,
}

pub async fn run(shared: Arc<Shared>) {
    let mut failures: u32 = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.lock().wants_feed() {
            tokio::select! {
                _ = tokio::time::sleep(MAX_IDLE) => {}
                _ = shared.feed_wake.notified() => {}
            }
            continue;
        }
        match connection(&shared).await {
            Ended::NotWanted => failures = 0,
            Ended::DroppedAfterData => {
                failures = 0;
                pause(&shared, backoff_ms(0, BACKOFF_BASE_MS, BACKOFF_MAX_MS)).await;
            }
            Ended::Failed => {
                let delay = backoff_ms(failures, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
                failures = failures.saturating_add(1);
                tracing::debug!(failures, delay, "driver feed will reconnect");
                pause(&shared, delay).await;
            }
        }
    }
}

/// Waits `ms`, cut short by a stop (checked every MAX_IDLE).
async fn pause(shared: &Shared, ms: u64) {
    let mut left = Duration::from_millis(ms);
    while !left.is_zero() && !shared.stop.load(Ordering::SeqCst) {
        let step = left.min(MAX_IDLE);
        tokio::time::sleep(step).await;
        left -= step;
    }
}

/// One connection: open, parse, hand events to the session until it drops or is no longer wanted.
async fn connection(shared: &Shared) -> Ended {
    let cursor = match shared.lock().feed_cursor() {
        Ok(cursor) => cursor,
        Err(err) => {
            report(shared, &err);
            return Ended::Failed;
        }
    };
    let mut response = match shared
        .backend
        .open_stream(PATH, cursor.as_deref(), MAX_LIFE)
        .await
    {
        Ok(response) => response,
        Err(Outcome::Refused { status, code, .. }) => {
            tracing::warn!(status, %code, "driver feed refused");
            return Ended::Failed;
        }
        Err(outcome) => {
            tracing::debug!(?outcome, "driver feed unreachable");
            return Ended::Failed;
        }
    };
    let mut parser = SseParser::new();
    let mut got_data = false;
    let mut silent = Duration::ZERO;
    loop {
        if shared.stop.load(Ordering::SeqCst) || !shared.lock().wants_feed() {
            return Ended::NotWanted;
        }
        // Short waits so a stop or the dispatch's end is noticed promptly; `chunk` loses nothing
        // when its wait is cut.
        let chunk = match tokio::time::timeout(MAX_IDLE, response.chunk()).await {
            Err(_) => {
                silent += MAX_IDLE;
                if silent >= SILENCE_LIMIT {
                    tracing::debug!("driver feed silent, reconnecting");
                    return ended(got_data);
                }
                continue;
            }
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => return ended(got_data),
            Ok(Err(e)) => {
                tracing::debug!(error = %e.without_url(), "driver feed dropped");
                return ended(got_data);
            }
        };
        silent = Duration::ZERO;
        got_data = true;
        let events = match parser.push(&chunk) {
            Ok(events) => events,
            Err(err) => {
                report(shared, &Error::Transport(err.to_string()));
                return Ended::Failed;
            }
        };
        if events.is_empty() {
            continue;
        }
        let now = shared.clock.now_ms();
        let handled = shared.lock().on_feed_events(&events, now);
        match handled {
            Ok(events) => {
                shared.emit(events);
                // The worker re-plans: a dispatch that ended stops its batches and may poll offers.
                shared.wake.notify_one();
            }
            Err(err) => report(shared, &err),
        }
    }
}

fn ended(got_data: bool) -> Ended {
    if got_data {
        Ended::DroppedAfterData
    } else {
        Ended::Failed
    }
}
