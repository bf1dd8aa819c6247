//! Everything the companion reports to the app, delivered to its `CompanionListener`.

use fencepost_core::companion as core;

use crate::dispatch::DispatchOffer;
use crate::pickup::PickupRefusal;
use crate::state::{Leg, Phase, SyncStatus};
use crate::tracking::TrackingProfile;

/// An event from the companion. Delivered on the companion's own threads: post to the UI thread.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum CompanionEvent {
    /// A new offer to show the driver.
    DispatchOffered { offer: DispatchOffer },
    /// An offer shown earlier is gone (expired, taken back, or answered elsewhere).
    OfferWithdrawn { offer_id: String },
    /// The delivery moved to a new phase.
    PhaseChanged { order_id: String, phase: Phase },
    /// Close to the store or the customer (once per leg); the store has been told.
    Approaching {
        order_id: String,
        leg: Leg,
        distance_m: Option<f64>,
        eta_s: Option<f64>,
    },
    /// Arrived at the store or the customer; the store has been told.
    Arrived { order_id: String, leg: Leg },
    /// New distance and ETA to the current target.
    EtaUpdated {
        order_id: String,
        leg: Leg,
        distance_m: f64,
        eta_s: Option<f64>,
    },
    /// Apply this to the platform's location client.
    TrackingProfileChanged { profile: TrackingProfile },
    /// The outbox changed (pending counts, online/offline).
    SyncStatusChanged { status: SyncStatus },
    /// The server refused a pickup the phone had accepted (for example a forged code); the delivery is
    /// back to waiting at the store.
    PickupRejected {
        order_id: String,
        refusal: PickupRefusal,
    },
    /// A message the server refused for good, or another failure the driver should know about. No
    /// personal data in `reason`.
    Error { reason: String },
}

impl From<core::CompanionEvent> for CompanionEvent {
    fn from(e: core::CompanionEvent) -> Self {
        use core::CompanionEvent as E;
        match e {
            E::DispatchOffered { offer } => CompanionEvent::DispatchOffered {
                offer: offer.into(),
            },
            E::OfferWithdrawn { offer_id } => CompanionEvent::OfferWithdrawn { offer_id },
            E::PhaseChanged { order_id, phase } => CompanionEvent::PhaseChanged {
                order_id,
                phase: phase.into(),
            },
            E::Approaching {
                order_id,
                leg,
                distance_m,
                eta_s,
            } => CompanionEvent::Approaching {
                order_id,
                leg: leg.into(),
                distance_m,
                eta_s,
            },
            E::Arrived { order_id, leg } => CompanionEvent::Arrived {
                order_id,
                leg: leg.into(),
            },
            E::EtaUpdated {
                order_id,
                leg,
                distance_m,
                eta_s,
            } => CompanionEvent::EtaUpdated {
                order_id,
                leg: leg.into(),
                distance_m,
                eta_s,
            },
            E::TrackingProfileChanged { profile } => CompanionEvent::TrackingProfileChanged {
                profile: profile.into(),
            },
            E::SyncStatusChanged { status } => CompanionEvent::SyncStatusChanged {
                status: status.into(),
            },
            E::PickupRejected { order_id, refusal } => CompanionEvent::PickupRejected {
                order_id,
                refusal: refusal.into(),
            },
            E::Error { reason } => CompanionEvent::Error { reason },
        }
    }
}
