//! Geofence semantics on constructed drives: enter/arrive/exit, drive-through, dwell, parked noise,
//! accuracy, 70° N and the antimeridian; and the engine's API errors.

mod support;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::synth::NoiseModel;
use fencepost_core::{Error, EventKind, Fence, FenceShape, GeofenceEvent, LocationFix};
use geo::{LineString, MultiPolygon, Polygon};
use support::{circle, offset};

fn engine(fences: Vec<Fence>) -> GeofenceEngine {
    GeofenceEngine::new(fences, EngineConfig::default()).expect("valid fences")
}

fn kinds(events: &[GeofenceEvent], id: &str) -> Vec<EventKind> {
    events
        .iter()
        .filter(|e| e.fence_id == id)
        .map(|e| e.kind)
        .collect()
}

/// A 1 Hz drive along the local east axis from `(lat0, lon0)`: `(t_s, east_m)` pairs.
fn drive(lat0: f64, lon0: f64, track: &[(i64, f64)]) -> Vec<LocationFix> {
    track
        .iter()
        .map(|&(t, east)| {
            let (lat, lon) = offset(lat0, lon0, east, 0.0);
            LocationFix::new(t * 1000, lat, lon)
        })
        .collect()
}

fn run(engine: &mut GeofenceEngine, fixes: Vec<LocationFix>) -> Vec<GeofenceEvent> {
    fixes
        .into_iter()
        .flat_map(|f| engine.process(f).expect("valid fix"))
        .collect()
}

/// From -300 m to +600 m at 12 m/s, never stopping (long enough past the fence to exit).
fn through(t0: i64) -> Vec<(i64, f64)> {
    (0..=75)
        .map(|t| (t0 + t, -300.0 + 12.0 * t as f64))
        .collect()
}

/// From -300 m to the origin at 10 m/s, then parked for `park_s`, then away east at 10 m/s.
fn stop_and_go(park_s: i64) -> Vec<(i64, f64)> {
    let mut track: Vec<(i64, f64)> = (0..=30).map(|t| (t, -300.0 + 10.0 * t as f64)).collect();
    track.extend((31..31 + park_s).map(|t| (t, 0.0)));
    let leave = 31 + park_s;
    track.extend((0..=40).map(|k| (leave + k, 10.0 * k as f64)));
    track
}

#[test]
fn driving_through_enters_and_exits_but_never_arrives() {
    for (lat0, lon0) in [(48.1, 11.5), (70.66, 23.68), (-16.5, 179.9999)] {
        let mut e = engine(vec![circle("f", lat0, lon0, 50.0)]);
        let events = run(&mut e, drive(lat0, lon0, &through(0)));
        assert_eq!(
            kinds(&events, "f"),
            vec![EventKind::Entered, EventKind::Exited],
            "{lat0}"
        );
    }
}

#[test]
fn stopping_inside_arrives_once_and_leaving_exits_once() {
    for (lat0, lon0) in [(48.1, 11.5), (70.66, 23.68), (-16.5, 179.9999)] {
        let mut e = engine(vec![circle("f", lat0, lon0, 50.0)]);
        let events = run(&mut e, drive(lat0, lon0, &stop_and_go(120)));
        assert_eq!(
            kinds(&events, "f"),
            vec![EventKind::Entered, EventKind::Arrived, EventKind::Exited],
            "{lat0}"
        );
        let arrived = events
            .iter()
            .find(|e| e.kind == EventKind::Arrived)
            .expect("arrived");
        // Parked at t = 30 s; stopped needs `stop_hold_s` (4 s) of standing still.
        assert!(
            arrived.time_ms <= 36_000,
            "arrived at {} ms",
            arrived.time_ms
        );
    }
}

#[test]
fn dwelling_inside_a_fence_with_dwell_s_arrives_without_stopping() {
    let mut fence = circle("walk-in", 48.1, 11.5, 200.0);
    fence.dwell_s = Some(20.0);
    let mut e = engine(vec![fence]);
    // 5 m/s through a 400 m fence: inside for over a minute, never stopped.
    let track: Vec<(i64, f64)> = (0..=160).map(|t| (t, -300.0 + 5.0 * t as f64)).collect();
    let events = run(&mut e, drive(48.1, 11.5, &track));
    assert_eq!(
        kinds(&events, "walk-in"),
        vec![EventKind::Entered, EventKind::Arrived, EventKind::Exited]
    );
    let entered = events[0].time_ms;
    let arrived = events[1].time_ms;
    assert_eq!(arrived - entered, 20_000);
}

#[test]
fn parked_phone_noise_never_exits_or_arrives_twice() {
    // Ten minutes parked at the centre of fences of 35 and 50 m under the urban noise model
    // (8 m correlated error and 30–80 m multipath jumps), for 30 seeds.
    for radius in [35.0, 50.0] {
        for seed in 0..30u64 {
            let mut e = engine(vec![circle("store", 60.17, 24.94, radius)]);
            let mut truth = drive(
                60.17,
                24.94,
                &(0..=30)
                    .map(|t| (t, -300.0 + 10.0 * t as f64))
                    .collect::<Vec<_>>(),
            );
            truth.extend(drive(
                60.17,
                24.94,
                &(31..630).map(|t| (t, 0.0)).collect::<Vec<_>>(),
            ));
            let noisy = NoiseModel::urban().apply(&truth, seed);
            let events = run(&mut e, noisy);
            assert_eq!(
                kinds(&events, "store"),
                vec![EventKind::Entered, EventKind::Arrived],
                "radius {radius}, seed {seed}"
            );
        }
    }
}

#[test]
fn a_fix_whose_accuracy_dwarfs_the_fence_never_enters_it() {
    let mut e = engine(vec![circle("small", 47.37, 8.54, 50.0)]);
    for t in 0..300 {
        let mut fix = LocationFix::new(t * 1000, 47.37, 8.54);
        fix.accuracy_m = Some(if t % 2 == 0 { 60.0 } else { 700.0 });
        assert!(e.process(fix).expect("valid").is_empty(), "t = {t}");
    }
    assert_eq!(e.is_inside("small"), Some(false));
    // The same fixes with a believable accuracy do enter.
    let mut fix = LocationFix::new(301_000, 47.37, 8.54);
    fix.accuracy_m = Some(12.0);
    e.process(fix.clone()).expect("valid");
    fix.time_ms = 303_000;
    let events = e.process(fix).expect("valid");
    assert_eq!(kinds(&events, "small")[0], EventKind::Entered);
}

fn polygon(ring: Vec<(f64, f64)>) -> Fence {
    Fence {
        id: "poly".into(),
        shape: FenceShape::Polygon(MultiPolygon(vec![Polygon::new(
            LineString::from(ring),
            vec![],
        )])),
        dwell_s: None,
        approach_m: None,
    }
}

#[test]
fn a_polygon_across_the_antimeridian_works_like_any_other() {
    // About 107 m × 110 m, from 179.9995 E to 179.9995 W at 16.5° S.
    let fence = polygon(vec![
        (179.9995, -16.5005),
        (-179.9995, -16.5005),
        (-179.9995, -16.4995),
        (179.9995, -16.4995),
        (179.9995, -16.5005),
    ]);
    let mut e = engine(vec![fence]);
    let events = run(&mut e, drive(-16.5, 180.0, &stop_and_go(60)));
    assert_eq!(
        kinds(&events, "poly"),
        vec![EventKind::Entered, EventKind::Arrived, EventKind::Exited]
    );
}

#[test]
fn a_polygon_hole_is_outside() {
    let outer = LineString::from(vec![
        (11.49, 48.09),
        (11.51, 48.09),
        (11.51, 48.11),
        (11.49, 48.11),
        (11.49, 48.09),
    ]);
    let hole = LineString::from(vec![
        (11.499, 48.099),
        (11.501, 48.099),
        (11.501, 48.101),
        (11.499, 48.101),
        (11.499, 48.099),
    ]);
    let fence = Fence {
        id: "ring".into(),
        shape: FenceShape::Polygon(MultiPolygon(vec![Polygon::new(outer, vec![hole])])),
        dwell_s: None,
        approach_m: None,
    };
    let mut e = engine(vec![fence]);
    // Parked in the middle of the hole (≈ 74 m from its edge): never inside.
    let events = run(
        &mut e,
        drive(48.1, 11.5, &(0..60).map(|t| (t, 0.0)).collect::<Vec<_>>()),
    );
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(e.is_inside("ring"), Some(false));
}

#[test]
fn invalid_fences_and_unknown_ids_are_typed_errors() {
    let bad = [
        circle("", 48.0, 11.0, 50.0),
        circle("r0", 48.0, 11.0, 0.0),
        circle("rnan", 48.0, 11.0, f64::NAN),
        circle("lat", 95.0, 11.0, 50.0),
        circle("lon", 48.0, 181.0, 50.0),
        circle("huge", 48.0, 11.0, 80_000.0),
        polygon(vec![(11.0, 48.0), (11.001, 48.0), (11.0, 48.0)]),
        Fence {
            dwell_s: Some(-1.0),
            ..circle("dwell", 48.0, 11.0, 50.0)
        },
        Fence {
            approach_m: Some(f64::INFINITY),
            ..circle("approach", 48.0, 11.0, 50.0)
        },
    ];
    for fence in bad {
        let id = fence.id.clone();
        match GeofenceEngine::new(vec![fence], EngineConfig::default()) {
            Err(Error::Fence { id: got, reason }) => {
                assert_eq!(got, id);
                assert!(
                    !reason.contains("48") && !reason.contains("11."),
                    "{reason}"
                );
            }
            Err(other) => panic!("{id}: wrong error {other}"),
            Ok(_) => panic!("{id}: accepted"),
        }
    }
    let dup = GeofenceEngine::new(
        vec![circle("a", 48.0, 11.0, 50.0), circle("a", 48.1, 11.0, 50.0)],
        EngineConfig::default(),
    );
    assert!(matches!(dup, Err(Error::Fence { .. })));

    let mut e = engine(vec![circle("a", 48.0, 11.0, 50.0)]);
    assert!(matches!(
        e.set_target(Some("nope")),
        Err(Error::Fence { .. })
    ));
    assert_eq!(e.is_inside("nope"), None);
    assert!(!e.remove_fence("nope"));
    assert!(matches!(
        e.insert_fence(circle("b", f64::NAN, 11.0, 50.0)),
        Err(Error::Fence { .. })
    ));
    assert!(e.remove_fence("a"));
    assert_eq!(e.is_inside("a"), None);

    let config = EngineConfig {
        circuity_factor: -1.0,
        ..EngineConfig::default()
    };
    assert!(matches!(
        GeofenceEngine::new(vec![], config),
        Err(Error::Config { .. })
    ));
}

#[test]
fn fences_inserted_and_removed_at_run_time_take_effect() {
    let mut e = engine(vec![]);
    e.insert_fence(circle("late", 48.1, 11.5, 50.0))
        .expect("valid");
    let events = run(&mut e, drive(48.1, 11.5, &stop_and_go(30)));
    assert_eq!(
        kinds(&events, "late")[..2],
        [EventKind::Entered, EventKind::Arrived]
    );

    // Replacing a fence resets its state; removing it silences it.
    let mut e = engine(vec![circle("x", 48.1, 11.5, 50.0)]);
    let track = stop_and_go(200);
    let (first, rest) = track.split_at(40);
    run(&mut e, drive(48.1, 11.5, first));
    assert_eq!(e.is_inside("x"), Some(true));
    assert!(e.remove_fence("x"));
    let events = run(&mut e, drive(48.1, 11.5, rest));
    assert!(events.is_empty());
}

#[test]
fn config_reads_from_partial_json_with_defaults_for_the_rest() {
    let config: EngineConfig =
        serde_json::from_str(r#"{"exit_hold_s": 45, "default_dwell_s": 60}"#).expect("valid JSON");
    assert_eq!(config.exit_hold_s, 45.0);
    assert_eq!(config.default_dwell_s, Some(60.0));
    assert_eq!(config.stop_hold_s, EngineConfig::default().stop_hold_s);
    assert!(config.validate().is_ok());
    let bad: EngineConfig =
        serde_json::from_str(r#"{"current_speed_weight": 1.5}"#).expect("valid JSON");
    assert!(bad.validate().is_err());
}
