//! Fence reader: circles, polygons and multipolygons with their properties; every malformed fence is an
//! `Error::Parse` on the line of the offending feature, ring or position.

use fencepost_core::io::{parse_fences_str, read_fences, read_trace};
use fencepost_core::{Error, Fence, FenceShape};
use geo::{Distance, Geodesic, Point};
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn parse(text: &str) -> Result<Vec<Fence>, Error> {
    parse_fences_str(text, "f.geojson")
}

fn assert_parse_error(result: Result<Vec<Fence>, Error>, line: usize, needle: &str) {
    match result {
        Err(Error::Parse {
            line: got, reason, ..
        }) => {
            assert_eq!(got, line, "wrong line for {reason:?}");
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        other => panic!("expected a parse error on line {line}, got {other:?}"),
    }
}

/// A collection with one feature per line, starting on line 2.
fn collection(features: &[&str]) -> String {
    format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [\n{}\n]}}",
        features.join(",\n")
    )
}

const CIRCLE: &str = r#"{"type": "Feature", "properties": {"id": "a", "radius_m": 40}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#;

#[test]
fn reads_circles_polygons_and_multipolygons_with_properties() {
    let text = collection(&[
        r#"{"type": "Feature", "properties": {"id": "a", "radius_m": 40, "dwell_s": 30, "approach_m": 200}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#,
        r#"{"type": "Feature", "id": 7, "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0]]]}}"#,
        r#"{"type": "Feature", "id": "m", "properties": null, "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0]]], [[[1, 1], [1.001, 1], [1.001, 1.001], [1, 1]]]]}}"#,
    ]);
    let fences = parse(&text).expect("valid fences");
    assert_eq!(fences.len(), 3);
    assert_eq!(fences[0].id, "a");
    assert_eq!(
        fences[0].shape,
        FenceShape::Circle {
            lat: 45.2,
            lon: 13.7,
            radius_m: 40.0
        }
    );
    assert_eq!(fences[0].dwell_s, Some(30.0));
    assert_eq!(fences[0].approach_m, Some(200.0));
    assert_eq!(fences[1].id, "7", "a numeric feature id is used as text");
    assert!(matches!(&fences[1].shape, FenceShape::Polygon(mp) if mp.0.len() == 1));
    assert_eq!(fences[2].id, "m");
    assert!(matches!(&fences[2].shape, FenceShape::Polygon(mp) if mp.0.len() == 2));
}

#[test]
fn duplicate_ids_are_rejected_on_the_second_feature() {
    assert_parse_error(
        parse(&collection(&[CIRCLE, CIRCLE])),
        3,
        "duplicate fence id `a` (first used on line 2)",
    );
}

#[test]
fn missing_id_is_rejected() {
    let f = r#"{"type": "Feature", "properties": {"radius_m": 40}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#;
    assert_parse_error(parse(&collection(&[CIRCLE, f])), 3, "fence has no id");
}

#[test]
fn circle_without_radius_is_rejected() {
    let f = r#"{"type": "Feature", "properties": {"id": "b"}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#;
    assert_parse_error(parse(&collection(&[CIRCLE, f])), 3, "needs `radius_m`");
}

#[test]
fn zero_negative_or_non_numeric_radius_is_rejected() {
    for (radius, needle) in [
        ("0", "greater than 0"),
        ("-5", "greater than 0"),
        ("\"40\"", "must be a number"),
    ] {
        let f = format!(
            r#"{{"type": "Feature", "properties": {{"id": "b", "radius_m": {radius}}}, "geometry": {{"type": "Point", "coordinates": [13.7, 45.2]}}}}"#
        );
        assert_parse_error(parse(&collection(&[CIRCLE, &f])), 3, needle);
    }
}

#[test]
fn out_of_range_coordinates_are_rejected_on_their_line() {
    let lat = r#"{"type": "Feature", "properties": {"id": "b", "radius_m": 5}, "geometry": {"type": "Point", "coordinates": [13.7, 91]}}"#;
    assert_parse_error(parse(&collection(&[lat])), 2, "latitude is outside");
    let lon = "{\"type\": \"Feature\", \"properties\": {\"id\": \"p\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[\n[0, 0],\n[181, 0],\n[0.001, 0.001],\n[0, 0]]]}}";
    assert_parse_error(parse(&collection(&[lon])), 4, "longitude is outside");
}

#[test]
fn non_finite_coordinates_cannot_even_be_written_in_json() {
    // JSON has no NaN/Infinity; a file that tries is malformed JSON, on its line.
    let f = r#"{"type": "Feature", "properties": {"id": "b", "radius_m": 5}, "geometry": {"type": "Point", "coordinates": [NaN, 45]}}"#;
    assert_parse_error(parse(&collection(&[CIRCLE, f])), 3, "malformed JSON");
}

#[test]
fn unclosed_ring_is_rejected() {
    let f = r#"{"type": "Feature", "properties": {"id": "p"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001]]]}}"#;
    assert_parse_error(parse(&collection(&[CIRCLE, f])), 3, "not closed");
}

#[test]
fn degenerate_rings_are_rejected() {
    let short = r#"{"type": "Feature", "properties": {"id": "p"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0, 0]]]}}"#;
    assert_parse_error(parse(&collection(&[short])), 2, "at least 4 positions");
    let flat = r#"{"type": "Feature", "properties": {"id": "p"}, "geometry": {"type": "Polygon", "coordinates": [[[13.1, 45.1], [13.2, 45.2], [13.3, 45.3], [13.1, 45.1]]]}}"#;
    assert_parse_error(parse(&collection(&[flat])), 2, "zero area");
    let hole = "{\"type\": \"Feature\", \"properties\": {\"id\": \"p\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [\n[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]],\n[[0.001, 0.001], [0.002, 0.001], [0.002, 0.002]]]}}";
    assert_parse_error(parse(&collection(&[hole])), 4, "at least 4 positions");
}

#[test]
fn other_geometries_and_non_features_are_rejected() {
    let line = r#"{"type": "Feature", "properties": {"id": "l"}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}"#;
    assert_parse_error(
        parse(&collection(&[CIRCLE, line])),
        3,
        "a LineString cannot be a fence",
    );
    assert_parse_error(
        parse(&collection(&[CIRCLE, "[1, 2]"])),
        3,
        "not a GeoJSON Feature",
    );
    assert_parse_error(
        parse("{\"type\": \"Point\", \"coordinates\": [0, 0]}"),
        1,
        "FeatureCollection or Feature",
    );
}

#[test]
fn bad_dwell_and_approach_are_rejected() {
    let dwell = r#"{"type": "Feature", "properties": {"id": "b", "radius_m": 5, "dwell_s": -1}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#;
    assert_parse_error(
        parse(&collection(&[dwell])),
        2,
        "dwell_s must not be negative",
    );
    let approach = r#"{"type": "Feature", "properties": {"id": "b", "radius_m": 5, "approach_m": 0}, "geometry": {"type": "Point", "coordinates": [13.7, 45.2]}}"#;
    assert_parse_error(
        parse(&collection(&[approach])),
        2,
        "approach_m must be greater than 0",
    );
}

#[test]
fn empty_and_malformed_files_are_rejected() {
    assert_parse_error(parse(&collection(&[])), 1, "no fences");
    assert_parse_error(
        // Cut off after a final newline: reported on the file's last line, not the empty one past it.
        parse("{\"type\": \"FeatureCollection\",\n \"features\": [\n"),
        2,
        "malformed JSON",
    );
}

#[test]
fn missing_file_is_an_io_error() {
    assert!(matches!(
        read_fences("/nonexistent/fencepost/fences.geojson"),
        Err(Error::Io { .. })
    ));
}

/// The Višnjan fences are derived from the trace (fixtures/README.md): check that they still are.
#[test]
fn visnjan_stop_fences_sit_on_the_traces_stationary_fixes() {
    let fences = read_fences(fixture("fences/visnjan.geojson")).expect("fixture parses");
    let fixes = read_trace(fixture(
        "traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx",
    ))
    .expect("fixture parses");
    let centre = |id: &str| match fences.iter().find(|f| f.id == id).map(|f| &f.shape) {
        Some(FenceShape::Circle { lat, lon, .. }) => Point::new(*lon, *lat),
        other => panic!("{id}: {other:?}"),
    };
    // Mean of the fixes in [from, to] seconds of 2020-12-18T06:00:00Z.
    let mean = |from: i64, to: i64| {
        let base = 1_608_271_200_000;
        let sel: Vec<_> = fixes
            .iter()
            .filter(|f| (base + from * 1000..=base + to * 1000).contains(&f.time_ms))
            .collect();
        let n = sel.len() as f64;
        Point::new(
            sel.iter().map(|f| f.lon).sum::<f64>() / n,
            sel.iter().map(|f| f.lat).sum::<f64>() / n,
        )
    };
    // stop-2: 06:19:37–06:21:37; stop-1: 06:22:41–06:24:24.
    let d2 = Geodesic.distance(centre("stop-2"), mean(19 * 60 + 37, 21 * 60 + 37));
    let d1 = Geodesic.distance(centre("stop-1"), mean(22 * 60 + 41, 24 * 60 + 24));
    assert!(
        d2 < 0.05 && d1 < 0.05,
        "stop-2 off by {d2} m, stop-1 by {d1} m"
    );
}
