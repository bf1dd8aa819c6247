//! The Rust half of the FFI cost comparison in scripts/mobile-report.sh: the same exported calls the
//! Kotlin benchmark (android/fencepost/src/bench) makes through JNA, made here directly on the same
//! exported objects, in the same run. Prints `rust <call> <ns per call>` lines.
//!
//! `on_location` is measured on an available driver with no dispatch (the standby path: validation,
//! the session lock, the standby throttle), with the backend pointed at a closed port, so no network or
//! server time is included on either side.

use std::sync::Arc;
use std::time::Instant;

use fencepost_ffi::companion::Companion;
use fencepost_ffi::companion_event::CompanionEvent;
use fencepost_ffi::config::CompanionConfig;
use fencepost_ffi::fix::{normalize_fix, LocationFix, Provider};
use fencepost_ffi::listener::{CallbackError, CompanionListener, TokenProvider};

struct Quiet;
impl CompanionListener for Quiet {
    fn on_event(&self, _event: CompanionEvent) -> Result<(), CallbackError> {
        Ok(())
    }
}
impl TokenProvider for Quiet {
    fn current_token(&self) -> Result<String, CallbackError> {
        Ok("fpd_bench".into())
    }
    fn refresh_token(&self) -> Result<String, CallbackError> {
        Ok("fpd_bench".into())
    }
}

fn fix(i: i64) -> LocationFix {
    LocationFix {
        time_ms: 1_700_000_000_000 + i * 1000,
        lat: 48.1612 + (i % 100) as f64 * 1e-5,
        lon: 11.5634,
        accuracy_m: Some(8.0),
        speed_mps: Some(5.0),
        bearing_deg: Some(90.0),
        provider: Provider::Fused,
        is_mock: false,
    }
}

fn per_call(n: i64, mut body: impl FnMut(i64)) -> f64 {
    // Warm-up, then the timed loop.
    for i in 0..n / 10 {
        body(i);
    }
    let start = Instant::now();
    for i in 0..n {
        body(i);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir()?;
    let config = CompanionConfig {
        backend_url: "http://127.0.0.1:9".into(),
        request_timeout_ms: 10000,
        offer_poll_interval_ms: 5000,
        location_batch_interval_ms: 60000,
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
    };
    let companion = Companion::new(
        config,
        dir.path().to_string_lossy().into_owned(),
        Arc::new(Quiet),
        Arc::new(Quiet),
    )?;
    companion.set_available(true)?;
    let on_location = per_call(n, |i| {
        companion.on_location(fix(i)).expect("a valid fix");
    });
    let normalize = per_call(n, |i| {
        normalize_fix(fix(i)).expect("a valid fix");
    });
    companion.shutdown();
    println!("rust on_location {on_location:.0}");
    println!("rust normalize_fix {normalize:.0}");
    Ok(())
}
