//! End-to-end: run the real `fencepost replay` binary on real and generated fixtures and on broken
//! files, and check what it prints and how it exits.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .arg("replay")
        .args(args)
        .current_dir(root())
        .output()
        .expect("the fencepost binary runs")
}

fn stdout_events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn field<'a>(event: &'a Value, key: &str) -> &'a str {
    event[key].as_str().unwrap_or_default()
}

/// Seconds since midnight of an RFC 3339 UTC time ("…THH:MM:SS[.fff]Z"); all fixtures here stay
/// within one day.
fn seconds_of_day(time: &str) -> f64 {
    assert!(time.ends_with('Z'), "not UTC: {time}");
    let clock = &time[11..time.len() - 1];
    let mut parts = clock.split(':');
    let mut next = || -> f64 {
        parts
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad time {time}"))
    };
    next() * 3600.0 + next() * 60.0 + next()
}

fn events_of<'a>(events: &'a [Value], kind: &str, fence: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| field(e, "event") == kind && field(e, "fence_id") == fence)
        .collect()
}

/// A scratch directory for broken input files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("fencepost-replay-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const VISNJAN: &str = "fixtures/traces/visnjan_car_gpxpy/around-visnjan-with-car.gpx";
const VISNJAN_FENCES: &str = "fixtures/fences/visnjan.geojson";

/// The README's first command, on the real Višnjan drive (fixtures/README.md explains the fences).
#[test]
fn readme_command_arrives_at_the_real_stop_and_not_on_bends_driven_through() {
    let out = replay(&[
        "--trace",
        VISNJAN,
        "--fences",
        VISNJAN_FENCES,
        "--target",
        "stop-2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "a clean trace gives no warnings");
    let events = stdout_events(&out);

    // The contract: event, fence_id, RFC 3339 UTC time, in time order.
    let mut last = 0.0;
    for e in &events {
        assert!(
            !field(e, "event").is_empty() && !field(e, "fence_id").is_empty(),
            "{e}"
        );
        let t = seconds_of_day(field(e, "time"));
        assert!(t >= last, "events out of time order at {e}");
        last = t;
    }

    // The car comes to rest at stop-2 at 06:19:39; the logger's next fix is at 06:19:56 (it writes
    // little while stationary), so that fix is the earliest an arrival can be known.
    let arrived = events_of(&events, "arrived", "stop-2");
    assert_eq!(
        arrived.len(),
        1,
        "exactly one arrival at stop-2: {arrived:?}"
    );
    let t = seconds_of_day(field(arrived[0], "time"));
    assert!(
        (6.0 * 3600.0 + 19.0 * 60.0 + 39.0..=6.0 * 3600.0 + 19.0 * 60.0 + 56.0).contains(&t),
        "arrival at {}",
        field(arrived[0], "time")
    );
    // It leaves at 06:21:37 and exits once, after that.
    let exited = events_of(&events, "exited", "stop-2");
    assert_eq!(exited.len(), 1);
    assert!(seconds_of_day(field(exited[0], "time")) > 6.0 * 3600.0 + 21.0 * 60.0 + 37.0);

    // Bends driven through at ~9 m/s: never an arrival.
    for bend in ["bend-north", "bend-west"] {
        assert!(
            events_of(&events, "arrived", bend).is_empty(),
            "arrived at {bend}"
        );
    }
    // Back home: an arrival at stop-1 after the return (06:22:36 onwards).
    let home = events_of(&events, "arrived", "stop-1");
    assert!(
        home.iter()
            .any(|e| seconds_of_day(field(e, "time")) >= 6.0 * 3600.0 + 22.0 * 60.0 + 36.0),
        "{home:?}"
    );

    // Target events carry distance and ETA; non-target fences get none.
    let eta = events_of(&events, "eta", "stop-2");
    assert!(!eta.is_empty());
    for e in eta
        .iter()
        .chain(events_of(&events, "approaching", "stop-2").iter())
    {
        assert!(e["distance_m"].as_f64().is_some_and(|d| d >= 0.0), "{e}");
        assert!(e["eta_s"].as_f64().is_some_and(|s| s >= 0.0), "{e}");
    }
    assert!(events
        .iter()
        .filter(|e| field(e, "fence_id") != "stop-2")
        .all(|e| e.get("distance_m").is_none() && e.get("eta_s").is_none()));
}

/// The generated trace (fixtures/synthetic, noise model on top of a drive along real roads):
/// arrivals at both labelled stops within 15 s of the label, one each, none for the stretch
/// driven through.
#[test]
fn synthetic_drive_arrives_at_labelled_stops_within_15_s() {
    let out = replay(&[
        "--trace",
        "fixtures/synthetic/drive.csv",
        "--fences",
        "fixtures/synthetic/drive_fences.geojson",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = stdout_events(&out);
    let labels: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/synthetic/drive_labels.json"))
            .expect("labels file"),
    )
    .expect("labels are JSON");
    let stops = labels["stops"].as_array().expect("stops array");
    assert_eq!(stops.len(), 2);
    for stop in stops {
        let id = field(stop, "fence_id");
        let label = seconds_of_day(field(stop, "arrival"));
        let arrived = events_of(&events, "arrived", id);
        assert_eq!(arrived.len(), 1, "{id}: {arrived:?}");
        let latency = seconds_of_day(field(arrived[0], "time")) - label;
        assert!(
            (0.0..=15.0).contains(&latency),
            "{id}: latency {latency:.1} s"
        );
    }
    assert!(events_of(&events, "arrived", "syn-pass-0").is_empty());
}

#[test]
fn bad_fixes_inside_a_valid_trace_are_skipped_with_a_warning_naming_the_line() {
    let dir = Scratch::new("warn");
    // 40 s parked at a fence's centre, 1 Hz; line 4 steps back in time, line 6 has a NaN latitude.
    let mut csv = String::from("time,lat,lon,accuracy_m\n");
    for s in 0..40 {
        let (t, lat) = match s {
            2 => (0, "45.2763275".to_string()),
            4 => (s, "NaN".to_string()),
            _ => (s, "45.2763275".to_string()),
        };
        csv.push_str(&format!("{},{lat},13.7197945,5\n", 1_700_000_000 + t));
    }
    let trace = dir.file("parked.csv", &csv);
    let out = replay(&["--trace", &trace, "--fences", VISNJAN_FENCES]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{trace}:4: warning: fix skipped: time runs backwards"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{trace}:6: warning: fix skipped: lat is not a finite number"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    // The replay went on: the parked car arrives.
    assert_eq!(
        events_of(&stdout_events(&out), "arrived", "stop-2").len(),
        1
    );
}

/// Runs replay expecting failure; returns stderr.
fn failing(args: &[&str]) -> String {
    let out = replay(args);
    assert!(!out.status.success(), "expected failure for {args:?}");
    assert!(out.stdout.is_empty(), "no events on failure");
    stderr(&out)
}

#[test]
fn broken_trace_files_fail_with_file_line_and_reason() {
    let dir = Scratch::new("trace");
    let csv = dir.file(
        "short.csv",
        "time,lat,lon\n1700000000,45.2,13.7\n1700000001,45.2\n",
    );
    let err = failing(&["--trace", &csv, "--fences", VISNJAN_FENCES]);
    assert!(
        err.contains(&format!("{csv}:3: this row has 2 fields")),
        "{err}"
    );

    let gpx = dir.file(
        "broken.gpx",
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time>\n</trkseg></trk></gpx>\n",
    );
    let err = failing(&["--trace", &gpx, "--fences", VISNJAN_FENCES]);
    assert!(err.contains(&format!("{gpx}:5: malformed XML")), "{err}");

    let geojson = dir.file(
        "no-time.geojson",
        "{\"type\": \"FeatureCollection\", \"features\": [\n{\"type\": \"Feature\", \"properties\": {}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [13.7, 45.2]}}\n]}",
    );
    let err = failing(&["--trace", &geojson, "--fences", VISNJAN_FENCES]);
    assert!(
        err.contains(&format!("{geojson}:2: Point feature has no `time`")),
        "{err}"
    );

    let kml = dir.file("trace.kml", "<kml/>");
    let err = failing(&["--trace", &kml, "--fences", VISNJAN_FENCES]);
    assert!(err.contains("unsupported file type"), "{err}");

    let err = failing(&[
        "--trace",
        "/nonexistent/trace.gpx",
        "--fences",
        VISNJAN_FENCES,
    ]);
    assert!(err.contains("/nonexistent/trace.gpx"), "{err}");
}

#[test]
fn broken_fences_config_and_target_fail_with_a_reason() {
    let dir = Scratch::new("fences");
    let fences = dir.file(
        "dup.geojson",
        "{\"type\": \"FeatureCollection\", \"features\": [\n{\"type\": \"Feature\", \"properties\": {\"id\": \"a\", \"radius_m\": 40}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [13.7, 45.2]}},\n{\"type\": \"Feature\", \"properties\": {\"id\": \"a\", \"radius_m\": 40}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [13.7, 45.2]}}\n]}",
    );
    let err = failing(&["--trace", VISNJAN, "--fences", &fences]);
    assert!(
        err.contains(&format!("{fences}:3: duplicate fence id `a`")),
        "{err}"
    );

    let config = dir.file("config.json", "{\n  \"stop_hold_s\": \"soon\"\n}");
    let err = failing(&[
        "--trace",
        VISNJAN,
        "--fences",
        VISNJAN_FENCES,
        "--config",
        &config,
    ]);
    assert!(
        err.contains(&format!("{config}:2: invalid engine config")),
        "{err}"
    );

    let err = failing(&[
        "--trace",
        VISNJAN,
        "--fences",
        VISNJAN_FENCES,
        "--target",
        "stop-9",
    ]);
    assert!(
        err.contains("stop-9") && err.contains("no such fence"),
        "{err}"
    );
}

#[test]
fn a_config_file_changes_the_engine() {
    let dir = Scratch::new("config");
    // An absurd stop radius of 0.5 m: GPS jitter at the stop exceeds it, so stopping is never
    // recognised; with no dwell fallback, no arrival at stop-2. Proves --config is read and applied.
    let config = dir.file(
        "config.json",
        "{\"stop_radius_m\": 0.5, \"stop_speed_mps\": 0.01}",
    );
    let out = replay(&[
        "--trace",
        VISNJAN,
        "--fences",
        VISNJAN_FENCES,
        "--config",
        &config,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let with_config = events_of(&stdout_events(&out), "arrived", "stop-2").len();
    assert_eq!(with_config, 0);
}

#[test]
fn help_documents_output_and_warnings() {
    let out = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(["replay", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("skipped with a warning"), "{help}");
    assert!(help.contains("FILE:LINE: REASON"), "{help}");
}
