//! Everything a platform shell tunes when it creates a [`super::Companion`]. Plain numbers and strings so
//! the record crosses the FFI boundary unchanged; [`CompanionConfig::validate`] rejects nonsense up front.

use super::error::Error;

/// How the companion talks to the middleware and how hard it tracks. Defaults follow docs/http-api.md
/// (offer window 60 s, heartbeat 120 s, evidence freshness 120 s, accuracy ≤ 100 m).
#[derive(Debug, Clone, PartialEq)]
pub struct CompanionConfig {
    /// Base URL of the middleware, e.g. `http://127.0.0.1:8080` (no trailing path).
    pub backend_url: String,
    /// Timeout of one HTTP request, connect included.
    pub request_timeout_ms: u64,
    /// How often open offers are polled while the driver is available and has no active dispatch.
    pub offer_poll_interval_ms: u64,
    /// Fixes are sent in one batch per this interval. 90 s: under the server's 120 s heartbeat with room
    /// for one retry, and ≤ 1/60 of one request per fix at 1 Hz even with the arrival events added.
    pub location_batch_interval_ms: u64,
    /// First retry delay; doubled per failed attempt, with full jitter, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Most fixes kept per order while offline; above it, the oldest fixes are thinned first.
    pub max_pending_fixes: u32,
    /// Pickup evidence: the latest fix must be at most this old …
    pub evidence_max_age_ms: i64,
    /// … and at least this accurate (metres, Android's 68 % radius).
    pub evidence_max_accuracy_m: f64,
    /// Approach ring around the store (and drop-off) fence when the server's fence has none.
    pub approach_ring_m: f64,
    /// Radius of the drop-off fence around the customer's address.
    pub dropoff_radius_m: f64,
    /// Tracking: "near" means closer than this to the current target …
    pub near_distance_m: f64,
    /// … and "far" beyond this; in between the profile is balanced.
    pub far_distance_m: f64,
    /// How long the sent messages (fixes, evidence) of a finished order are kept on the device
    /// (0 = deleted as soon as they are sent after delivery).
    pub fix_retention_ms: i64,
}

impl CompanionConfig {
    /// Defaults for a backend at `backend_url`.
    pub fn new(backend_url: impl Into<String>) -> Self {
        Self {
            backend_url: backend_url.into(),
            request_timeout_ms: 10_000,
            offer_poll_interval_ms: 5_000,
            location_batch_interval_ms: 90_000,
            retry_base_ms: 500,
            retry_max_ms: 60_000,
            max_pending_fixes: 3_600,
            evidence_max_age_ms: 30_000,
            evidence_max_accuracy_m: 50.0,
            approach_ring_m: 400.0,
            dropoff_radius_m: 60.0,
            near_distance_m: 500.0,
            far_distance_m: 3_000.0,
            fix_retention_ms: 0,
        }
    }

    /// Rejects values that would make the companion misbehave (zero intervals, inverted ranges). The
    /// message names the field, never a value that could be personal.
    pub fn validate(&self) -> Result<(), Error> {
        let url = self.backend_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Config(
                "backend_url must start with http:// or https://",
            ));
        }
        if self.request_timeout_ms == 0 {
            return Err(Error::Config("request_timeout_ms must be positive"));
        }
        if self.offer_poll_interval_ms == 0 || self.location_batch_interval_ms == 0 {
            return Err(Error::Config("poll and batch intervals must be positive"));
        }
        if self.retry_base_ms == 0 || self.retry_max_ms < self.retry_base_ms {
            return Err(Error::Config(
                "retry_base_ms must be positive and at most retry_max_ms",
            ));
        }
        // A batch holds at most 600 fixes on the wire; keeping fewer than one batch makes no sense.
        if self.max_pending_fixes < 10 {
            return Err(Error::Config("max_pending_fixes must be at least 10"));
        }
        if self.evidence_max_age_ms <= 0 {
            return Err(Error::Config("evidence_max_age_ms must be positive"));
        }
        let metres = [
            self.evidence_max_accuracy_m,
            self.approach_ring_m,
            self.dropoff_radius_m,
            self.near_distance_m,
            self.far_distance_m,
        ];
        if metres.iter().any(|m| !m.is_finite() || *m <= 0.0) {
            return Err(Error::Config("distances must be finite and positive"));
        }
        if self.far_distance_m <= self.near_distance_m {
            return Err(Error::Config("far_distance_m must exceed near_distance_m"));
        }
        if self.fix_retention_ms < 0 {
            return Err(Error::Config("fix_retention_ms must not be negative"));
        }
        Ok(())
    }

    /// The base URL without a trailing slash, so paths can be appended.
    pub(crate) fn base_url(&self) -> &str {
        self.backend_url.trim().trim_end_matches('/')
    }
}
