//! The `Companion` object: the one thing the Android and iOS apps hold during a shift.
//!
//! It wraps `fencepost_core::companion::Companion` (which Rust tests and the CLI use directly): every
//! method converts records, runs under [`guarded`] (no panic crosses into Kotlin/Swift), and reports
//! failures of the app's listener as `ApiError.Platform`. All methods return quickly; network work
//! happens on the companion's own thread.

use std::sync::Arc;

use fencepost_core::companion as core;

use crate::config::CompanionConfig;
use crate::fix::LocationFix;
use crate::guard::guarded;
use crate::listener::{
    CompanionListener, ListenerAdapter, ListenerFailures, TokenAdapter, TokenProvider,
};
use crate::state::CompanionState;
use crate::tracking::TrackingProfile;
use crate::ApiError;

/// The delivery companion. Create one per signed-in driver; call `shutdown()` (Kotlin: `close()`) when
/// the shift ends. Pending messages stay on disk and are sent by the next companion opened on the same
/// `storage_dir`.
#[derive(uniffi::Object)]
pub struct Companion {
    inner: core::Companion,
    failures: Arc<ListenerFailures>,
}

impl Companion {
    /// Runs one operation, then reports listener failures recorded meanwhile (including those from
    /// the background thread since the previous call). The operation itself took effect either way.
    fn call<T>(
        &self,
        op: impl FnOnce(&core::Companion) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let value = guarded(|| op(&self.inner))?;
        match self.failures.take() {
            Some(reason) => Err(ApiError::Platform { reason }),
            None => Ok(value),
        }
    }
}

#[uniffi::export]
impl Companion {
    /// Opens (or resumes from) `storage_dir` (an app-private directory) and starts the background
    /// thread. Events go to `listener`; `tokens` supplies the driver's bearer token.
    #[uniffi::constructor]
    pub fn new(
        config: CompanionConfig,
        storage_dir: String,
        listener: Arc<dyn CompanionListener>,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Arc<Self>, ApiError> {
        guarded(|| {
            let failures = Arc::new(ListenerFailures::default());
            let adapter = Arc::new(ListenerAdapter {
                app: listener,
                failures: failures.clone(),
            });
            let inner = core::Companion::new(
                config.try_into()?,
                storage_dir,
                adapter,
                Arc::new(TokenAdapter(tokens)),
            )?;
            Ok(Arc::new(Companion { inner, failures }))
        })
    }

    /// A fix from the platform's location client. Never touches the network. Throws
    /// `InvalidInput` for a fix with NaN/out-of-range values or time running backwards.
    pub fn on_location(&self, fix: LocationFix) -> Result<(), ApiError> {
        self.call(|c| Ok(c.on_location(fix.into())?))
    }

    /// The driver is (or stops being) available for offers. Off by default: no location leaves the
    /// phone without either this or an active dispatch.
    pub fn set_available(&self, available: bool) -> Result<(), ApiError> {
        self.call(|c| Ok(c.set_available(available)?))
    }

    /// Accepts an offer (from a `DispatchOffered` event): arms the store's fence and starts tracking.
    pub fn accept_dispatch(&self, offer_id: String) -> Result<(), ApiError> {
        self.call(|c| Ok(c.accept_dispatch(offer_id)?))
    }

    /// Declines an offer, with a reason for the dispatcher.
    pub fn decline_dispatch(&self, offer_id: String, reason: String) -> Result<(), ApiError> {
        self.call(|c| Ok(c.decline_dispatch(offer_id, reason)?))
    }

    /// The store's pickup code as scanned (the QR text `FP1:<orderId>:<code>` or the 12-character
    /// code). Throws `PickupRefused` when the code is for another order or the latest fix is not good
    /// evidence (stale, inaccurate, outside the store's fence, mocked, or a quarantined jump).
    pub fn confirm_pickup(&self, scanned_code: String) -> Result<(), ApiError> {
        self.call(|c| Ok(c.confirm_pickup(scanned_code)?))
    }

    /// The order was handed to the customer. Tracking stops.
    pub fn confirm_delivery(&self) -> Result<(), ApiError> {
        self.call(|c| Ok(c.confirm_delivery()?))
    }

    /// A snapshot for the UI.
    pub fn state(&self) -> Result<CompanionState, ApiError> {
        self.call(|c| Ok(c.state().into()))
    }

    /// What the location client should request now (also sent as `TrackingProfileChanged`).
    pub fn tracking_profile(&self) -> Result<TrackingProfile, ApiError> {
        self.call(|c| Ok(c.tracking_profile().into()))
    }

    /// Sends everything now, forgetting retry backoff (call it when connectivity returns). Returns
    /// immediately.
    pub fn sync_now(&self) -> Result<(), ApiError> {
        self.call(|c| Ok(c.sync_now()?))
    }

    /// Stops the background thread after the request in flight. Later calls throw `ShutDown`.
    pub fn shutdown(&self) {
        // Shutting down must not throw; a panic here has nothing left to clean up.
        let _ = guarded(|| {
            self.inner.shutdown();
            Ok(())
        });
    }
}
