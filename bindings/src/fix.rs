//! The GPS fix as the platform reports it (Android `Location`, iOS `CLLocation`), and its validation.

use fencepost_core::fix as core;

use crate::guard::guarded;
use crate::ApiError;

/// Which positioning source produced a fix; it decides how far the reported accuracy is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Provider {
    /// Satellite positioning.
    Gps,
    /// Wi-Fi / cell positioning.
    Network,
    /// The platform's fused provider (Android `FusedLocationProviderClient`, iOS Core Location).
    Fused,
    /// Not reported by the platform.
    Unknown,
}

/// One GPS fix. Times are Unix epoch milliseconds (UTC).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// When the fix was taken, Unix epoch milliseconds (Android `Location.time`, iOS `timestamp`).
    pub time_ms: i64,
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
    /// Horizontal accuracy radius in metres; `null`/`nil` or 0 when unknown.
    #[uniffi(default = None)]
    pub accuracy_m: Option<f64>,
    /// Ground speed in metres per second, if the platform reports it.
    #[uniffi(default = None)]
    pub speed_mps: Option<f64>,
    /// Course over ground in degrees clockwise from north, if the platform reports it.
    #[uniffi(default = None)]
    pub bearing_deg: Option<f64>,
    /// The source of the fix.
    pub provider: Provider,
    /// The platform flagged the fix as coming from a mock location provider (Android `isMock`,
    /// iOS `sourceInformation.isSimulatedBySoftware`). Mocked fixes never count as pickup evidence.
    #[uniffi(default = false)]
    pub is_mock: bool,
}

impl From<Provider> for core::Provider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Gps => core::Provider::Gps,
            Provider::Network => core::Provider::Network,
            Provider::Fused => core::Provider::Fused,
            Provider::Unknown => core::Provider::Unknown,
        }
    }
}

impl From<core::Provider> for Provider {
    fn from(p: core::Provider) -> Self {
        match p {
            core::Provider::Gps => Provider::Gps,
            core::Provider::Network => Provider::Network,
            core::Provider::Fused => Provider::Fused,
            core::Provider::Unknown => Provider::Unknown,
        }
    }
}

impl From<LocationFix> for core::LocationFix {
    fn from(f: LocationFix) -> Self {
        core::LocationFix {
            time_ms: f.time_ms,
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            speed_mps: f.speed_mps,
            bearing_deg: f.bearing_deg,
            provider: f.provider.into(),
            is_mock: f.is_mock,
        }
    }
}

impl From<core::LocationFix> for LocationFix {
    fn from(f: core::LocationFix) -> Self {
        LocationFix {
            time_ms: f.time_ms,
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            speed_mps: f.speed_mps,
            bearing_deg: f.bearing_deg,
            provider: f.provider.into(),
            is_mock: f.is_mock,
        }
    }
}

/// Checks a fix the way the companion does before using it, and returns it normalised (accuracy 0
/// becomes unknown, bearing wrapped into 0..360). Useful to filter platform output early.
///
/// Throws `ApiError.InvalidInput` naming the bad field (never its value) for NaN/infinite values,
/// out-of-range coordinates, or negative accuracy or speed.
#[uniffi::export]
pub fn normalize_fix(fix: LocationFix) -> Result<LocationFix, ApiError> {
    guarded(|| Ok(core::LocationFix::from(fix).normalized()?.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lat: f64, lon: f64) -> LocationFix {
        LocationFix {
            time_ms: 1_700_000_000_000,
            lat,
            lon,
            accuracy_m: Some(0.0),
            speed_mps: None,
            bearing_deg: Some(-90.0),
            provider: Provider::Gps,
            is_mock: false,
        }
    }

    #[test]
    fn normalizes_unknown_accuracy_and_wraps_bearing() {
        let n = normalize_fix(fix(60.17, 24.94)).expect("a valid fix");
        assert_eq!(n.accuracy_m, None);
        assert_eq!(n.bearing_deg, Some(270.0));
        assert_eq!(n.provider, Provider::Gps);
    }

    #[test]
    fn rejects_nan_and_out_of_range_without_echoing_values() {
        for (f, field) in [
            (fix(f64::NAN, 24.94), "lat"),
            (fix(91.5, 24.94), "latitude"),
            (fix(60.17, 180.5), "longitude"),
        ] {
            match normalize_fix(f) {
                Err(ApiError::InvalidInput { reason }) => {
                    assert!(reason.contains(field), "{reason}");
                    assert!(
                        !reason.contains("91.5") && !reason.contains("180.5"),
                        "{reason}"
                    );
                }
                other => panic!("expected InvalidInput, got {other:?}"),
            }
        }
    }
}
