//! The adaptive tracking profile: what the platform's location client should request, as a function of
//! the delivery phase, the distance to the current target and the speed. This is where battery is won:
//! far away a fix every 30 s at balanced accuracy is enough to keep the ETA honest; near the store the
//! arrival must be seen within seconds, so 1 s GPS. Without an active dispatch tracking is off, unless the
//! driver has chosen to be available for offers (the server only offers to drivers it has seen lately).

use super::config::CompanionConfig;
use super::lifecycle::Phase;

/// Accuracy class, mapped by the shells to the platform's own: `High` = Android
/// `PRIORITY_HIGH_ACCURACY` / iOS `kCLLocationAccuracyBest`; `Balanced` = `PRIORITY_BALANCED_POWER_ACCURACY`
/// / `kCLLocationAccuracyHundredMeters`; `Low` = `PRIORITY_LOW_POWER` / `kCLLocationAccuracyKilometer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingAccuracy {
    High,
    Balanced,
    Low,
}

/// What the location client should request. `active == false` means stop location updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackingProfile {
    pub active: bool,
    pub interval_ms: u64,
    pub accuracy: TrackingAccuracy,
    /// Minimum movement between fixes (metres); 0 = every fix.
    pub distance_filter_m: f64,
}

impl TrackingProfile {
    pub const OFF: TrackingProfile = TrackingProfile {
        active: false,
        interval_ms: 0,
        accuracy: TrackingAccuracy::Low,
        distance_filter_m: 0.0,
    };
    /// Available for offers, no dispatch: enough for the server's nearest-driver choice (it needs a
    /// report every 120 s), nothing more.
    pub const STANDBY: TrackingProfile = TrackingProfile {
        active: true,
        interval_ms: 60_000,
        accuracy: TrackingAccuracy::Low,
        distance_filter_m: 200.0,
    };
    /// Waiting at the store or the door: the next scan needs a fresh, accurate fix.
    const AT_STOP: TrackingProfile = TrackingProfile {
        active: true,
        interval_ms: 5_000,
        accuracy: TrackingAccuracy::High,
        distance_filter_m: 0.0,
    };
    /// Close to the target: 1 s GPS so arrival is seen at once.
    const NEAR: TrackingProfile = TrackingProfile {
        active: true,
        interval_ms: 1_000,
        accuracy: TrackingAccuracy::High,
        distance_filter_m: 0.0,
    };
}

/// Slowest speed used to predict when the driver reaches the near ring: a stopped car may start moving.
const MIN_PLANNING_SPEED_MPS: f64 = 5.0;
/// Fixes wanted while crossing from the current distance to the near ring.
const FIXES_BEFORE_NEAR: f64 = 4.0;

/// The profile for a phase, the distance to the current target and the latest speed.
pub fn profile_for(
    phase: Phase,
    available: bool,
    distance_m: Option<f64>,
    speed_mps: Option<f64>,
    config: &CompanionConfig,
) -> TrackingProfile {
    match phase {
        Phase::ArrivedAtStore | Phase::ArrivedAtCustomer => TrackingProfile::AT_STOP,
        Phase::Accepted | Phase::EnRouteToStore | Phase::PickedUp | Phase::EnRouteToCustomer => {
            en_route(distance_m, speed_mps, config)
        }
        Phase::Idle
        | Phase::Offered
        | Phase::Delivered
        | Phase::Declined
        | Phase::Cancelled
        | Phase::Expired => {
            if available {
                TrackingProfile::STANDBY
            } else {
                TrackingProfile::OFF
            }
        }
    }
}

fn en_route(
    distance_m: Option<f64>,
    speed_mps: Option<f64>,
    config: &CompanionConfig,
) -> TrackingProfile {
    let Some(distance_m) = distance_m.filter(|d| d.is_finite()) else {
        // No distance yet (first fix after accepting): a middle profile until one arrives.
        return TrackingProfile {
            active: true,
            interval_ms: 5_000,
            accuracy: TrackingAccuracy::High,
            distance_filter_m: 10.0,
        };
    };
    if distance_m <= config.near_distance_m {
        return TrackingProfile::NEAR;
    }
    // Time until the near ring at the current speed (or a planning minimum), split into a few fixes.
    let speed = speed_mps
        .filter(|s| s.is_finite())
        .unwrap_or(0.0)
        .max(MIN_PLANNING_SPEED_MPS);
    let seconds_to_near = (distance_m - config.near_distance_m) / speed;
    if distance_m >= config.far_distance_m {
        let interval_s = (seconds_to_near / FIXES_BEFORE_NEAR).clamp(10.0, 30.0);
        TrackingProfile {
            active: true,
            interval_ms: (interval_s * 1000.0) as u64,
            accuracy: TrackingAccuracy::Balanced,
            distance_filter_m: 50.0,
        }
    } else {
        let interval_s = (seconds_to_near / FIXES_BEFORE_NEAR).clamp(2.0, 10.0);
        TrackingProfile {
            active: true,
            interval_ms: (interval_s * 1000.0) as u64,
            accuracy: TrackingAccuracy::High,
            distance_filter_m: 10.0,
        }
    }
}
