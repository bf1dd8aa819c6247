//! `fencepost simulate` end to end: the real binary, real companions, a real server (in-process, or a
//! separately started `fencepost serve`), real Helsinki streets. Each test checks the run's guarantees
//! from its JSON summary: nothing lost, nothing duplicated server-side, every order accounted for.

mod support;

use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;
use support::server::{binary, TestServer, ADMIN_TOKEN};

/// One simulation at a time: each runs a server, a proxy and a companion thread per driver, and
/// simulated time is paced against real time; sharing two cores between runs only slows them all.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn simulate(args: &[&str], env: &[(&str, &str)]) -> (Value, String) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = Command::new(binary());
    cmd.arg("simulate").arg("--json").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the fencepost binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "simulate {args:?} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let summary: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (summary, stderr)
}

fn n(v: &Value, path: &[&str]) -> f64 {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

/// The guarantees of every run, whatever the network did.
fn assert_invariants(s: &Value, orders: f64) {
    assert_eq!(n(s, &["messages_lost"]), 0.0, "{s:#}");
    assert_eq!(n(s, &["duplicated_side_effects"]), 0.0, "{s:#}");
    assert_eq!(n(s, &["orders", "placed"]), orders, "{s:#}");
    assert_eq!(n(s, &["orders", "unfinished"]), 0.0, "{s:#}");
    assert_eq!(
        n(s, &["orders", "delivered"]) + n(s, &["orders", "cancelled"]),
        orders,
        "every order delivered or cancelled: {s:#}"
    );
}

#[test]
fn default_run_delivers_every_order_and_measures_detection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.html");
    let report_arg = report.to_string_lossy().into_owned();
    let (s, _) = simulate(&["--report", &report_arg], &[]);
    assert_invariants(&s, 12.0);
    assert_eq!(
        n(&s, &["orders", "delivered"]),
        12.0,
        "no faults: all delivered: {s:#}"
    );
    assert_eq!(s["backend"], "in-process");
    // Arrival detection measured against ground truth on both legs, within seconds at the median.
    let store_median = n(&s, &["store_arrival", "latency_s", "median"]);
    assert!(
        (-10.0..=30.0).contains(&store_median),
        "store median {store_median}"
    );
    assert!(
        n(&s, &["store_arrival", "latency_s", "count"]) >= 10.0,
        "{s:#}"
    );
    assert!(
        n(&s, &["customer_arrival", "latency_s", "count"]) >= 8.0,
        "{s:#}"
    );
    assert!(n(&s, &["eta", "count"]) > 100.0);
    // Real streets: routes are longer than the straight line, and cars stopped at red lights.
    let circuity = n(&s, &["route", "median_circuity"]);
    assert!((1.05..4.0).contains(&circuity), "circuity {circuity}");
    assert!(n(&s, &["route", "stops_at_lights"]) > 0.0);
    assert!(n(&s, &["requests_per_delivery"]) > 5.0);
    assert!(
        n(&s, &["drivers_offline"]) >= 1.0,
        "some phones go offline: {s:#}"
    );

    let html = std::fs::read_to_string(&report).expect("the report was written");
    assert!(html.contains("<svg class=\"map\""), "a map per delivery");
    assert_eq!(html.matches("<svg class=\"map\"").count(), 12);
    assert!(html.contains("class=\"chart eta-error\"") && html.contains("class=\"chart latency\""));
    // Self-contained: nothing to fetch (the SVG namespace URI is a name, not a request).
    for fetch in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(fetch), "the report must not load {fetch}");
    }
}

#[test]
fn same_seed_same_world() {
    let args = ["--orders", "3", "--drivers", "2", "--seed", "7"];
    let (a, _) = simulate(&args, &[]);
    let (b, _) = simulate(&args, &[]);
    let (c, _) = simulate(&["--orders", "3", "--drivers", "2", "--seed", "8"], &[]);
    // Stores, customers, drivers' starts, habits and offline windows come from the seed alone. (Which
    // driver the server offers an order to also depends on when each phone polled, in real time.)
    assert_eq!(a["world"], b["world"], "{a:#}\n{b:#}");
    assert_ne!(a["world"], c["world"]);
    assert_invariants(&a, 3.0);
    assert_invariants(&b, 3.0);
}

#[test]
fn faults_lose_nothing_and_duplicate_nothing() {
    let (s, _) = simulate(
        &[
            "--faults",
            "0.3",
            "--orders",
            "6",
            "--drivers",
            "4",
            "--seed",
            "3",
        ],
        &[],
    );
    assert_invariants(&s, 6.0);
    assert!(
        n(&s, &["faults_injected"]) > 10.0,
        "faults were injected: {s:#}"
    );
    assert!(
        n(&s, &["outbox_retries"]) > 0.0,
        "the outbox retried: {s:#}"
    );
}

#[test]
fn drives_a_separately_started_server() {
    let server = TestServer::start();
    let (s, _) = simulate(
        &[
            "--backend",
            &server.base,
            "--orders",
            "4",
            "--drivers",
            "3",
            "--seed",
            "5",
        ],
        &[("FENCEPOST_ADMIN_TOKEN", ADMIN_TOKEN)],
    );
    assert_invariants(&s, 4.0);
    assert_eq!(s["backend"], server.base.as_str());
    assert!(n(&s, &["orders", "delivered"]) >= 3.0, "{s:#}");
}

#[test]
fn bad_options_are_refused_with_a_message() {
    let out = Command::new(binary())
        .args(["simulate", "--faults", "1.5"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--faults must be between 0 and 1"));
    let out = Command::new(binary())
        .args(["simulate", "--backend", "http://127.0.0.1:9"])
        .env_remove("FENCEPOST_ADMIN_TOKEN")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FENCEPOST_ADMIN_TOKEN"));
}
