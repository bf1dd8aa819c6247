//! Fix cleaning: every kind of bad input gives its typed error and leaves the engine usable;
//! duplicates, jumps and recovery; derived speed, heading and motion; the real Munich jump.

mod support;

use fencepost_core::clean::{FixStatus, Motion};
use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::synth::NoiseModel;
use fencepost_core::{EventKind, FixError, LocationFix};
use support::{circle, munich_fixes, offset};

fn engine() -> GeofenceEngine {
    GeofenceEngine::new(vec![], EngineConfig::default()).expect("empty engine")
}

fn fix(t_s: i64, lat: f64, lon: f64) -> LocationFix {
    LocationFix::new(t_s * 1000, lat, lon)
}

#[test]
fn every_kind_of_bad_fix_is_rejected_with_its_error() {
    let good = fix(10, 48.0, 11.0);
    let cases: Vec<(LocationFix, FixError)> = vec![
        (
            LocationFix {
                lat: f64::NAN,
                ..good.clone()
            },
            FixError::NotFinite { field: "lat" },
        ),
        (
            LocationFix {
                lon: f64::INFINITY,
                ..good.clone()
            },
            FixError::NotFinite { field: "lon" },
        ),
        (
            LocationFix {
                lat: 90.5,
                ..good.clone()
            },
            FixError::LatitudeOutOfRange,
        ),
        (
            LocationFix {
                lat: -91.0,
                ..good.clone()
            },
            FixError::LatitudeOutOfRange,
        ),
        (
            LocationFix {
                lon: 180.01,
                ..good.clone()
            },
            FixError::LongitudeOutOfRange,
        ),
        (
            LocationFix {
                lon: -200.0,
                ..good.clone()
            },
            FixError::LongitudeOutOfRange,
        ),
        (
            LocationFix {
                accuracy_m: Some(-1.0),
                ..good.clone()
            },
            FixError::NegativeAccuracy,
        ),
        (
            LocationFix {
                accuracy_m: Some(f64::NAN),
                ..good.clone()
            },
            FixError::NotFinite { field: "accuracy" },
        ),
        (
            LocationFix {
                speed_mps: Some(-0.5),
                ..good.clone()
            },
            FixError::NegativeSpeed,
        ),
        (
            LocationFix {
                bearing_deg: Some(f64::NEG_INFINITY),
                ..good.clone()
            },
            FixError::NotFinite { field: "bearing" },
        ),
    ];
    let mut engine = engine();
    engine
        .process(fix(5, 48.0, 11.0))
        .expect("a valid first fix");
    for (bad, expected) in cases {
        assert_eq!(
            engine.process(bad.clone()),
            Err(expected.clone()),
            "{bad:?}"
        );
        // The message names the problem, never the coordinates.
        let message = expected.to_string();
        assert!(
            !message.contains("48") && !message.contains("11."),
            "{message}"
        );
    }
    // None of them disturbed the state: the next valid fix is accepted.
    engine.process(good).expect("valid fix after rejected ones");
    assert_eq!(
        engine.last_fix().map(|f| f.status),
        Some(FixStatus::Accepted)
    );
}

#[test]
fn time_running_backwards_is_rejected_and_the_engine_carries_on() {
    let mut engine = engine();
    engine.process(fix(100, 48.0, 11.0)).expect("first fix");
    assert_eq!(
        engine.process(fix(97, 48.0, 11.0)),
        Err(FixError::TimeWentBackwards { behind_ms: 3000 })
    );
    engine
        .process(fix(101, 48.0, 11.0))
        .expect("later fix still accepted");
    assert_eq!(engine.last_fix().map(|f| f.fix.time_ms), Some(101_000));
}

#[test]
fn a_fix_with_the_same_time_is_a_duplicate_and_changes_nothing() {
    let fences = vec![circle("store", 48.0, 11.0, 50.0)];
    let mut engine = GeofenceEngine::new(fences, EngineConfig::default()).expect("valid");
    engine.process(fix(1, 48.0, 11.0)).expect("first");
    let events = engine
        .process(fix(1, 48.0, 11.0))
        .expect("duplicate is not an error");
    assert!(events.is_empty());
    assert_eq!(
        engine.last_fix().map(|f| f.status),
        Some(FixStatus::Duplicate)
    );
    // A duplicate does not count as the second confident fix needed to enter.
    assert_eq!(engine.is_inside("store"), Some(false));
    let events = engine.process(fix(3, 48.0, 11.0)).expect("third");
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::Entered]
    );
}

#[test]
fn accuracy_zero_means_unknown() {
    let mut engine = engine();
    let mut f = fix(1, 48.0, 11.0);
    f.accuracy_m = Some(0.0);
    engine.process(f).expect("accuracy 0 is accepted");
    let last = engine.last_fix().expect("a fix");
    assert_eq!(last.fix.accuracy_m, None);
    assert_eq!(last.accuracy_m, EngineConfig::default().unknown_accuracy_m);
}

#[test]
fn a_single_spike_is_dropped_when_the_next_fix_agrees_with_the_old_track() {
    let mut engine = engine();
    for t in 0..5 {
        engine
            .process(fix(t, 48.0, 11.0 + t as f64 * 1e-4))
            .expect("drive east");
    }
    let (lat, lon) = offset(48.0, 11.0004, 0.0, 900.0); // 900 m north in 1 s
    assert_eq!(engine.process(fix(5, lat, lon)), Ok(vec![]));
    assert_eq!(
        engine.last_fix().map(|f| f.status),
        Some(FixStatus::Quarantined)
    );
    engine
        .process(fix(6, 48.0, 11.0006))
        .expect("back on track");
    let last = engine.last_fix().expect("a fix");
    assert_eq!(last.status, FixStatus::Accepted);
    assert_eq!(last.fix.lat, 48.0);
}

#[test]
fn derived_speed_and_heading_follow_the_track() {
    let mut engine = engine();
    for t in 0..20 {
        let (lat, lon) = offset(60.0, 25.0, 10.0 * t as f64, 0.0); // 10 m/s due east
        engine.process(fix(t, lat, lon)).expect("valid");
    }
    let last = engine.last_fix().expect("a fix");
    let speed = last.speed_mps.expect("derived speed");
    assert!((speed - 10.0).abs() < 0.2, "speed {speed}");
    let heading = last.heading_deg.expect("derived heading");
    assert!((heading - 90.0).abs() < 1.0, "heading {heading}");
    assert_eq!(last.motion, Motion::Moving);
}

#[test]
fn jitter_while_parked_reads_as_stopped() {
    let mut engine = engine();
    // ±4 m of deterministic white jitter on each axis around one point, 1 Hz, for two minutes.
    let mut motions = Vec::new();
    for t in 0..120 {
        let (e, n) = (4.0 * ((t * 7) as f64).sin(), 4.0 * ((t * 13) as f64).cos());
        let (lat, lon) = offset(52.66, -8.62, e, n);
        engine.process(fix(t, lat, lon)).expect("valid");
        motions.push(engine.last_fix().map(|f| f.motion));
    }
    let first = motions
        .iter()
        .position(|m| *m == Some(Motion::Stopped))
        .expect("reads as stopped");
    assert!(first <= 20, "stopped only at {first} s");
    assert!(motions[first..].iter().all(|m| *m == Some(Motion::Stopped)));
}

#[test]
fn phone_noise_while_parked_reads_as_stopped() {
    let truth: Vec<LocationFix> = (0..600).map(|t| fix(t, 60.17, 24.94)).collect();
    for seed in 0..10 {
        let mut engine = engine();
        let noisy = NoiseModel::urban().apply(&truth, seed);
        let mut stopped = 0;
        for f in noisy {
            engine.process(f).expect("valid");
            stopped += usize::from(engine.last_fix().map(|f| f.motion) == Some(Motion::Stopped));
        }
        assert!(
            stopped >= 540,
            "seed {seed}: stopped on {stopped} of 600 fixes"
        );
    }
}

#[test]
fn crawling_past_at_3_m_per_s_is_not_stopped() {
    let mut engine = engine();
    for t in 0..60 {
        let (lat, lon) = offset(52.66, -8.62, 3.0 * t as f64, 0.0);
        engine.process(fix(t, lat, lon)).expect("valid");
        assert_ne!(
            engine.last_fix().map(|f| f.motion),
            Some(Motion::Stopped),
            "t = {t}"
        );
    }
}

#[test]
fn a_logger_silent_while_stationary_still_reads_as_stopped() {
    // As in the Limerick bus trace: the logger writes nothing for 60 s, then a fix at the same place.
    let mut engine = engine();
    for t in 0..5 {
        let (lat, lon) = offset(52.66, -8.62, 12.0 * t as f64, 0.0);
        engine.process(fix(t, lat, lon)).expect("driving");
    }
    assert_eq!(engine.last_fix().map(|f| f.motion), Some(Motion::Moving));
    let (lat, lon) = offset(52.66, -8.62, 50.0, 2.0);
    engine.process(fix(64, lat, lon)).expect("after the gap");
    assert_eq!(engine.last_fix().map(|f| f.motion), Some(Motion::Stopped));
}

#[test]
fn munich_freeze_and_470_m_jump_are_quarantined_and_the_engine_recovers() {
    let fixes = munich_fixes();
    assert!(fixes.len() > 1000);
    // A fence on the road well after the jump: the engine must still see the car pass through it.
    let after = &fixes[700];
    let fences = vec![circle("after-jump", after.lat, after.lon, 60.0)];
    let mut engine = GeofenceEngine::new(fences, EngineConfig::default()).expect("valid");
    let mut statuses = Vec::new();
    let mut entered = 0;
    for f in fixes {
        let events = engine
            .process(f)
            .expect("the Munich fixes are valid and in order");
        statuses.push(engine.last_fix().map(|f| f.status));
        entered += events
            .iter()
            .filter(|e| e.kind == EventKind::Entered)
            .count();
    }
    // Index 619 is the 470 m jump: held back, then accepted once the next fixes agree with it.
    assert_eq!(statuses[619], Some(FixStatus::Quarantined));
    let recovered = (620..630)
        .find(|&i| statuses[i] == Some(FixStatus::Accepted))
        .expect("recovers within ten fixes");
    assert!(recovered <= 622, "recovered at {recovered}");
    let quarantined = statuses
        .iter()
        .filter(|s| **s == Some(FixStatus::Quarantined))
        .count();
    assert!(
        quarantined <= 3,
        "only the jump is quarantined: {quarantined}"
    );
    assert_eq!(entered, 1, "the fence after the jump is entered");
}
