//! The delivery companion: the object a driver's phone holds during a shift. It turns dispatch offers,
//! GPS fixes and driver actions into the messages the middleware needs, and never loses one.
//!
//! - [`Companion`] — the facade (FFI-shaped: records, enums, one listener trait, typed errors).
//! - [`session`] — state and decisions, synchronous; [`worker`] — the background thread that talks to the
//!   server through [`backend`] and the durable [`outbox`] ([`schema`] for its migrations); [`feed`]
//!   keeps the driver's event stream ([`sse`]) open during a dispatch so cancellations arrive at once.
//! - [`lifecycle`] (phases), [`geofence`] (fences of the active dispatch), [`evidence`] (pickup checks),
//!   [`tracking`] (adaptive location requests), [`wire`] (the HTTP API's JSON), [`listener`] (events and
//!   the platform's callbacks), [`config`], [`clock`], [`error`].

pub mod backend;
pub mod clock;
pub mod config;
pub mod error;
pub mod evidence;
pub mod feed;
pub mod geofence;
pub mod lifecycle;
pub mod listener;
pub mod outbox;
pub mod schema;
pub mod session;
pub mod sse;
pub mod tracking;
pub mod wire;
pub mod worker;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::CompanionConfig;
pub use error::CompanionError;
pub use evidence::PickupRefusal;
pub use lifecycle::{Leg, Phase};
pub use listener::{
    CompanionEvent, CompanionListener, DispatchOffer, FenceSpec, LatLon, SyncStatus, TokenError,
    TokenProvider,
};
pub use session::CompanionState;
pub use tracking::{TrackingAccuracy, TrackingProfile};

use crate::fix::LocationFix;
use error::Error;
use worker::Shared;

/// The companion. Every method returns quickly: network work happens on the companion's own thread.
pub struct Companion {
    shared: Arc<Shared>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Companion {
    /// Opens (or resumes from) `storage_dir` and starts the background thread.
    pub fn new(
        config: CompanionConfig,
        storage_dir: String,
        listener: Arc<dyn CompanionListener>,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self, CompanionError> {
        Self::with_clock(
            config,
            Path::new(&storage_dir),
            listener,
            tokens,
            Arc::new(SystemClock),
        )
    }

    /// As [`Companion::new`], with a chosen clock (tests, the fleet simulator).
    pub fn with_clock(
        config: CompanionConfig,
        storage_dir: &Path,
        listener: Arc<dyn CompanionListener>,
        tokens: Arc<dyn TokenProvider>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CompanionError> {
        let backend = backend::Backend::new(&config, tokens)?;
        let (session, events) = session::Session::open(config, storage_dir, clock.now_ms())?;
        let shared = Arc::new(Shared {
            session: Mutex::new(session),
            listener,
            clock,
            backend,
            wake: tokio::sync::Notify::new(),
            feed_wake: tokio::sync::Notify::new(),
            stop: std::sync::atomic::AtomicBool::new(false),
            poll_now: std::sync::atomic::AtomicBool::new(false),
        });
        shared.emit(events);
        let handle = worker::spawn(shared.clone())?;
        Ok(Self {
            shared,
            worker: Mutex::new(Some(handle)),
        })
    }

    fn check_running(&self) -> Result<(), Error> {
        if self.shared.stop.load(Ordering::SeqCst) {
            Err(Error::ShutDown)
        } else {
            Ok(())
        }
    }

    /// Runs a session operation, then emits its events outside the lock and wakes the worker.
    fn act(
        &self,
        op: impl FnOnce(&mut session::Session, i64) -> Result<Vec<CompanionEvent>, Error>,
    ) -> Result<(), CompanionError> {
        self.check_running()?;
        let now = self.shared.clock.now_ms();
        let events = op(&mut self.shared.lock(), now)?;
        self.shared.emit(events);
        self.shared.wake.notify_one();
        self.shared.feed_wake.notify_one();
        Ok(())
    }

    /// A fix from the platform. Never touches the network.
    pub fn on_location(&self, fix: LocationFix) -> Result<(), CompanionError> {
        self.check_running()?;
        let now = self.shared.clock.now_ms();
        let (events, wake) = self.shared.lock().on_location(fix, now)?;
        self.shared.emit(events);
        if wake {
            self.shared.wake.notify_one();
        }
        Ok(())
    }

    /// The driver is (or stops being) available for offers. Off by default: no location leaves the
    /// phone without either this or an active dispatch.
    pub fn set_available(&self, available: bool) -> Result<(), CompanionError> {
        self.act(|s, _| s.set_available(available))
    }

    pub fn accept_dispatch(&self, offer_id: String) -> Result<(), CompanionError> {
        self.act(|s, now| s.accept(&offer_id, now))
    }

    pub fn decline_dispatch(&self, offer_id: String, reason: String) -> Result<(), CompanionError> {
        self.act(|s, now| s.decline(&offer_id, &reason, now))
    }

    /// The store's code as scanned (the QR text `FP1:<orderId>:<code>` or the 12-character code).
    pub fn confirm_pickup(&self, scanned_code: String) -> Result<(), CompanionError> {
        self.act(|s, now| s.confirm_pickup(&scanned_code, now))
    }

    pub fn confirm_delivery(&self) -> Result<(), CompanionError> {
        self.act(|s, now| s.confirm_delivery(now))
    }

    pub fn state(&self) -> CompanionState {
        self.shared.lock().state()
    }

    pub fn tracking_profile(&self) -> TrackingProfile {
        self.shared.lock().tracking_profile()
    }

    /// Sends everything now: waiting fixes are batched and every pending message is retried at once,
    /// backoff forgotten, and offers are polled (e.g. when the platform reports connectivity is back, or
    /// on pull-to-refresh). Returns immediately.
    pub fn sync_now(&self) -> Result<(), CompanionError> {
        self.shared.poll_now.store(true, Ordering::SeqCst);
        self.act(|s, now| {
            s.flush(now)?;
            Ok(Vec::new())
        })
    }

    /// Stops the background thread (after the request in flight, if any). Pending messages stay on disk
    /// for the next companion opened on the same directory.
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        self.shared.feed_wake.notify_one();
        let handle = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            // A panicked worker has nothing left to clean up; its error was already reported.
            let _ = handle.join();
        }
    }
}

impl Drop for Companion {
    fn drop(&mut self) {
        self.shutdown();
    }
}
