//! Property tests for the engine: the indexed engine behaves exactly like the linear scan, events per
//! fence follow the hysteresis grammar, and no fix enters a fence its accuracy circle sticks out of.

mod support;

use std::collections::HashMap;

use fencepost_core::engine::{EngineConfig, GeofenceEngine, Lookup};
use fencepost_core::{EventKind, Fence, FenceShape, GeofenceEvent, LocationFix};
use geo::{LineString, MultiPolygon, Polygon};
use proptest::prelude::*;
use support::{circle, haversine_m, offset};

const ORIGINS: [(f64, f64); 3] = [(48.1, 11.5), (70.66, 23.68), (-16.5, 179.999)];

#[derive(Debug, Clone)]
struct FenceSpec {
    east: f64,
    north: f64,
    size: f64,
    polygon: bool,
}

#[derive(Debug, Clone)]
struct Step {
    dt_s: i64,
    speed: f64,
    turn_deg: f64,
    accuracy: Option<f64>,
}

fn fence_spec() -> impl Strategy<Value = FenceSpec> {
    (
        -400.0f64..400.0,
        -400.0f64..400.0,
        20.0f64..150.0,
        any::<bool>(),
    )
        .prop_map(|(east, north, size, polygon)| FenceSpec {
            east,
            north,
            size,
            polygon,
        })
}

fn step() -> impl Strategy<Value = Step> {
    (
        1i64..6,
        prop_oneof![Just(0.0), 0.0f64..20.0],
        -60.0f64..60.0,
        prop_oneof![Just(None), (3.0f64..80.0).prop_map(Some)],
    )
        .prop_map(|(dt_s, speed, turn_deg, accuracy)| Step {
            dt_s,
            speed,
            turn_deg,
            accuracy,
        })
}

fn build_fences(origin: (f64, f64), specs: &[FenceSpec]) -> Vec<Fence> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let id = format!("f{i}");
            if s.polygon {
                // A quadrilateral of half-size `size` around the point (a kite, to be non-trivial).
                let ring: Vec<(f64, f64)> = [
                    (0.0, -1.0),
                    (1.0, 0.0),
                    (0.0, 1.3),
                    (-0.7, 0.0),
                    (0.0, -1.0),
                ]
                .iter()
                .map(|(e, n)| {
                    let (lat, lon) = offset(
                        origin.0,
                        origin.1,
                        s.east + e * s.size,
                        s.north + n * s.size,
                    );
                    (lon, lat)
                })
                .collect();
                Fence {
                    id,
                    shape: FenceShape::Polygon(MultiPolygon(vec![Polygon::new(
                        LineString::from(ring),
                        vec![],
                    )])),
                    dwell_s: if i % 3 == 0 { Some(30.0) } else { None },
                    approach_m: None,
                }
            } else {
                let (lat, lon) = offset(origin.0, origin.1, s.east, s.north);
                circle(&id, lat, lon, s.size)
            }
        })
        .collect()
}

fn build_trace(origin: (f64, f64), steps: &[Step]) -> Vec<LocationFix> {
    let (mut t, mut east, mut north, mut heading) = (0i64, -450.0f64, 0.0f64, 90.0f64);
    steps
        .iter()
        .map(|s| {
            t += s.dt_s;
            heading += s.turn_deg;
            let d = s.speed * s.dt_s as f64;
            east = (east + d * heading.to_radians().sin()).clamp(-600.0, 600.0);
            north = (north + d * heading.to_radians().cos()).clamp(-600.0, 600.0);
            let (lat, lon) = offset(origin.0, origin.1, east, north);
            let mut fix = LocationFix::new(t * 1000, lat, lon);
            fix.accuracy_m = s.accuracy;
            fix
        })
        .collect()
}

fn run(engine: &mut GeofenceEngine, fixes: &[LocationFix]) -> Vec<GeofenceEvent> {
    fixes
        .iter()
        .flat_map(|f| {
            engine
                .process(f.clone())
                .expect("generated fixes are valid")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn index_matches_linear_scan_and_events_follow_the_grammar(
        origin in 0usize..ORIGINS.len(),
        specs in proptest::collection::vec(fence_spec(), 1..25),
        steps in proptest::collection::vec(step(), 20..200),
    ) {
        let origin = ORIGINS[origin];
        let fences = build_fences(origin, &specs);
        let trace = build_trace(origin, &steps);
        let config = EngineConfig::default();
        let mut indexed = GeofenceEngine::with_lookup(fences.clone(), config.clone(), Lookup::Index).expect("valid");
        let mut linear = GeofenceEngine::with_lookup(fences.clone(), config, Lookup::LinearScan).expect("valid");
        let by_index = run(&mut indexed, &trace);
        let by_scan = run(&mut linear, &trace);
        prop_assert_eq!(&by_index, &by_scan);
        for f in &fences {
            prop_assert_eq!(indexed.is_inside(&f.id), linear.is_inside(&f.id));
        }

        // Per fence: (entered arrived? exited)* (entered arrived?)? — arrived at most once per visit.
        let mut state: HashMap<&str, (bool, bool)> = HashMap::new(); // (inside, arrived)
        for e in &by_index {
            let s = state.entry(e.fence_id.as_str()).or_insert((false, false));
            match e.kind {
                EventKind::Entered => { prop_assert!(!s.0, "entered twice"); *s = (true, false); }
                EventKind::Arrived => { prop_assert!(s.0 && !s.1, "arrived outside a visit or twice"); s.1 = true; }
                EventKind::Exited => { prop_assert!(s.0, "exited while outside"); *s = (false, false); }
                other => prop_assert!(false, "unexpected {other:?} without a target"),
            }
        }
        for f in &fences {
            let inside = state.get(f.id.as_str()).is_some_and(|s| s.0);
            prop_assert_eq!(indexed.is_inside(&f.id), Some(inside));
        }

        // Entering a circle needs the whole accuracy circle inside (haversine, independent of the
        // engine's geodesy; 0.5 % slack for sphere vs ellipsoid).
        let by_time: HashMap<i64, &LocationFix> = trace.iter().map(|f| (f.time_ms, f)).collect();
        for e in by_index.iter().filter(|e| e.kind == EventKind::Entered) {
            let fence = fences.iter().find(|f| f.id == e.fence_id).expect("known fence");
            if let FenceShape::Circle { lat, lon, radius_m } = fence.shape {
                let fix = by_time[&e.time_ms];
                let accuracy = fix.accuracy_m.unwrap_or(EngineConfig::default().unknown_accuracy_m);
                let d = haversine_m(fix.lat, fix.lon, lat, lon);
                prop_assert!(d + accuracy <= radius_m * 1.005 + 0.5, "entered at {d} m with accuracy {accuracy} in r {radius_m}");
            }
        }
    }
}

fn any_coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![
        -200.0f64..200.0,
        Just(90.0),
        Just(-90.0),
        Just(180.0),
        Just(-180.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

fn any_optional() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), any_coordinate().prop_map(Some), Just(Some(0.0))]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever arrives — NaN, infinities, out-of-range values, the poles, time jumping both ways —
    /// the engine answers with events or a typed error, never a panic, and keeps its invariants.
    #[test]
    fn arbitrary_input_never_panics(
        fences in proptest::collection::vec((any_coordinate(), any_coordinate(), any_coordinate(), any::<bool>()), 0..8),
        fixes in proptest::collection::vec(
            (-5_000i64..5_000, any_coordinate(), any_coordinate(), any_optional(), any_optional(), any_optional()),
            0..60,
        ),
    ) {
        let fences: Vec<Fence> = fences
            .into_iter()
            .enumerate()
            .map(|(i, (lat, lon, size, polygon))| {
                let id = format!("f{i}");
                if polygon {
                    let ring = vec![(lon, lat), (lon + size * 1e-4, lat), (lon, lat + size * 1e-4), (lon, lat)];
                    Fence {
                        id,
                        shape: FenceShape::Polygon(MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])])),
                        dwell_s: Some(size),
                        approach_m: None,
                    }
                } else {
                    circle(&id, lat, lon, size)
                }
            })
            .collect();
        // Invalid fences are refused one by one; the valid ones make up the engine.
        let mut engine = GeofenceEngine::new(vec![], EngineConfig::default()).expect("empty engine");
        let mut valid = Vec::new();
        for fence in fences {
            let id = fence.id.clone();
            if engine.insert_fence(fence).is_ok() {
                valid.push(id);
            }
        }
        if let Some(id) = valid.first() {
            engine.set_target(Some(id)).expect("a valid fence");
        }
        let mut t = 0i64;
        for (dt, lat, lon, accuracy, speed, bearing) in fixes {
            t += dt;
            let fix = LocationFix { accuracy_m: accuracy, speed_mps: speed, bearing_deg: bearing, ..LocationFix::new(t, lat, lon) };
            if let Ok(events) = engine.process(fix) {
                for e in events {
                    prop_assert!(valid.contains(&e.fence_id));
                    if let Some(d) = e.distance_m { prop_assert!(d.is_finite() && d >= 0.0); }
                    if let Some(s) = e.eta_s { prop_assert!(s.is_finite() && s >= 0.0); }
                }
            }
        }
    }
}
