//! The companion's background thread: a single-threaded tokio runtime that drains the outbox (oldest
//! due message first, one order's messages strictly in order), polls offers while the driver is
//! available, seals periodic location batches and purges expired data; the driver feed ([`super::feed`])
//! runs beside it on the same runtime. It holds the session lock only
//! around storage work, never across a request, so `on_location` never waits on the network.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;

use super::backend::{Backend, Outcome};
use super::clock::Clock;
use super::error::{Error, Result};
use super::listener::{CompanionEvent, CompanionListener};
use super::session::Session;
use super::wire;

/// Longest the worker sleeps without looking again (real time). Keeps a manual clock in tests and a
/// suspended-then-resumed phone from waiting on a stale deadline.
pub(crate) const MAX_IDLE: Duration = Duration::from_millis(500);

/// Everything the facade and the worker share.
pub struct Shared {
    pub session: Mutex<Session>,
    pub listener: Arc<dyn CompanionListener>,
    pub clock: Arc<dyn Clock>,
    pub backend: Backend,
    pub wake: Notify,
    /// Wakes the driver feed task (a dispatch started, or the companion stops).
    pub feed_wake: Notify,
    pub stop: AtomicBool,
    /// `sync_now` asks for an offer poll regardless of the poll interval.
    pub poll_now: AtomicBool,
}

impl Shared {
    /// A panic elsewhere must not turn every later call into a panic: the session's data is still
    /// consistent (every change is one SQLite transaction), so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn emit(&self, events: Vec<CompanionEvent>) {
        for event in events {
            self.listener.on_event(event);
        }
    }
}

pub fn spawn(shared: Arc<Shared>) -> Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    std::thread::Builder::new()
        .name("fencepost-companion".to_owned())
        .spawn(move || {
            runtime.block_on(async {
                // The driver feed runs beside the loop on this thread; it never holds the session lock
                // across an await, so neither waits on the other's network.
                let feed = tokio::spawn(super::feed::run(shared.clone()));
                run(shared).await;
                feed.abort();
            })
        })
        .map_err(Error::Runtime)
}

async fn run(shared: Arc<Shared>) {
    let mut next_offer_poll_ms = i64::MIN;
    while !shared.stop.load(Ordering::SeqCst) {
        let now = shared.clock.now_ms();
        if let Err(err) = housekeeping(&shared, now) {
            report(&shared, &err);
        }
        let wants_offers = shared.lock().wants_offers();
        let forced = shared.poll_now.swap(false, Ordering::SeqCst);
        if wants_offers && (forced || now >= next_offer_poll_ms) {
            poll_offers(&shared).await;
            let interval = shared.lock().config.offer_poll_interval_ms as i64;
            next_offer_poll_ms = shared.clock.now_ms() + interval;
        }
        if let Err(err) = drain(&shared).await {
            report(&shared, &err);
        }
        let wait = match next_deadline(&shared, wants_offers.then_some(next_offer_poll_ms)) {
            Ok(Some(at)) => {
                Duration::from_millis((at - shared.clock.now_ms()).clamp(0, 60_000) as u64)
            }
            Ok(None) => MAX_IDLE,
            Err(err) => {
                report(&shared, &err);
                MAX_IDLE
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.min(MAX_IDLE)) => {}
            _ = shared.wake.notified() => {}
        }
    }
}

pub(crate) fn report(shared: &Shared, err: &Error) {
    tracing::warn!(error = %err, "companion worker");
    shared.emit(vec![CompanionEvent::Error {
        reason: err.to_string(),
    }]);
}

fn housekeeping(shared: &Shared, now: i64) -> Result<()> {
    let mut session = shared.lock();
    session.worker_tick(now)?;
    session.purge(now)?;
    Ok(())
}

fn next_deadline(shared: &Shared, next_poll: Option<i64>) -> Result<Option<i64>> {
    let session = shared.lock();
    let candidates = [
        session.outbox.next_attempt_ms()?,
        session.next_batch_due_ms(),
        next_poll,
    ];
    Ok(candidates.into_iter().flatten().min())
}

async fn poll_offers(shared: &Shared) {
    match shared.backend.get("/driver/offers").await {
        Outcome::Done(body) => match wire::parse_offers(&body) {
            Ok((offers, skipped)) => {
                let now = shared.clock.now_ms();
                let mut events = shared.lock().on_offers(offers, now);
                if skipped > 0 {
                    events.push(CompanionEvent::Error {
                        reason: format!("{skipped} offers had unusable geometry and were skipped"),
                    });
                }
                shared.emit(events);
            }
            Err(reason) => report(shared, &Error::Transport(reason.to_owned())),
        },
        Outcome::Retry(reason) => tracing::debug!(%reason, "offer poll failed"),
        Outcome::Refused { status, code, .. } => {
            tracing::warn!(status, %code, "offer poll refused");
        }
    }
}

/// Sends every message that is due, one at a time.
async fn drain(shared: &Shared) -> Result<()> {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let now = shared.clock.now_ms();
        let Some(msg) = shared.lock().outbox.next_due(now)? else {
            return Ok(());
        };
        let outcome = shared
            .backend
            .post(&msg.path, &msg.idempotency_key, &msg.body)
            .await;
        let now = shared.clock.now_ms();
        let events = {
            let mut session = shared.lock();
            match outcome {
                Outcome::Done(_) => session.on_sent(&msg, now)?,
                Outcome::Retry(reason) => {
                    let delay = backoff_ms(
                        msg.attempts,
                        session.config.retry_base_ms,
                        session.config.retry_max_ms,
                    );
                    tracing::debug!(kind = msg.kind.as_str(), attempts = msg.attempts + 1, delay, %reason, "will retry");
                    session.on_retry(&msg, now + delay as i64, &reason)?
                }
                Outcome::Refused {
                    status,
                    code,
                    message,
                } => session.on_refused(&msg, status, &code, &message, now)?,
            }
        };
        shared.emit(events);
    }
}

/// Exponential backoff with "equal jitter": half the doubled delay fixed, half random, so retries of
/// many phones spread out but none retries immediately.
pub fn backoff_ms(attempts: u32, base_ms: u64, max_ms: u64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempts.min(20)).min(max_ms);
    let half = exp / 2;
    half + rand::rng().random_range(0..=half)
}
