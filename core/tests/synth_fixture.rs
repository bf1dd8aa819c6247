//! The synthetic fixture in fixtures/synthetic/ is generated here, not by hand.
//!
//! Regenerate after changing the generator or the noise model:
//!     FENCEPOST_REGENERATE=1 cargo test -p fencepost-core --test synth_fixture
//! Without the variable, the test regenerates in memory and checks the committed files still match
//! (positions to 1e-6°, times exactly), which also proves the generator is deterministic for its seed.
//!
//! The route is the outbound half of the real Višnjan drive (fixtures/traces/visnjan_car_gpxpy, the
//! fixes from 06:16:53 to 06:19:39 UTC), so the synthetic car follows real roads.

use chrono::{DateTime, SecondsFormat};
use fencepost_core::io::{read_fences, read_trace};
use fencepost_core::synth::{Drive, NoiseModel, StopSpec, SyntheticTrace};
use fencepost_core::{FenceShape, LocationFix};
use std::fmt::Write as _;
use std::path::PathBuf;

const SEED: u64 = 20_201_218;
/// 2024-05-01T12:00:00Z.
const START_MS: i64 = 1_714_564_800_000;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/synthetic")
}

fn route() -> Vec<(f64, f64)> {
    let gpx = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx");
    let fixes = read_trace(gpx).expect("the Višnjan fixture parses");
    // 06:16:53 .. 06:19:39 UTC on 2020-12-18.
    let (from, to) = (1_608_272_213_000, 1_608_272_379_000);
    fixes
        .iter()
        .filter(|f| (from..=to).contains(&f.time_ms))
        .map(|f| (f.lat, f.lon))
        .collect()
}

/// Two delivery stops (one mid-route, one at the end) and one stretch driven through.
struct Plan {
    drive: Drive,
    trace: SyntheticTrace,
    pass_through_m: f64,
}

fn plan() -> Plan {
    let stops = vec![
        StopSpec {
            along_m: 700.0,
            dwell_s: 45.0,
        },
        StopSpec {
            along_m: f64::MAX, // clamped to the route's end
            dwell_s: 60.0,
        },
    ];
    let drive = Drive::new(route(), stops, START_MS);
    let trace = drive.generate(&NoiseModel::urban(), SEED);
    Plan {
        drive,
        trace,
        pass_through_m: 350.0,
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .expect("fixture times are in range")
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn csv(fixes: &[LocationFix]) -> String {
    let mut out = String::from("time,lat,lon,accuracy_m,speed_mps,bearing_deg\n");
    for f in fixes {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or(String::new(), |x| format!("{x:.digits$}"));
        let _ = writeln!(
            out,
            "{},{:.7},{:.7},{},{},{}",
            rfc3339(f.time_ms),
            f.lat,
            f.lon,
            opt(f.accuracy_m, 1),
            opt(f.speed_mps, 2),
            opt(f.bearing_deg, 1)
        );
    }
    out
}

/// The truth position `along` metres into the drive: the first true fix at or past it.
fn position_along(plan: &Plan, along: f64) -> (f64, f64) {
    // Truth fixes are 1 s apart; integrate speeds to find distance travelled.
    let mut travelled = 0.0;
    for w in plan.trace.truth.windows(2) {
        let dt = (w[1].time_ms - w[0].time_ms) as f64 / 1000.0;
        travelled += 0.5 * (w[0].speed_mps.unwrap_or(0.0) + w[1].speed_mps.unwrap_or(0.0)) * dt;
        if travelled >= along {
            return (w[1].lat, w[1].lon);
        }
    }
    let last = plan.trace.truth.last().expect("a non-empty drive");
    (last.lat, last.lon)
}

fn fences(plan: &Plan) -> String {
    let mut features: Vec<String> = plan
        .trace
        .stops
        .iter()
        .map(|s| {
            format!(
                "  {{\"type\": \"Feature\", \"properties\": {{\"id\": \"syn-stop-{}\", \"radius_m\": 40, \"approach_m\": 150}}, \"geometry\": {{\"type\": \"Point\", \"coordinates\": [{:.7}, {:.7}]}}}}",
                s.index, s.lon, s.lat
            )
        })
        .collect();
    let (lat, lon) = position_along(plan, plan.pass_through_m);
    features.push(format!(
        "  {{\"type\": \"Feature\", \"properties\": {{\"id\": \"syn-pass-0\", \"radius_m\": 40}}, \"geometry\": {{\"type\": \"Point\", \"coordinates\": [{lon:.7}, {lat:.7}]}}}}"
    ));
    format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [\n{}\n]}}\n",
        features.join(",\n")
    )
}

fn labels(plan: &Plan) -> String {
    let stops: Vec<String> = plan
        .trace
        .stops
        .iter()
        .map(|s| {
            format!(
                "    {{\"fence_id\": \"syn-stop-{}\", \"arrival\": \"{}\", \"departure\": \"{}\", \"lat\": {:.7}, \"lon\": {:.7}}}",
                s.index,
                rfc3339(s.arrival_ms),
                rfc3339(s.departure_ms),
                s.lat,
                s.lon
            )
        })
        .collect();
    format!(
        "{{\n  \"generator\": \"core/tests/synth_fixture.rs (FENCEPOST_REGENERATE=1)\",\n  \"seed\": {SEED},\n  \"noise\": \"NoiseModel::urban()\",\n  \"cruise_mps\": {},\n  \"stops\": [\n{}\n  ],\n  \"driven_through\": [\"syn-pass-0\"]\n}}\n",
        plan.drive.cruise_mps,
        stops.join(",\n")
    )
}

#[test]
fn committed_synthetic_fixture_matches_the_generator() {
    let plan = plan();
    let files = [
        ("drive.csv", csv(&plan.trace.fixes)),
        ("drive_truth.csv", csv(&plan.trace.truth)),
        ("drive_fences.geojson", fences(&plan)),
        ("drive_labels.json", labels(&plan)),
    ];
    if std::env::var_os("FENCEPOST_REGENERATE").is_some() {
        std::fs::create_dir_all(dir()).expect("create fixtures/synthetic");
        for (name, text) in &files {
            std::fs::write(dir().join(name), text).expect("write fixture");
        }
    }

    // Compare numerically: the last printed digit may differ across platforms' libm.
    for (name, fixes) in [
        ("drive.csv", &plan.trace.fixes),
        ("drive_truth.csv", &plan.trace.truth),
    ] {
        let committed = read_trace(dir().join(name)).expect("committed trace parses");
        assert_eq!(
            committed.len(),
            fixes.len(),
            "{name}: regenerate (see the file doc)"
        );
        for (c, g) in committed.iter().zip(fixes) {
            assert_eq!(c.time_ms, g.time_ms, "{name}");
            assert!(
                (c.lat - g.lat).abs() < 1e-6 && (c.lon - g.lon).abs() < 1e-6,
                "{name}"
            );
        }
    }
    let committed = read_fences(dir().join("drive_fences.geojson")).expect("fences parse");
    assert_eq!(committed.len(), plan.trace.stops.len() + 1);
    for (fence, label) in committed.iter().zip(&plan.trace.stops) {
        match fence.shape {
            FenceShape::Circle { lat, lon, .. } => {
                assert!((lat - label.lat).abs() < 1e-6 && (lon - label.lon).abs() < 1e-6)
            }
            ref other => panic!("{other:?}"),
        }
    }
    let committed_labels =
        std::fs::read_to_string(dir().join("drive_labels.json")).expect("labels");
    assert_eq!(
        committed_labels, files[3].1,
        "drive_labels.json: regenerate (see the file doc)"
    );
}
