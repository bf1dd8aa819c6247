//! A stop inside the drop-off fence is an arrival only where the trip ends: a red light on the way
//! through the fence must not fire `arrived`, the stop at the address must, at once; a driver who
//! parks short of the address arrives once the stop outlasts a red phase.
//!
//! The scenarios drive along a straight street (east) through a 60 m fence round the address, with
//! 1 Hz fixes carrying speed and bearing as phones report them while driving (none while stopped).

mod support;

use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::{EventKind, GeofenceEvent, LocationFix};
use proptest::prelude::*;
use support::{circle, offset};

const ORIGIN: (f64, f64) = (60.17, 24.94);
/// The address: the fence's centre, this far east of the start.
const ADDRESS_EAST_M: f64 = 1000.0;
const RADIUS_M: f64 = 60.0;
const CRUISE_MPS: f64 = 10.0;

/// A drive plan: positions (metres east) with the time spent at each stop.
struct Drive {
    stops: Vec<(f64, i64)>,
}

impl Drive {
    /// 1 Hz fixes: cruise from 0 east, hold still at each stop for its seconds, continue.
    fn fixes(&self) -> Vec<LocationFix> {
        let mut fixes = Vec::new();
        let (mut t, mut east) = (0i64, 0.0f64);
        for &(stop_at, hold_s) in &self.stops {
            let from = east;
            for k in 1..=hops(from, stop_at) {
                let next = (from + k as f64 * CRUISE_MPS).min(stop_at);
                fixes.push(fix(t, next, Some(next - east), Some(90.0)));
                east = next;
                t += 1;
            }
            for _ in 0..hold_s {
                fixes.push(fix(t, east, Some(0.0), None));
                t += 1;
            }
        }
        fixes
    }

    /// When the car came to rest at stop `i` (time of its first stationary fix, ms).
    fn rest_ms(&self, i: usize) -> i64 {
        let (mut t, mut east) = (0i64, 0.0f64);
        for (k, &(stop_at, hold_s)) in self.stops.iter().enumerate() {
            t += hops(east, stop_at);
            east = stop_at;
            if k == i {
                return t * 1000;
            }
            t += hold_s;
        }
        t * 1000
    }
}

/// One-second hops at cruising speed from `from` to `to` (the last one shorter).
fn hops(from: f64, to: f64) -> i64 {
    ((to - from) / CRUISE_MPS).ceil().max(0.0) as i64
}

fn fix(t_s: i64, east: f64, speed: Option<f64>, bearing: Option<f64>) -> LocationFix {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, east, 0.0);
    LocationFix {
        accuracy_m: Some(5.0),
        speed_mps: speed,
        bearing_deg: bearing,
        ..LocationFix::new(t_s * 1000, lat, lon)
    }
}

fn arrivals(drive: &Drive, config: EngineConfig) -> Vec<GeofenceEvent> {
    arrivals_beside(drive, config, 0.0)
}

/// Arrivals with the address `north_m` off the street the car drives along.
fn arrivals_beside(drive: &Drive, config: EngineConfig, north_m: f64) -> Vec<GeofenceEvent> {
    let (lat, lon) = offset(ORIGIN.0, ORIGIN.1, ADDRESS_EAST_M, north_m);
    let mut engine =
        GeofenceEngine::new(vec![circle("drop", lat, lon, RADIUS_M)], config).expect("valid");
    let mut out = Vec::new();
    for f in drive.fixes() {
        let events = engine.process(f).expect("valid fix");
        out.extend(events.into_iter().filter(|e| e.kind == EventKind::Arrived));
    }
    out
}

#[test]
fn a_red_light_inside_the_fence_is_not_an_arrival_but_the_address_is() {
    // Red for 35 s at a junction 40 m before the address, then on to the door.
    let drive = Drive {
        stops: vec![(ADDRESS_EAST_M - 40.0, 35), (ADDRESS_EAST_M, 60)],
    };
    let got = arrivals(&drive, EngineConfig::default());
    assert_eq!(got.len(), 1, "{got:?}");
    let latency_ms = got[0].time_ms - drive.rest_ms(1);
    assert!(
        (0..=6_000).contains(&latency_ms),
        "arrived {latency_ms} ms after coming to rest at the address"
    );
}

#[test]
fn without_the_heading_rule_the_same_light_fires_a_false_arrival() {
    // The rule is what makes the difference: counting every stop (the old behaviour) fires at the light.
    let drive = Drive {
        stops: vec![(ADDRESS_EAST_M - 40.0, 35), (ADDRESS_EAST_M, 60)],
    };
    let config = EngineConfig {
        arrival_ahead_m: f64::MAX,
        ..EngineConfig::default()
    };
    let got = arrivals(&drive, config);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].time_ms < drive.rest_ms(1), "fired at the light");
}

#[test]
fn stopping_just_past_the_address_is_an_arrival_at_once() {
    let drive = Drive {
        stops: vec![(ADDRESS_EAST_M + 15.0, 60)],
    };
    let got = arrivals(&drive, EngineConfig::default());
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].time_ms - drive.rest_ms(0) <= 6_000);
}

#[test]
fn parking_short_of_the_address_arrives_once_the_stop_outlasts_a_red_phase() {
    let config = EngineConfig::default();
    let drive = Drive {
        stops: vec![(ADDRESS_EAST_M - 45.0, 150)],
    };
    let got = arrivals(&drive, config.clone());
    assert_eq!(got.len(), 1, "{got:?}");
    let latency_s = (got[0].time_ms - drive.rest_ms(0)) as f64 / 1000.0;
    assert!(
        latency_s >= config.through_stop_s && latency_s <= config.through_stop_s + 6.0,
        "arrived {latency_s} s after parking"
    );
}

#[test]
fn a_light_on_a_street_passing_beside_the_address_is_not_an_arrival() {
    // The address is 45 m off this street (inside the 60 m fence): a red light abeam of it is on
    // another street than the door; the car drives on and round the block.
    let drive = Drive {
        stops: vec![(ADDRESS_EAST_M, 40), (ADDRESS_EAST_M + 300.0, 10)],
    };
    let got = arrivals_beside(&drive, EngineConfig::default(), 45.0);
    assert!(got.is_empty(), "{got:?}");
    // The same stop with the address 20 m off the street (across the pavement) is an arrival.
    let got = arrivals_beside(&drive, EngineConfig::default(), 20.0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].time_ms - drive.rest_ms(0) <= 6_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any red light shorter than `through_stop_s` between the fence edge and 25 m before the address,
    /// followed by a stop within 15 m of the address: exactly one arrival, at the address.
    #[test]
    fn lights_on_the_way_through_never_arrive(
        light_before_m in 25.0f64..58.0,
        red_s in 8i64..45,
        final_offset_m in -15.0f64..15.0,
    ) {
        let drive = Drive {
            stops: vec![
                (ADDRESS_EAST_M - light_before_m, red_s),
                (ADDRESS_EAST_M + final_offset_m, 30),
            ],
        };
        let got = arrivals(&drive, EngineConfig::default());
        prop_assert_eq!(got.len(), 1, "{:?}", got);
        let latency_ms = got[0].time_ms - drive.rest_ms(1);
        prop_assert!((0..=6_000).contains(&latency_ms), "latency {} ms", latency_ms);
    }
}
