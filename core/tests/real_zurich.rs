//! Acceptance on a real phone location history (Zurich, trackintel, MIT) whose accuracy runs from
//! 14 m to 1001 m: a 50 m fence is never entered on a fix whose accuracy circle dwarfs it, while the
//! good fixes still enter the fences they sit in.

mod support;

use std::collections::HashMap;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::{EventKind, LocationFix};
use support::{circle, zurich_google};

#[test]
fn a_50_m_fence_is_never_entered_on_a_fix_whose_accuracy_dwarfs_it() {
    let fixes = zurich_google();
    assert!(fixes.len() > 400);
    let worst = fixes
        .iter()
        .filter_map(|f| f.accuracy_m)
        .fold(0.0, f64::max);
    assert!(
        worst > 900.0,
        "the fixture has cell-tower fixes ({worst} m)"
    );

    // A 50 m fence centred exactly on every distinct position the phone reported: the worst case for
    // a bad fix, which lands at the centre of "its" fence.
    let mut fences = Vec::new();
    let mut seen = HashMap::new();
    for f in &fixes {
        let key = ((f.lat * 1e6) as i64, (f.lon * 1e6) as i64);
        if seen.insert(key, ()).is_none() {
            fences.push(circle(&format!("f{}", fences.len()), f.lat, f.lon, 50.0));
        }
    }
    let mut engine =
        GeofenceEngine::new(fences.clone(), EngineConfig::default()).expect("valid fences");
    let by_time: HashMap<i64, LocationFix> = fixes.iter().map(|f| (f.time_ms, f.clone())).collect();
    let mut entered = 0;
    for fix in fixes.iter().cloned() {
        let events = match engine.process(fix) {
            Ok(events) => events,
            Err(err) => panic!("the Zurich fixes are valid: {err}"),
        };
        for e in events.iter().filter(|e| e.kind == EventKind::Entered) {
            entered += 1;
            let accuracy = by_time[&e.time_ms]
                .accuracy_m
                .expect("all fixes have accuracy");
            assert!(
                accuracy < 50.0,
                "{} entered on a fix with accuracy {accuracy} m",
                e.fence_id
            );
        }
    }
    let bad = fixes
        .iter()
        .filter(|f| f.accuracy_m.is_some_and(|a| a >= 50.0))
        .count();
    eprintln!(
        "zurich: {} fixes ({bad} with accuracy ≥ 50 m), {} fences of 50 m, {entered} entries, all on \
         fixes better than 50 m",
        fixes.len(),
        fences.len()
    );
    assert!(bad > 100, "enough bad fixes to matter: {bad}");
    assert!(entered > 0, "good fixes still enter fences");
}
