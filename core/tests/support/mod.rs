//! Loaders for the real traces in `fixtures/` and small helpers shared by the engine's tests.
//!
//! The placement of the x/y-metre Amazon chunks on the globe uses its own spherical formula, not the
//! engine's geodesy, so the tests do not check the engine against itself.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod amazon;

use std::path::PathBuf;

use fencepost_core::{Fence, FenceShape, LocationFix};

pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures")
        .join(relative)
}

pub fn circle(id: &str, lat: f64, lon: f64, radius_m: f64) -> Fence {
    Fence {
        id: id.to_string(),
        shape: FenceShape::Circle { lat, lon, radius_m },
        dwell_s: None,
        approach_m: None,
    }
}

/// Mean Earth radius; placement only needs to be self-consistent, not geodesic.
const R: f64 = 6_371_008.8;

/// The point `east_m`/`north_m` from (lat0, lon0) on a sphere (equirectangular at lat0), with the
/// longitude wrapped into -180..=180 so chunks placed near the antimeridian cross it.
pub fn offset(lat0: f64, lon0: f64, east_m: f64, north_m: f64) -> (f64, f64) {
    let lat = lat0 + (north_m / R).to_degrees();
    let lon = lon0 + (east_m / (R * lat0.to_radians().cos())).to_degrees();
    let lon = (lon + 180.0).rem_euclid(360.0) - 180.0;
    (lat, lon)
}

/// Haversine distance, for test bookkeeping only (ground-truth classification, not assertions on
/// the engine's own distances).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// The Munich car trace (1 Hz): `[{"point": "POINT(lon lat)", "time": "2014-09-10 06:54:07+0200"}]`.
pub fn munich_fixes() -> Vec<LocationFix> {
    let text = std::fs::read_to_string(fixture("traces/munich_barefoot/x0001-001.json"))
        .expect("the Munich fixture is in the repository");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).expect("the fixture is JSON");
    rows.iter()
        .map(|row| {
            let point = row["point"].as_str().expect("point is a string");
            let inner = point
                .trim_start_matches("POINT(")
                .trim_end_matches(')')
                .split_whitespace()
                .map(|v| v.parse::<f64>().expect("a number"))
                .collect::<Vec<_>>();
            let time = row["time"].as_str().expect("time is a string");
            let time = chrono::DateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S%z")
                .expect("fixture time format");
            LocationFix::new(time.timestamp_millis(), inner[1], inner[0])
        })
        .collect()
}

/// The Zurich phone history (`;`-separated, newest first), returned oldest first with accuracy.
pub fn zurich_google() -> Vec<LocationFix> {
    let text = std::fs::read_to_string(fixture(
        "traces/zurich_phone_accuracy/google_trajectory.csv",
    ))
    .expect("the Zurich fixture is in the repository");
    let mut fixes: Vec<LocationFix> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(';').collect();
            let time = chrono::DateTime::parse_from_rfc3339(f[1]).expect("RFC 3339 time");
            let mut fix = LocationFix::new(
                time.timestamp_millis(),
                f[2].parse().expect("latitude"),
                f[3].parse().expect("longitude"),
            );
            fix.accuracy_m = Some(f[5].parse().expect("accuracy"));
            fix
        })
        .collect();
    fixes.sort_by_key(|f| f.time_ms);
    fixes
}

/// The GTFS stops of bus route 304: (stop name, lat, lon).
pub fn limerick_stops() -> Vec<(String, f64, f64)> {
    let text = std::fs::read_to_string(fixture("traces/limerick_bus_304/stops_304_to_ul.csv"))
        .expect("the stops fixture is in the repository");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[2].to_string(),
                f[4].parse().expect("latitude"),
                f[5].parse().expect("longitude"),
            )
        })
        .collect()
}

/// Median of a non-empty slice.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `q` quantile (0..=1, nearest rank) of a non-empty slice.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
