//! Distance, ETA, `approaching` and `eta` events for the target fence.

mod support;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::geodesy::distance_m;
use fencepost_core::{EventKind, GeofenceEvent, LocationFix};
use support::{circle, offset};

const ORIGIN: (f64, f64) = (60.17, 24.94);

fn at(t_s: i64, east: f64, north: f64) -> LocationFix {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, east, north);
    LocationFix::new(t_s * 1000, lat, lon)
}

fn target_engine(east: f64, north: f64, radius: f64) -> GeofenceEngine {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, east, north);
    let mut e = GeofenceEngine::new(
        vec![circle("store", lat, lon, radius)],
        EngineConfig::default(),
    )
    .expect("valid");
    e.set_target(Some("store")).expect("known fence");
    e
}

fn of_kind(events: &[GeofenceEvent], kind: EventKind) -> Vec<&GeofenceEvent> {
    events.iter().filter(|e| e.kind == kind).collect()
}

#[test]
fn straight_line_eta_uses_circuity_and_the_blended_speed() {
    let mut e = target_engine(2000.0, 0.0, 50.0);
    for t in 0..60 {
        e.process(at(t, 10.0 * t as f64, 0.0)).expect("valid");
    }
    let p = e.target_progress().expect("progress");
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, 590.0, 0.0);
    let (clat, clon) = offset(ORIGIN.0, ORIGIN.1, 2000.0, 0.0);
    let straight = distance_m(lat, lon, clat, clon) - 50.0;
    assert!(
        (p.distance_m - straight).abs() < 1.0,
        "{} vs {straight}",
        p.distance_m
    );
    assert!(!p.on_route);
    // Driving straight at the target is evidence of circuity 1: the learned factor has left the
    // prior (1.3) toward 1 (eta/circuity.rs).
    let circuity = p.travel_distance_m / p.distance_m;
    assert!(circuity > 1.0 && circuity < 1.25, "circuity {circuity}");
    // Steady 10 m/s: current and recent speed agree.
    let expected = p.travel_distance_m / 10.0;
    assert!(
        (p.eta_s - expected).abs() < expected * 0.03,
        "{} vs {expected}",
        p.eta_s
    );
}

#[test]
fn a_red_light_slows_the_eta_but_does_not_make_it_infinite() {
    let mut e = target_engine(3000.0, 0.0, 50.0);
    for t in 0..60 {
        e.process(at(t, 10.0 * t as f64, 0.0)).expect("driving");
    }
    let moving = e.target_progress().expect("progress").eta_s;
    for t in 60..90 {
        e.process(at(t, 590.0, 0.0)).expect("waiting at the light");
    }
    let waiting = e.target_progress().expect("progress").eta_s;
    assert!(waiting > moving, "{waiting} vs {moving}");
    assert!(waiting.is_finite() && waiting < moving * 4.0, "{waiting}");
}

#[test]
fn the_eta_follows_a_route_polyline_while_on_it() {
    // An L-shaped road: 1 km east, then 1 km north to the store.
    let mut e = target_engine(1000.0, 1000.0, 50.0);
    let route: Vec<(f64, f64)> = [(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)]
        .iter()
        .map(|(x, y)| offset(ORIGIN.0, ORIGIN.1, *x, *y))
        .collect();
    assert!(e.set_route(route));
    e.process(at(0, 200.0, 5.0)).expect("on the road");
    let p = e.target_progress().expect("progress");
    assert!(p.on_route);
    // 800 m to the corner, then 1000 m north less the 50 m radius.
    assert!(
        (p.travel_distance_m - 1750.0).abs() < 5.0,
        "{}",
        p.travel_distance_m
    );
    assert!(p.distance_m < p.travel_distance_m);

    // 400 m off the road: back to straight-line × circuity.
    e.process(at(60, 200.0, 400.0)).expect("off the road");
    let p = e.target_progress().expect("progress");
    assert!(!p.on_route);
    let circuity = p.travel_distance_m / p.distance_m;
    let max = EngineConfig::default().max_circuity;
    assert!((1.0..=max).contains(&circuity), "circuity {circuity}");
    assert!(
        !e.set_route(vec![(60.0, 24.0)]),
        "a single vertex is no route"
    );
}

#[test]
fn approaching_fires_once_per_leg_and_eta_only_on_meaningful_change() {
    let mut e = target_engine(2000.0, 0.0, 50.0);
    let mut events = Vec::new();
    // Drive to the store and past it, back and forth twice.
    let mut t = 0;
    for _ in 0..2 {
        for x in (0..=2000).step_by(10) {
            events.extend(e.process(at(t, x as f64, 0.0)).expect("valid"));
            t += 1;
        }
        for x in (0..=2000).rev().step_by(10) {
            events.extend(e.process(at(t, x as f64, 0.0)).expect("valid"));
            t += 1;
        }
    }
    let approaching = of_kind(&events, EventKind::Approaching);
    assert_eq!(approaching.len(), 1, "once per leg");
    let a = approaching[0];
    assert!(a.distance_m.is_some_and(|d| d <= 500.0) || a.eta_s.is_some_and(|s| s <= 120.0));

    let etas = of_kind(&events, EventKind::Eta);
    assert!(
        etas.len() > 10 && etas.len() < t as usize / 3,
        "{} eta events for {t} fixes",
        etas.len()
    );
    for w in etas.windows(2) {
        let (d0, d1) = (w[0].distance_m.expect("d"), w[1].distance_m.expect("d"));
        let (e0, e1) = (w[0].eta_s.expect("eta"), w[1].eta_s.expect("eta"));
        assert!((d1 - d0).abs() >= 50.0 || (e1 - e0).abs() >= 15.0 || (d0 == 0.0) != (d1 == 0.0));
    }

    // A new leg (the same store again) re-arms `approaching`.
    e.set_target(Some("store")).expect("known");
    let mut more = Vec::new();
    for x in (0..=2000).step_by(10) {
        more.extend(e.process(at(t, x as f64, 0.0)).expect("valid"));
        t += 1;
    }
    assert_eq!(of_kind(&more, EventKind::Approaching).len(), 1);
}

#[test]
fn no_target_means_no_progress_and_no_eta_events() {
    let mut e = target_engine(100.0, 0.0, 50.0);
    e.set_target(None).expect("clearing is fine");
    let events = e.process(at(0, 0.0, 0.0)).expect("valid");
    assert!(events.is_empty());
    assert_eq!(e.target_progress(), None);
    // Removing the target fence clears the target.
    e.set_target(Some("store")).expect("known");
    e.process(at(1, 0.0, 0.0)).expect("valid");
    assert!(e.target_progress().is_some());
    assert!(e.remove_fence("store"));
    assert_eq!(e.target_progress(), None);
}
