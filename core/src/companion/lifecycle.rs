//! The delivery lifecycle of one dispatch, as a pure state machine:
//! offered → accepted → en route to store → arrived at store → picked up → en route to customer →
//! arrived at customer → delivered, with declined / cancelled / expired as ends the server can impose.
//! The facade persists the [`Dispatch`] after every transition so a reopened companion resumes.

use serde::{Deserialize, Serialize};

use super::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No dispatch.
    Idle,
    Offered,
    /// Accepted on the phone; no fix since.
    Accepted,
    EnRouteToStore,
    ArrivedAtStore,
    /// Pickup confirmed on the phone; no fix since.
    PickedUp,
    EnRouteToCustomer,
    ArrivedAtCustomer,
    Delivered,
    Declined,
    Cancelled,
    /// The offer was withdrawn or answered too late.
    Expired,
}

/// Which fence the driver is heading for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    Store,
    Customer,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Offered => "offered",
            Phase::Accepted => "accepted",
            Phase::EnRouteToStore => "en route to the store",
            Phase::ArrivedAtStore => "arrived at the store",
            Phase::PickedUp => "picked up",
            Phase::EnRouteToCustomer => "en route to the customer",
            Phase::ArrivedAtCustomer => "arrived at the customer",
            Phase::Delivered => "delivered",
            Phase::Declined => "declined",
            Phase::Cancelled => "cancelled",
            Phase::Expired => "expired",
        }
    }

    /// A dispatch is active (tracking on, fences armed) from acceptance until delivery.
    pub fn is_active(self) -> bool {
        self.leg().is_some()
    }

    /// The leg the phase belongs to, if the dispatch is active.
    pub fn leg(self) -> Option<Leg> {
        match self {
            Phase::Accepted | Phase::EnRouteToStore | Phase::ArrivedAtStore => Some(Leg::Store),
            Phase::PickedUp | Phase::EnRouteToCustomer | Phase::ArrivedAtCustomer => {
                Some(Leg::Customer)
            }
            _ => None,
        }
    }

    /// The dispatch is over; the companion can take the next offer.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Idle | Phase::Delivered | Phase::Declined | Phase::Cancelled | Phase::Expired
        )
    }
}

/// What moves a dispatch from one phase to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Accept,
    Decline,
    /// A fix was processed while the dispatch is active.
    Fix,
    ArrivedAtStore,
    Pickup,
    /// The server refused the pickup confirmation: back to waiting at the store.
    PickupRejected,
    ArrivedAtCustomer,
    Delivered,
    /// The server cancelled the order or took it away from this driver.
    Cancelled,
    /// The offer expired or was withdrawn before the acceptance reached the server.
    Expired,
}

/// The next phase, or why the trigger does not apply. `Fix` in a phase it does not move is not an error:
/// it returns the same phase.
pub fn next(phase: Phase, trigger: Trigger) -> Result<Phase, Error> {
    use Phase as P;
    use Trigger as T;
    let to = match (phase, trigger) {
        (P::Offered, T::Accept) => P::Accepted,
        (P::Offered, T::Decline) => P::Declined,
        (P::Accepted, T::Fix) => P::EnRouteToStore,
        (P::PickedUp, T::Fix) => P::EnRouteToCustomer,
        (p, T::Fix) => p,
        (P::Accepted | P::EnRouteToStore, T::ArrivedAtStore) => P::ArrivedAtStore,
        // Scanning is allowed en route too: a fence drawn a little off must not block a real handoff;
        // the evidence check still demands a fix inside the fence.
        (P::EnRouteToStore | P::ArrivedAtStore, T::Pickup) => P::PickedUp,
        (P::PickedUp | P::EnRouteToCustomer, T::PickupRejected) => P::ArrivedAtStore,
        (P::PickedUp | P::EnRouteToCustomer, T::ArrivedAtCustomer) => P::ArrivedAtCustomer,
        (P::EnRouteToCustomer | P::ArrivedAtCustomer, T::Delivered) => P::Delivered,
        (p, T::Cancelled) if !p.is_final() => P::Cancelled,
        (P::Offered | P::Accepted | P::EnRouteToStore | P::ArrivedAtStore, T::Expired) => {
            P::Expired
        }
        (p, t) => {
            return Err(Error::InvalidPhase {
                action: trigger_name(t),
                phase: p.name(),
            })
        }
    };
    Ok(to)
}

fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Accept => "accepting",
        Trigger::Decline => "declining",
        Trigger::Fix => "a fix",
        Trigger::ArrivedAtStore => "arriving at the store",
        Trigger::Pickup => "confirming pickup",
        Trigger::PickupRejected => "a rejected pickup",
        Trigger::ArrivedAtCustomer => "arriving at the customer",
        Trigger::Delivered => "confirming delivery",
        Trigger::Cancelled => "cancelling",
        Trigger::Expired => "expiring",
    }
}
