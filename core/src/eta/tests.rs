//! The ETA tracker's own invariants: the O(1) running speed average equals the plain window mean, and
//! `approaching` by ETA waits for an observed, moving speed (the real Višnjan trace starts parked
//! 498 m from stop-2).

use std::path::PathBuf;

use super::*;
use crate::clean::{FixStatus, Motion};
use crate::engine::GeofenceEngine;
use crate::fence::FenceShape;
use crate::fix::LocationFix;

fn clean(t_ms: i64, speed: Option<f64>, motion: Motion) -> CleanFix {
    CleanFix {
        fix: LocationFix {
            speed_mps: speed,
            ..LocationFix::new(t_ms, 60.17, 24.94)
        },
        accuracy_m: 10.0,
        speed_mps: speed,
        heading_deg: None,
        motion,
        status: FixStatus::Accepted,
    }
}

/// The definition the running sums must reproduce: over the samples still in the window, each
/// sample's speed weighted by the interval before it.
fn window_mean(samples: &[(i64, f64)], now_ms: i64, window_ms: i64) -> Option<f64> {
    let kept: Vec<&(i64, f64)> = samples
        .iter()
        .filter(|(t, _)| *t >= now_ms - window_ms)
        .collect();
    let (mut weighted, mut span) = (0.0, 0.0);
    for w in kept.windows(2) {
        let dt = (w[1].0 - w[0].0) as f64;
        weighted += w[1].1 * dt;
        span += dt;
    }
    (span > 0.0).then(|| weighted / span)
}

#[test]
fn running_speed_average_equals_the_window_mean() {
    let config = EngineConfig::default();
    let window_ms = (config.recent_speed_window_s * 1000.0) as i64;
    let mut tracker = EtaTracker::default();
    let mut samples = Vec::new();
    let (mut t, mut state) = (0i64, 12345u64);
    let mut prev_t = 0i64;
    for i in 0..5_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let r = (state >> 33) as i64;
        // Mostly 1 s apart, sometimes a logger gap longer than the whole window.
        t += if i % 400 == 399 {
            200_000
        } else {
            500 + r % 2_000
        };
        let speed = (r % 1_700) as f64 / 100.0;
        let has_speed = r % 7 != 0;
        let fix = clean(t, has_speed.then_some(speed), Motion::Moving);
        let long_gap = t - prev_t > (config.speed_window_s * 1000.0) as i64;
        prev_t = t;
        if long_gap {
            // Over a long gap the distance covered counts: here the position never changes.
            samples.push((t, 0.0));
        } else if has_speed {
            samples.push((t, speed));
        }
        record_speed(&mut tracker, &config, &fix);
        let expected = window_mean(&samples, t, window_ms);
        let got = (tracker.span_ms > 0).then(|| tracker.weighted / tracker.span_ms as f64);
        match (expected, got) {
            (Some(e), Some(g)) => assert!((e - g).abs() < 1e-9, "fix {i}: {g} vs {e}"),
            (None, None) => {}
            other => panic!("fix {i}: {other:?}"),
        }
    }
}

#[test]
fn a_parked_car_does_not_approach_by_eta_until_it_moves() {
    // Target 300 m north with a 100 m ring: parked (no speed), the default-speed ETA would be
    // 300 m × 1.3 / 8 m/s ≈ 49 s, under the 120 s threshold.
    let store = Fence {
        id: "store".into(),
        shape: FenceShape::Circle {
            lat: 60.17 + 300.0 / 111_200.0,
            lon: 24.94,
            radius_m: 30.0,
        },
        dwell_s: None,
        approach_m: Some(100.0),
    };
    let mut engine =
        GeofenceEngine::new(vec![store], EngineConfig::default()).expect("valid fence");
    engine.set_target(Some("store")).expect("known fence");
    let mut events = Vec::new();
    for t in 0..60 {
        events.extend(
            engine
                .process(LocationFix::new(t * 1000, 60.17, 24.94))
                .expect("valid"),
        );
    }
    assert!(
        events.iter().all(|e| e.kind != EventKind::Approaching),
        "approaching while parked: {events:?}"
    );
    // Driving north at 8 m/s: the ETA (not the 100 m ring) brings it on.
    let mut first = None;
    for t in 60..100i64 {
        let north = 8.0 * (t - 59) as f64;
        let mut fix = LocationFix::new(t * 1000, 60.17 + north / 111_200.0, 24.94);
        fix.speed_mps = Some(8.0);
        let evs = engine.process(fix).expect("valid");
        if first.is_none() {
            first = evs.into_iter().find(|e| e.kind == EventKind::Approaching);
        }
    }
    let first = first.expect("approaching once moving");
    assert!(first.distance_m.is_some_and(|d| d > 100.0), "{first:?}");
    assert!(first.eta_s.is_some_and(|s| s <= 120.0), "{first:?}");
}

#[test]
fn visnjan_first_fix_is_not_approaching() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let fixes =
        crate::io::read_trace(root.join("traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx"))
            .expect("fixture parses");
    let fences =
        crate::io::read_fences(root.join("fences/visnjan.geojson")).expect("fixture parses");
    let mut engine = GeofenceEngine::new(fences, EngineConfig::default()).expect("valid fences");
    engine.set_target(Some("stop-2")).expect("known fence");
    let mut approaching = Vec::new();
    for fix in fixes.iter().cloned() {
        let events = engine.process(fix).expect("valid trace");
        approaching.extend(
            events
                .into_iter()
                .filter(|e| e.kind == EventKind::Approaching),
        );
    }
    assert_eq!(approaching.len(), 1, "{approaching:?}");
    let a = &approaching[0];
    assert!(
        a.time_ms > fixes[0].time_ms,
        "fired on the first fix: {a:?}"
    );
    // Either inside the 150 m ring, or an ETA under 120 s from a measured speed.
    assert!(
        a.distance_m.is_some_and(|d| d <= 150.0) || a.eta_s.is_some_and(|s| s <= 120.0),
        "{a:?}"
    );
}

/// Far from the target the companion takes a fix every 20 s with a 50 m distance filter: none while
/// the car waits at a light, and the next one reports the speed it is back up to. The recent average
/// must still see the stops.
#[test]
fn sparse_fixes_over_stops_average_the_distance_covered() {
    let config = EngineConfig::default();
    let mut tracker = EtaTracker::default();
    // Truth at 1 Hz: 30 s at 12 m/s, 30 s stopped, repeated; true average 6 m/s.
    let (mut along_m, mut last_fix): (f64, Option<(i64, f64)>) = (0.0, None);
    for second in 0..600i64 {
        let moving = (second / 30) % 2 == 0;
        let speed = if moving { 12.0 } else { 0.0 };
        along_m += speed;
        let due = last_fix.is_none_or(|(t, at)| second - t >= 20 && along_m - at >= 50.0);
        if !due {
            continue;
        }
        last_fix = Some((second, along_m));
        // Heading due north: along the meridian, metres → degrees of latitude.
        let lat = 60.17 + along_m / 111_412.0;
        let mut fix = clean(second * 1000, Some(speed), Motion::Moving);
        fix.fix.lat = lat;
        record_speed(&mut tracker, &config, &fix);
    }
    let recent = tracker.weighted / tracker.span_ms as f64;
    assert!(
        (recent - 6.0).abs() < 1.0,
        "recent average {recent} m/s, truth 6"
    );
}

/// Feeds one fix to a tracker with no target (only its speed is recorded).
fn record_speed(tracker: &mut EtaTracker, config: &EngineConfig, fix: &CleanFix) {
    let origin = Origin::new(fix.fix.lat, fix.fix.lon);
    tracker.update(config, None, fix, &origin, &mut Vec::new());
}
