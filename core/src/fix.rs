//! A raw location fix as the platform reports it, and its validation.

use serde::{Deserialize, Serialize};

/// Which positioning source produced a fix. Drives how far its accuracy can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Gps,
    Network,
    Fused,
    #[default]
    Unknown,
}

/// One GPS fix. Times are Unix epoch milliseconds (UTC) so the type crosses the FFI boundary unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationFix {
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy radius in metres (Android: 68 %). `None` (or 0 in files) means unknown.
    pub accuracy_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub bearing_deg: Option<f64>,
    #[serde(default)]
    pub provider: Provider,
    /// The platform flagged the fix as coming from a mock location provider.
    #[serde(default)]
    pub is_mock: bool,
}

/// Why a fix was rejected. Messages name the field, never the coordinates (no personal data).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixError {
    #[error("{field} is not a finite number")]
    NotFinite { field: &'static str },
    #[error("latitude is outside -90..=90")]
    LatitudeOutOfRange,
    #[error("longitude is outside -180..=180")]
    LongitudeOutOfRange,
    #[error("accuracy must not be negative")]
    NegativeAccuracy,
    #[error("speed must not be negative")]
    NegativeSpeed,
    #[error("time runs backwards: this fix is {behind_ms} ms older than the previous one")]
    TimeWentBackwards { behind_ms: i64 },
}

impl LocationFix {
    /// A fix with only time and position known.
    pub fn new(time_ms: i64, lat: f64, lon: f64) -> Self {
        Self {
            time_ms,
            lat,
            lon,
            accuracy_m: None,
            speed_mps: None,
            bearing_deg: None,
            provider: Provider::Unknown,
            is_mock: false,
        }
    }

    /// Checks the values a platform or file could get wrong. Accuracy 0 is normalised to unknown by
    /// [`LocationFix::normalized`], not rejected.
    pub fn validate(&self) -> Result<(), FixError> {
        finite("lat", self.lat)?;
        finite("lon", self.lon)?;
        if !(-90.0..=90.0).contains(&self.lat) {
            return Err(FixError::LatitudeOutOfRange);
        }
        if !(-180.0..=180.0).contains(&self.lon) {
            return Err(FixError::LongitudeOutOfRange);
        }
        if let Some(a) = self.accuracy_m {
            finite("accuracy", a)?;
            if a < 0.0 {
                return Err(FixError::NegativeAccuracy);
            }
        }
        if let Some(s) = self.speed_mps {
            finite("speed", s)?;
            if s < 0.0 {
                return Err(FixError::NegativeSpeed);
            }
        }
        if let Some(b) = self.bearing_deg {
            finite("bearing", b)?;
        }
        Ok(())
    }

    /// Validates and normalises: accuracy 0 becomes unknown, bearing is wrapped into 0..360.
    pub fn normalized(mut self) -> Result<Self, FixError> {
        self.validate()?;
        if self.accuracy_m == Some(0.0) {
            self.accuracy_m = None;
        }
        if let Some(b) = self.bearing_deg {
            self.bearing_deg = Some(b.rem_euclid(360.0));
        }
        Ok(self)
    }
}

fn finite(field: &'static str, value: f64) -> Result<(), FixError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(FixError::NotFinite { field })
    }
}
