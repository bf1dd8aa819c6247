//! The companion's configuration record. Every field but the backend URL has a default, so Kotlin and
//! Swift callers write `CompanionConfig(backendUrl = url)` and override only what they need.

use fencepost_core::companion as core;

use crate::ApiError;

/// How the companion talks to the middleware and how hard it tracks. Defaults follow docs/http-api.md.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CompanionConfig {
    /// Base URL of the middleware, e.g. `https://orders.example.com`.
    pub backend_url: String,
    /// Timeout of one HTTP request (connect included), milliseconds.
    #[uniffi(default = 10000)]
    pub request_timeout_ms: i64,
    /// How often open offers are polled while available without a dispatch, milliseconds.
    #[uniffi(default = 5000)]
    pub offer_poll_interval_ms: i64,
    /// Fixes are sent in one batch per this interval, milliseconds (keep below the server's 120 s
    /// heartbeat).
    #[uniffi(default = 90000)]
    pub location_batch_interval_ms: i64,
    /// First retry delay, milliseconds; doubled per failed attempt with jitter, up to `retry_max_ms`.
    #[uniffi(default = 500)]
    pub retry_base_ms: i64,
    /// Longest retry delay, milliseconds.
    #[uniffi(default = 60000)]
    pub retry_max_ms: i64,
    /// Most fixes kept per order while offline; the oldest are thinned first above it.
    #[uniffi(default = 3600)]
    pub max_pending_fixes: u32,
    /// Pickup evidence: the latest fix must be at most this old, milliseconds …
    #[uniffi(default = 30000)]
    pub evidence_max_age_ms: i64,
    /// … and at least this accurate, metres.
    #[uniffi(default = 50.0)]
    pub evidence_max_accuracy_m: f64,
    /// Approach ring around the store (and drop-off) fence when the server's fence has none, metres.
    #[uniffi(default = 400.0)]
    pub approach_ring_m: f64,
    /// Radius of the drop-off fence around the customer's address, metres.
    #[uniffi(default = 60.0)]
    pub dropoff_radius_m: f64,
    /// Tracking is "near" (1 s, high accuracy) closer than this to the target, metres …
    #[uniffi(default = 500.0)]
    pub near_distance_m: f64,
    /// … and "far" (low power) beyond this.
    #[uniffi(default = 3000.0)]
    pub far_distance_m: f64,
    /// How long sent fixes of a finished order stay on the device, milliseconds (0 = deleted at
    /// delivery).
    #[uniffi(default = 0)]
    pub fix_retention_ms: i64,
}

fn millis(field: &str, value: i64) -> Result<u64, ApiError> {
    u64::try_from(value).map_err(|_| ApiError::InvalidInput {
        reason: format!("{field} must not be negative"),
    })
}

impl TryFrom<CompanionConfig> for core::CompanionConfig {
    type Error = ApiError;

    /// Only the sign of the millisecond fields is checked here; the core validates the rest.
    fn try_from(c: CompanionConfig) -> Result<Self, ApiError> {
        Ok(core::CompanionConfig {
            backend_url: c.backend_url,
            request_timeout_ms: millis("request_timeout_ms", c.request_timeout_ms)?,
            offer_poll_interval_ms: millis("offer_poll_interval_ms", c.offer_poll_interval_ms)?,
            location_batch_interval_ms: millis(
                "location_batch_interval_ms",
                c.location_batch_interval_ms,
            )?,
            retry_base_ms: millis("retry_base_ms", c.retry_base_ms)?,
            retry_max_ms: millis("retry_max_ms", c.retry_max_ms)?,
            max_pending_fixes: c.max_pending_fixes,
            evidence_max_age_ms: c.evidence_max_age_ms,
            evidence_max_accuracy_m: c.evidence_max_accuracy_m,
            approach_ring_m: c.approach_ring_m,
            dropoff_radius_m: c.dropoff_radius_m,
            near_distance_m: c.near_distance_m,
            far_distance_m: c.far_distance_m,
            fix_retention_ms: c.fix_retention_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults written in the `#[uniffi(default)]` attributes above (what Kotlin/Swift get) must
    /// be the core's own defaults.
    pub(crate) fn with_ffi_defaults(url: &str) -> CompanionConfig {
        CompanionConfig {
            backend_url: url.into(),
            request_timeout_ms: 10000,
            offer_poll_interval_ms: 5000,
            location_batch_interval_ms: 90000,
            retry_base_ms: 500,
            retry_max_ms: 60000,
            max_pending_fixes: 3600,
            evidence_max_age_ms: 30000,
            evidence_max_accuracy_m: 50.0,
            approach_ring_m: 400.0,
            dropoff_radius_m: 60.0,
            near_distance_m: 500.0,
            far_distance_m: 3000.0,
            fix_retention_ms: 0,
        }
    }

    #[test]
    fn ffi_defaults_match_the_core_defaults() {
        let converted = core::CompanionConfig::try_from(with_ffi_defaults("http://127.0.0.1:1"))
            .expect("defaults are valid");
        assert_eq!(converted, core::CompanionConfig::new("http://127.0.0.1:1"));
    }

    #[test]
    fn negative_milliseconds_are_invalid_input() {
        let mut c = with_ffi_defaults("http://127.0.0.1:1");
        c.retry_base_ms = -1;
        let err = core::CompanionConfig::try_from(c).expect_err("negative");
        assert_eq!(
            err,
            ApiError::InvalidInput {
                reason: "retry_base_ms must not be negative".into()
            }
        );
    }
}
