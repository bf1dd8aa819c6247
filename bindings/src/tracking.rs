//! The adaptive tracking profile: what the platform's location client should request right now.

use fencepost_core::companion as core;

/// Requested accuracy. `High` = Android `PRIORITY_HIGH_ACCURACY` / iOS `kCLLocationAccuracyBest`;
/// `Balanced` = `PRIORITY_BALANCED_POWER_ACCURACY` / `kCLLocationAccuracyHundredMeters`;
/// `Low` = `PRIORITY_LOW_POWER` / `kCLLocationAccuracyKilometer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrackingAccuracy {
    /// Satellite accuracy, most power.
    High,
    /// About 100 m.
    Balanced,
    /// About a kilometre, least power.
    Low,
}

/// What the location client should request. `active == false` means: stop location updates.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct TrackingProfile {
    /// Location updates are wanted at all.
    pub active: bool,
    /// Desired interval between fixes, milliseconds.
    pub interval_ms: i64,
    /// Desired accuracy.
    pub accuracy: TrackingAccuracy,
    /// Minimum movement between fixes in metres; 0 = every fix.
    pub distance_filter_m: f64,
}

impl From<core::TrackingAccuracy> for TrackingAccuracy {
    fn from(a: core::TrackingAccuracy) -> Self {
        match a {
            core::TrackingAccuracy::High => TrackingAccuracy::High,
            core::TrackingAccuracy::Balanced => TrackingAccuracy::Balanced,
            core::TrackingAccuracy::Low => TrackingAccuracy::Low,
        }
    }
}

impl From<core::TrackingProfile> for TrackingProfile {
    fn from(p: core::TrackingProfile) -> Self {
        TrackingProfile {
            active: p.active,
            // Intervals are minutes at most; saturate rather than wrap if that ever changes.
            interval_ms: i64::try_from(p.interval_ms).unwrap_or(i64::MAX),
            accuracy: p.accuracy.into(),
            distance_filter_m: p.distance_filter_m,
        }
    }
}
