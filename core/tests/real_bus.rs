//! Acceptance on the Limerick bus 304 trace (Android GPX at 1 s that writes nothing while stationary)
//! and the route's 36 GTFS stops: `arrived` where the bus dwelt, none where it passed. Each stop gets
//! a 40 m fence: the 30 m ground-truth zone below plus the 10 m accuracy the engine assumes when the
//! file gives none (entering needs the accuracy circle inside the fence).
//!
//! Ground truth comes from the trace itself with haversine bookkeeping (not the engine):
//! - dwelt: the bus spent ≥ 20 s within 30 m of the stop, including a step slower than 1 m/s (a
//!   logger gap at the stop counts: the time between two fixes both within 30 m);
//! - passed: the bus came within 15 m but every step within 40 m of the stop was ≥ 2.5 m/s.

mod support;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::{EventKind, LocationFix};
use support::{circle, fixture, haversine_m, limerick_stops};

fn bus_fixes() -> Vec<LocationFix> {
    fencepost_core::io::read_trace(fixture(
        "traces/limerick_bus_304/304_to_UL_2019-02-18_0745.gpx",
    ))
    .expect("the bus trace reads")
}

enum Truth {
    Dwelt,
    Passed,
    Unclear,
}

fn truth(fixes: &[LocationFix], lat: f64, lon: f64) -> Truth {
    let d: Vec<f64> = fixes
        .iter()
        .map(|f| haversine_m(f.lat, f.lon, lat, lon))
        .collect();
    let step_speed = |i: usize| {
        let (a, b) = (&fixes[i], &fixes[i + 1]);
        haversine_m(a.lat, a.lon, b.lat, b.lon) / ((b.time_ms - a.time_ms) as f64 / 1000.0)
    };
    let pairs = 0..fixes.len() - 1;
    let dwell_s: f64 = pairs
        .clone()
        .filter(|&i| d[i] <= 30.0 && d[i + 1] <= 30.0)
        .map(|i| (fixes[i + 1].time_ms - fixes[i].time_ms) as f64 / 1000.0)
        .sum();
    let slow = pairs
        .clone()
        .any(|i| d[i] <= 30.0 && d[i + 1] <= 30.0 && step_speed(i) < 1.0);
    let closest = d.iter().copied().fold(f64::INFINITY, f64::min);
    let fast_near = pairs
        .filter(|&i| d[i] <= 40.0 || d[i + 1] <= 40.0)
        .all(|i| step_speed(i) >= 2.5);
    if dwell_s >= 20.0 && slow {
        Truth::Dwelt
    } else if closest <= 15.0 && fast_near {
        Truth::Passed
    } else {
        Truth::Unclear
    }
}

#[test]
fn arrives_where_the_bus_dwelt_and_not_where_it_passed() {
    let fixes = bus_fixes();
    let stops = limerick_stops();
    assert_eq!(stops.len(), 36);
    let fences = stops
        .iter()
        .enumerate()
        .map(|(i, (_, lat, lon))| circle(&format!("stop-{i}"), *lat, *lon, 40.0))
        .collect();
    let mut engine = GeofenceEngine::new(fences, EngineConfig::default()).expect("valid fences");
    let mut events = Vec::new();
    for fix in fixes.iter().cloned() {
        events.extend(
            engine
                .process(fix)
                .expect("the trace is valid and in order"),
        );
    }
    let (mut dwelt, mut dwelt_arrived, mut passed, mut passed_arrived) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for (i, (name, lat, lon)) in stops.iter().enumerate() {
        let id = format!("stop-{i}");
        let arrived = events
            .iter()
            .any(|e| e.kind == EventKind::Arrived && e.fence_id == id);
        match truth(&fixes, *lat, *lon) {
            Truth::Dwelt => {
                dwelt += 1;
                dwelt_arrived += usize::from(arrived);
                if !arrived {
                    wrong.push(format!("no arrival at {name}"));
                }
            }
            Truth::Passed => {
                passed += 1;
                passed_arrived += usize::from(arrived);
                if arrived {
                    wrong.push(format!("arrival at {name}, passed without stopping"));
                }
            }
            Truth::Unclear => {}
        }
    }
    eprintln!(
        "bus 304: arrived at {dwelt_arrived}/{dwelt} stops where it dwelt, at {passed_arrived}/{passed} \
         stops it passed"
    );
    assert!(
        dwelt >= 20 && passed >= 5,
        "ground truth: {dwelt} dwelt, {passed} passed"
    );
    assert!(wrong.is_empty(), "{wrong:?}");
}
