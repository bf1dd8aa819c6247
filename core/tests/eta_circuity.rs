//! The ETA learns the road circuity from the drive: on a route that winds 1.7× the straight line, the
//! fixed prior (1.3) makes every ETA a quarter short; after a kilometre of evidence the learned
//! estimate is within a few percent of the truth, and it never leaves its bounds.

mod support;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::LocationFix;
use support::{circle, offset};

const ORIGIN: (f64, f64) = (60.17, 24.94);
const SPEED_MPS: f64 = 10.0;
const TARGET_EAST_M: f64 = 6000.0;
const RADIUS_M: f64 = 50.0;

fn engine(config: EngineConfig) -> GeofenceEngine {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, TARGET_EAST_M, 0.0);
    let mut e =
        GeofenceEngine::new(vec![circle("drop", lat, lon, RADIUS_M)], config).expect("valid");
    e.set_target(Some("drop")).expect("known fence");
    e
}

/// A zigzag toward the target: 100 m legs alternately 54° left and right of due east, so every metre
/// driven closes cos 54° ≈ 0.59 m (circuity 1/cos 54° ≈ 1.70), at a steady speed, 1 Hz fixes.
/// Returns (east, north, heading) every second for `seconds`.
fn zigzag(seconds: usize) -> Vec<(f64, f64, f64)> {
    let off = 54f64.to_radians();
    let (mut east, mut north) = (0.0, 0.0);
    let mut out = Vec::with_capacity(seconds);
    for t in 0..seconds {
        let leg = (t as f64 * SPEED_MPS / 100.0) as usize;
        let angle = if leg % 2 == 0 { off } else { -off };
        east += SPEED_MPS * angle.cos();
        north += SPEED_MPS * angle.sin();
        out.push((east, north, 90.0 - angle.to_degrees()));
    }
    out
}

fn fix(t_s: usize, east: f64, north: f64, heading: f64) -> LocationFix {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, east, north);
    LocationFix {
        accuracy_m: Some(5.0),
        speed_mps: Some(SPEED_MPS),
        bearing_deg: Some(heading),
        ..LocationFix::new(t_s as i64 * 1000, lat, lon)
    }
}

/// (ETA reported, true remaining time) after driving the zigzag for `seconds`.
fn eta_after(config: EngineConfig, seconds: usize) -> (f64, f64) {
    let mut e = engine(config);
    let path = zigzag(seconds);
    for (t, &(east, north, heading)) in path.iter().enumerate() {
        e.process(fix(t, east, north, heading)).expect("valid fix");
    }
    let p = e.target_progress().expect("progress");
    let circuity = 1.0 / 54f64.to_radians().cos();
    let truth_s = p.distance_m * circuity / SPEED_MPS;
    (p.eta_s, truth_s)
}

#[test]
fn learned_circuity_fixes_the_short_bias_of_the_prior() {
    let (eta, truth) = eta_after(EngineConfig::default(), 400);
    let fixed = EngineConfig {
        circuity_prior_weight_m: 1e12,
        ..EngineConfig::default()
    };
    let (eta_fixed, truth_fixed) = eta_after(fixed, 400);
    let learned_error = (eta - truth) / truth;
    let fixed_error = (eta_fixed - truth_fixed) / truth_fixed;
    eprintln!(
        "after 4 km of a 1.70× zigzag: learned ETA error {:+.1} %, fixed 1.3 {:+.1} %",
        learned_error * 100.0,
        fixed_error * 100.0
    );
    assert!(fixed_error < -0.2, "the fixed prior is a quarter short");
    assert!(learned_error.abs() < 0.06, "learned error {learned_error}");
}

#[test]
fn with_little_evidence_the_estimate_stays_near_the_prior() {
    let (eta, truth) = eta_after(EngineConfig::default(), 5);
    // 50 m driven: the prior (1.3 vs the true 1.70) still dominates.
    let implied = eta / truth * 1.70;
    assert!((1.3..1.45).contains(&implied), "implied circuity {implied}");
}

#[test]
fn driving_away_from_the_target_is_bounded_by_max_circuity() {
    let config = EngineConfig::default();
    let mut e = engine(config.clone());
    // Due west, away from the target, for 2 km.
    for t in 0..200 {
        e.process(fix(t, -(t as f64) * SPEED_MPS, 0.0, 270.0))
            .expect("valid fix");
    }
    let p = e.target_progress().expect("progress");
    let circuity = p.travel_distance_m / p.distance_m;
    assert!(
        (circuity - config.max_circuity).abs() < 1e-9,
        "circuity {circuity} vs max {}",
        config.max_circuity
    );
}
