//! What the companion tells the platform (one listener trait, plain records and enums) and what the
//! platform supplies (the bearer token). Shaped for UniFFI: values by value, no references back.

use serde::{Deserialize, Serialize};

use super::evidence::PickupRefusal;
use super::lifecycle::{Leg, Phase};
use super::tracking::TrackingProfile;

/// A WGS 84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// A fence as the server describes it: a circle around the site, or a polygon ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FenceSpec {
    Circle { radius_m: f64 },
    Polygon { ring: Vec<LatLon> },
}

/// A dispatch offer from the server: enough to show the driver and to arm the fences on acceptance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchOffer {
    pub offer_id: String,
    pub order_id: String,
    pub store_id: String,
    pub store_name: String,
    pub store_location: LatLon,
    pub store_fence: FenceSpec,
    pub dropoff: LatLon,
    pub expires_at_ms: i64,
}

/// The outbox as the UI may show it ("3 updates waiting, offline").
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    /// Messages written and not yet acknowledged by the server.
    pub pending_messages: u32,
    /// Fixes not yet put into a batch.
    pub pending_fixes: u32,
    /// The last attempt reached the server.
    pub online: bool,
    /// Why the last attempt failed (no personal data).
    pub last_error: Option<String>,
}

/// Everything the companion reports to the platform.
#[derive(Debug, Clone, PartialEq)]
pub enum CompanionEvent {
    DispatchOffered {
        offer: DispatchOffer,
    },
    /// An offer shown earlier is gone (expired, taken back, or answered elsewhere).
    OfferWithdrawn {
        offer_id: String,
    },
    PhaseChanged {
        order_id: String,
        phase: Phase,
    },
    Approaching {
        order_id: String,
        leg: Leg,
        distance_m: Option<f64>,
        eta_s: Option<f64>,
    },
    Arrived {
        order_id: String,
        leg: Leg,
    },
    EtaUpdated {
        order_id: String,
        leg: Leg,
        distance_m: f64,
        eta_s: Option<f64>,
    },
    TrackingProfileChanged {
        profile: TrackingProfile,
    },
    SyncStatusChanged {
        status: SyncStatus,
    },
    /// The server refused a pickup the phone had accepted (e.g. a forged code); the dispatch is back to
    /// waiting at the store.
    PickupRejected {
        order_id: String,
        refusal: PickupRefusal,
    },
    /// A message the server refused for good (it will not be retried), or another failure the driver
    /// should know about. `reason` has no personal data.
    Error {
        reason: String,
    },
}

/// Receives the companion's events, on the companion's own threads: implementations must return
/// quickly (post to the UI thread).
pub trait CompanionListener: Send + Sync {
    fn on_event(&self, event: CompanionEvent);
}

/// Why the platform could not supply a token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("token unavailable: {reason}")]
pub struct TokenError {
    pub reason: String,
}

/// Supplies the driver's bearer token. `refresh_token` is called after a 401 and must return a new one.
pub trait TokenProvider: Send + Sync {
    fn current_token(&self) -> Result<String, TokenError>;
    fn refresh_token(&self) -> Result<String, TokenError>;
}
