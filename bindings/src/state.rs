//! The delivery's phase and the snapshot the UI renders (`Companion.state()`).

use fencepost_core::companion as core;

use crate::dispatch::DispatchOffer;

/// Where one delivery is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Phase {
    /// No dispatch.
    Idle,
    /// An offer is waiting for the driver's answer.
    Offered,
    /// Accepted on the phone; no fix since.
    Accepted,
    /// Driving to the store.
    EnRouteToStore,
    /// Inside the store's fence and stopped: the store has been told.
    ArrivedAtStore,
    /// Pickup confirmed on the phone; no fix since.
    PickedUp,
    /// Driving to the customer.
    EnRouteToCustomer,
    /// At the drop-off.
    ArrivedAtCustomer,
    /// Delivered; tracking has stopped.
    Delivered,
    /// The driver declined the offer.
    Declined,
    /// The order was cancelled by the server.
    Cancelled,
    /// The offer was withdrawn or answered too late.
    Expired,
}

/// Which fence the driver is heading for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Leg {
    /// The store (before pickup).
    Store,
    /// The customer (after pickup).
    Customer,
}

/// The outbox as the UI may show it ("3 updates waiting, offline").
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
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

/// A snapshot of the companion for the UI.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CompanionState {
    /// The current phase.
    pub phase: Phase,
    /// The active (or just finished) order.
    pub order_id: Option<String>,
    /// The accepted dispatch (store, drop-off), while one is active or just finished.
    pub dispatch: Option<DispatchOffer>,
    /// Offers waiting for an answer.
    pub open_offers: Vec<DispatchOffer>,
    /// Distance to the current target, metres.
    pub distance_m: Option<f64>,
    /// Estimated seconds to the current target.
    pub eta_s: Option<f64>,
    /// The driver is available for offers.
    pub available: bool,
    /// The outbox.
    pub sync: SyncStatus,
}

impl From<core::Phase> for Phase {
    fn from(p: core::Phase) -> Self {
        use core::Phase as P;
        match p {
            P::Idle => Phase::Idle,
            P::Offered => Phase::Offered,
            P::Accepted => Phase::Accepted,
            P::EnRouteToStore => Phase::EnRouteToStore,
            P::ArrivedAtStore => Phase::ArrivedAtStore,
            P::PickedUp => Phase::PickedUp,
            P::EnRouteToCustomer => Phase::EnRouteToCustomer,
            P::ArrivedAtCustomer => Phase::ArrivedAtCustomer,
            P::Delivered => Phase::Delivered,
            P::Declined => Phase::Declined,
            P::Cancelled => Phase::Cancelled,
            P::Expired => Phase::Expired,
        }
    }
}

impl From<core::Leg> for Leg {
    fn from(l: core::Leg) -> Self {
        match l {
            core::Leg::Store => Leg::Store,
            core::Leg::Customer => Leg::Customer,
        }
    }
}

impl From<core::SyncStatus> for SyncStatus {
    fn from(s: core::SyncStatus) -> Self {
        SyncStatus {
            pending_messages: s.pending_messages,
            pending_fixes: s.pending_fixes,
            online: s.online,
            last_error: s.last_error,
        }
    }
}

impl From<core::CompanionState> for CompanionState {
    fn from(s: core::CompanionState) -> Self {
        CompanionState {
            phase: s.phase.into(),
            order_id: s.order_id,
            dispatch: s.dispatch.map(Into::into),
            open_offers: s.open_offers.into_iter().map(Into::into).collect(),
            distance_m: s.distance_m,
            eta_s: s.eta_s,
            available: s.available,
            sync: s.sync.into(),
        }
    }
}
