//! Trace readers: the real fixtures parse, and every kind of bad input gives `Error::Parse` with the
//! right line (or `Io` / `UnsupportedFormat`), never a panic.

use fencepost_core::io::{
    parse_trace_points_str, parse_trace_str, read_trace, read_trace_points, TraceFormat,
};
use fencepost_core::{Error, FixError, LocationFix};
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// Asserts a parse error on `line` whose reason contains `needle`.
fn assert_parse_error(result: Result<Vec<LocationFix>, Error>, line: usize, needle: &str) {
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

fn csv(text: &str) -> Result<Vec<LocationFix>, Error> {
    parse_trace_str(text, TraceFormat::Csv, "t.csv")
}
fn gpx(text: &str) -> Result<Vec<LocationFix>, Error> {
    parse_trace_str(text, TraceFormat::Gpx, "t.gpx")
}
fn geojson(text: &str) -> Result<Vec<LocationFix>, Error> {
    parse_trace_str(text, TraceFormat::GeoJson, "t.geojson")
}

// ---- real files ----

#[test]
fn reads_the_visnjan_gpx() {
    let fixes = read_trace(fixture(
        "traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx",
    ))
    .expect("the fixture parses");
    assert_eq!(fixes.len(), 104);
    let first = &fixes[0];
    assert_eq!(first.time_ms, 1_608_272_150_000); // 2020-12-18T06:15:50Z
    assert!((first.lat - 45.273_518_851).abs() < 1e-9);
    assert!((first.lon - 13.714_209_962_6).abs() < 1e-9);
    assert!(fixes.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
}

#[test]
fn reads_the_limerick_gpx_with_a_line_per_trkpt() {
    let points = read_trace_points(fixture(
        "traces/limerick_bus_304/304_to_UL_2019-02-18_0745.gpx",
    ))
    .expect("the fixture parses");
    assert!(points.len() > 1000, "{} points", points.len());
    // The file puts each <trkpt> on its own line, four lines apart, starting on line 10.
    assert_eq!(points[0].line, 10);
    assert_eq!(points[1].line, 14);
    assert!(points.iter().all(|p| p.fix.is_ok()));
}

// ---- CSV ----

#[test]
fn csv_reads_rfc3339_unix_seconds_and_optional_columns_in_any_order() {
    let text = "lon,time,lat,accuracy_m,speed_mps,bearing_deg,note\n\
                13.7,2020-12-18T06:15:50Z,45.2,5,1.5,370,x\n\
                13.7,1608272151.25,45.2,0,,,y\n\
                13.7,1608272152,45.2,,2,-90,z\n";
    let fixes = csv(text).expect("valid CSV");
    assert_eq!(fixes.len(), 3);
    assert_eq!(fixes[0].time_ms, 1_608_272_150_000);
    assert_eq!(fixes[0].accuracy_m, Some(5.0));
    assert_eq!(fixes[0].speed_mps, Some(1.5));
    assert_eq!(
        fixes[0].bearing_deg,
        Some(10.0),
        "bearing normalised into 0..360"
    );
    assert_eq!(fixes[1].time_ms, 1_608_272_151_250);
    assert_eq!(fixes[1].accuracy_m, None, "accuracy 0 means unknown");
    assert_eq!(fixes[2].accuracy_m, None, "empty accuracy means unknown");
    assert_eq!(fixes[2].bearing_deg, Some(270.0));
}

#[test]
fn csv_with_semicolons_is_read() {
    let fixes = csv("time;lat;lon\n10;1;2\n11;1;2.0001\n").expect("valid");
    assert_eq!(fixes.len(), 2);
}

#[test]
fn csv_nan_latitude_is_rejected_with_its_line() {
    let r = csv("time,lat,lon\n10,1,2\n11,NaN,2\n");
    assert_parse_error(r, 3, "lat is not a finite number");
}

#[test]
fn csv_latitude_over_90_is_rejected() {
    assert_parse_error(csv("time,lat,lon\n10,90.5,2\n"), 2, "latitude is outside");
}

#[test]
fn csv_longitude_over_180_is_rejected() {
    assert_parse_error(
        csv("time,lat,lon\n10,1,2\n11,1,-180.01\n"),
        3,
        "longitude is outside",
    );
}

#[test]
fn csv_negative_accuracy_is_rejected() {
    assert_parse_error(
        csv("time,lat,lon,accuracy_m\n10,1,2,5\n11,1,2,-1\n"),
        3,
        "accuracy must not be negative",
    );
}

#[test]
fn csv_time_running_backwards_is_rejected_by_the_strict_reader() {
    let r = csv("time,lat,lon\n10,1,2\n12,1,2\n11,1,2\n");
    assert_parse_error(r, 4, "time runs backwards");
}

#[test]
fn csv_lenient_reader_keeps_going_past_bad_fixes() {
    let points = parse_trace_points_str(
        "time,lat,lon\n10,1,2\n11,NaN,2\n12,1,2\n",
        TraceFormat::Csv,
        "t.csv",
    )
    .expect("the file itself is fine");
    assert_eq!(points.len(), 3);
    assert_eq!(points[1].line, 3);
    assert_eq!(
        points[1].fix,
        Err(FixError::NotFinite { field: "lat" }),
        "the bad fix carries its reason"
    );
    assert!(points[0].fix.is_ok() && points[2].fix.is_ok());
}

#[test]
fn csv_without_a_required_column_is_rejected_on_the_header() {
    assert_parse_error(csv("t,lat,lon\n10,1,2\n"), 1, "no `time` column");
    assert_parse_error(csv("time,latitude,lon\n10,1,2\n"), 1, "no `lat` column");
}

#[test]
fn csv_with_a_short_row_is_rejected_with_its_line() {
    assert_parse_error(
        csv("time,lat,lon\n10,1,2\n11,1\n"),
        3,
        "this row has 2 fields",
    );
}

#[test]
fn csv_with_text_where_a_number_belongs_is_rejected() {
    assert_parse_error(
        csv("time,lat,lon\n10,1,2\n11,north,2\n"),
        3,
        "lat is not a number",
    );
}

#[test]
fn csv_with_an_unreadable_time_is_rejected() {
    assert_parse_error(
        csv("time,lat,lon\n2019-01-25 20:00:16,1,2\n"),
        2,
        "neither RFC 3339",
    );
}

#[test]
fn csv_errors_do_not_echo_coordinates() {
    let Err(e) = csv("time,lat,lon\n10,47.3766094,north\n") else {
        panic!("expected an error")
    };
    assert!(!e.to_string().contains("47.37"), "{e}");
}

#[test]
fn header_only_csv_is_an_empty_trace_error() {
    // An empty trace is almost certainly the wrong file; say so rather than replay nothing.
    assert_parse_error(csv("time,lat,lon\n"), 1, "no fixes");
}

// ---- GPX ----

const GPX_HEAD: &str = "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n<trk><trkseg>\n";
const GPX_TAIL: &str = "</trkseg></trk>\n</gpx>\n";

fn gpx_doc(points: &str) -> String {
    format!("{GPX_HEAD}{points}{GPX_TAIL}")
}

#[test]
fn gpx_reads_points_across_segments() {
    let doc = format!(
        "{GPX_HEAD}<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n</trkseg><trkseg>\n<trkpt lat=\"1.001\" lon=\"2\"><time>2020-01-01T00:00:05Z</time></trkpt>\n{GPX_TAIL}"
    );
    let fixes = gpx(&doc).expect("valid");
    assert_eq!(fixes.len(), 2);
    assert_eq!(fixes[1].time_ms - fixes[0].time_ms, 5000);
}

#[test]
fn gpx_latitude_over_90_is_rejected_on_its_line() {
    let doc = gpx_doc(
        "<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n<trkpt lat=\"91\" lon=\"2\"><time>2020-01-01T00:00:01Z</time></trkpt>\n",
    );
    assert_parse_error(gpx(&doc), 5, "lat is not a number within");
}

#[test]
fn gpx_nan_and_longitude_out_of_range_are_rejected() {
    let nan = gpx_doc("<trkpt lat=\"NaN\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n");
    assert_parse_error(gpx(&nan), 4, "lat is not a number within");
    let lon = gpx_doc("<trkpt lat=\"1\" lon=\"200\"><time>2020-01-01T00:00:00Z</time></trkpt>\n");
    assert_parse_error(gpx(&lon), 4, "lon is not a number within");
}

#[test]
fn gpx_missing_time_is_rejected() {
    let doc = gpx_doc(
        "<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n<trkpt lat=\"1\" lon=\"2\"></trkpt>\n",
    );
    assert_parse_error(gpx(&doc), 5, "no <time>");
}

#[test]
fn gpx_bad_time_and_bad_elevation_are_rejected_on_their_line() {
    let time = gpx_doc("<trkpt lat=\"1\" lon=\"2\">\n<time>yesterday</time></trkpt>\n");
    assert_parse_error(gpx(&time), 5, "<time> is not");
    let ele = gpx_doc(
        "<trkpt lat=\"1\" lon=\"2\">\n<ele>high</ele><time>2020-01-01T00:00:00Z</time></trkpt>\n",
    );
    assert_parse_error(gpx(&ele), 5, "<ele> is not a number");
}

#[test]
fn gpx_time_running_backwards_is_rejected() {
    let doc = gpx_doc(
        "<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:10Z</time></trkpt>\n<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:05Z</time></trkpt>\n",
    );
    assert_parse_error(gpx(&doc), 5, "time runs backwards");
}

#[test]
fn malformed_gpx_xml_is_rejected_with_the_xml_line() {
    let doc = format!(
        "{GPX_HEAD}<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:01Z</time>\n</trkseg></trk></gpx>\n"
    );
    assert_parse_error(gpx(&doc), 6, "malformed XML");
}

#[test]
fn gpx_without_track_points_is_rejected() {
    let doc = format!(
        "{}<wpt lat=\"1\" lon=\"2\"/>\n</gpx>\n",
        &GPX_HEAD[..GPX_HEAD.len() - "<trk><trkseg>\n".len()]
    );
    assert_parse_error(gpx(&doc), 1, "no track points");
}

// ---- GeoJSON ----

#[test]
fn geojson_point_features_with_time_are_read() {
    let text = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2, 1]},
   "properties": {"time": "2020-01-01T00:00:00Z", "accuracy_m": 12, "speed_mps": null}},
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.001, 1]},
   "properties": {"time": 1577836805.5}}
]}"#;
    let fixes = geojson(text).expect("valid");
    assert_eq!(fixes.len(), 2);
    assert_eq!((fixes[0].lat, fixes[0].lon), (1.0, 2.0));
    assert_eq!(fixes[0].accuracy_m, Some(12.0));
    assert_eq!(fixes[1].time_ms, 1_577_836_805_500);
}

#[test]
fn geojson_linestring_with_coord_times_is_read() {
    let text = r#"{"type": "Feature", "properties": {"coordTimes": ["2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z"]},
 "geometry": {"type": "LineString", "coordinates": [[2, 1, 100], [2.0001, 1, 101]]}}"#;
    let fixes = geojson(text).expect("valid");
    assert_eq!(fixes.len(), 2);
    assert_eq!(fixes[1].time_ms - fixes[0].time_ms, 1000);
}

#[test]
fn geojson_coordinate_out_of_range_is_rejected_on_the_position_line() {
    let text = "{\"type\": \"Feature\", \"properties\": {\"coordTimes\": [1, 2, 3]},\n \"geometry\": {\"type\": \"LineString\", \"coordinates\": [\n  [2, 1],\n  [2, 95],\n  [2, 1]]}}";
    assert_parse_error(geojson(text), 4, "latitude is outside");
}

#[test]
fn geojson_point_without_time_is_rejected_on_the_feature_line() {
    let text = "{\"type\": \"FeatureCollection\", \"features\": [\n {\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [2, 1]}, \"properties\": {\"time\": 1}},\n {\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [2, 1]}, \"properties\": {}}\n]}";
    assert_parse_error(geojson(text), 3, "no `time` property");
}

#[test]
fn geojson_coord_times_of_the_wrong_length_or_value_are_rejected() {
    let short = r#"{"type": "Feature", "properties": {"coordTimes": [1]},
 "geometry": {"type": "LineString", "coordinates": [[2, 1], [2, 1]]}}"#;
    assert_parse_error(geojson(short), 1, "coordTimes has 1 entries");
    let bad = "{\"type\": \"Feature\", \"properties\": {\"coordTimes\": [\n1,\n\"soon\"]},\n \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[2, 1], [2, 1]]}}";
    assert_parse_error(geojson(bad), 3, "neither RFC 3339");
}

#[test]
fn malformed_geojson_is_rejected_with_the_json_line() {
    let text =
        "{\"type\": \"FeatureCollection\",\n \"features\": [\n {\"type\": \"Feature\",, }\n]}";
    assert_parse_error(geojson(text), 3, "malformed JSON");
}

#[test]
fn geojson_polygon_is_not_a_trace() {
    let text = r#"{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": []}}"#;
    assert_parse_error(geojson(text), 1, "a Polygon is not a trace");
}

#[test]
fn geojson_time_running_backwards_is_rejected() {
    let text = "{\"type\": \"Feature\", \"properties\": {\"coordTimes\": [5, 4]},\n \"geometry\": {\"type\": \"LineString\", \"coordinates\": [\n[2, 1],\n[2, 1]]}}";
    assert_parse_error(geojson(text), 4, "time runs backwards");
}

// ---- files ----

#[test]
fn unknown_extension_is_rejected() {
    let r = read_trace("trace.kml");
    assert!(
        matches!(r, Err(Error::UnsupportedFormat { ref path, .. }) if path == "trace.kml"),
        "{r:?}"
    );
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let r = read_trace("/nonexistent/fencepost/trace.gpx");
    match r {
        Err(e @ Error::Io { .. }) => {
            assert!(e.to_string().contains("/nonexistent/fencepost/trace.gpx"))
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn non_utf8_file_is_rejected_with_its_line() {
    let dir = std::env::temp_dir().join(format!("fencepost-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("latin1.csv");
    std::fs::write(&path, b"time,lat,lon\n10,1,2\n11,1,2 \xe9\n").expect("write");
    let r = read_trace(&path);
    std::fs::remove_dir_all(&dir).ok();
    assert_parse_error(r, 3, "not valid UTF-8");
}

#[test]
fn gpx_lines_stay_right_when_a_comment_mentions_trkpt() {
    // The quick byte search would count the commented tag; the reader notices and rescans.
    let doc = gpx_doc(
        "<!-- <trkpt lat=\"0\" lon=\"0\"> -->\n<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt>\n\n<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:01Z</time></trkpt>\n",
    );
    let points = parse_trace_points_str(&doc, TraceFormat::Gpx, "t.gpx").expect("valid");
    assert_eq!(
        points.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![5, 7]
    );
}
