//! The whole `fencepost replay` pipeline against merely parsing the same trace, 100 fences.
//!
//! `cargo bench -p fencepost-core --bench replay_pipeline` runs the criterion group, then prints the
//! ratio the issue sets a target for (full pipeline ÷ parse only ≤ 3), measured in the same run, for:
//! - the real Limerick bus trace as GPX (2,144 fixes at 1 Hz; XML parsing is the slow part), and
//! - the same fixes written as CSV (a much cheaper parse, so a much harder ratio).
//!
//! "Parse" is `io::parse_trace_points_str` on text already in memory (both sides start from the same
//! text, so disk caching cannot favour either). "Full" is parse + building the engine over 100 fences
//! + cleaning and evaluating every fix (`io::replay`) + writing every event as a JSON line into a
//!   buffered sink, exactly as the CLI does except for the final destination.
//!
//! For honesty about the GPX figure, the printout also gives the gpx crate's own parse time (our GPX
//! reader adds an xml-rs pass for line numbers, which makes the denominator larger) and splits the
//! full pipeline into engine-only and event-writing-only parts.
//!
//! The 100 fences are 40 m circles: every 20th fix of the route (so the bus really enters, stops at
//! and leaves some of them) and the rest scattered within 2 km of the route, with one target.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::io::{self, TraceFormat};
use fencepost_core::{Fence, FenceShape, GeofenceEvent, LocationFix};

const FENCES: usize = 100;

fn limerick_gpx() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/traces/limerick_bus_304/304_to_UL_2019-02-18_0745.gpx");
    std::fs::read_to_string(path).expect("the Limerick fixture is readable")
}

fn as_csv(fixes: &[LocationFix]) -> String {
    let mut out = String::from("time,lat,lon\n");
    for f in fixes {
        out.push_str(&format!(
            "{:.3},{},{}\n",
            f.time_ms as f64 / 1000.0,
            f.lat,
            f.lon
        ));
    }
    out
}

fn fences(route: &[LocationFix]) -> Vec<Fence> {
    let mut fences: Vec<Fence> = route
        .iter()
        .step_by(20)
        .take(FENCES / 2)
        .enumerate()
        .map(|(i, f)| circle(format!("on-route-{i}"), f.lat, f.lon))
        .collect();
    // Scatter the rest deterministically around the route's first fix (±0.02° ≈ ±2 km).
    let (lat0, lon0) = (route[0].lat, route[0].lon);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 0.04 - 0.02
    };
    while fences.len() < FENCES {
        let i = fences.len();
        fences.push(circle(
            format!("scattered-{i}"),
            lat0 + next(),
            lon0 + next(),
        ));
    }
    fences
}

fn circle(id: String, lat: f64, lon: f64) -> Fence {
    Fence {
        id,
        shape: FenceShape::Circle {
            lat,
            lon,
            radius_m: 40.0,
        },
        dwell_s: None,
        approach_m: Some(300.0),
    }
}

fn parse_only(text: &str, format: TraceFormat) -> usize {
    io::parse_trace_points_str(text, format, "bench")
        .expect("bench trace parses")
        .len()
}

fn full_replay(text: &str, format: TraceFormat, fences: &[Fence]) -> usize {
    let points = io::parse_trace_points_str(text, format, "bench").expect("bench trace parses");
    let mut engine =
        GeofenceEngine::new(fences.to_vec(), EngineConfig::default()).expect("valid fences");
    engine
        .set_target(Some("on-route-40"))
        .expect("the target exists");
    let mut out = BufWriter::new(std::io::sink());
    let summary =
        io::replay(&points, &mut engine, &mut out, |_| {}).expect("writing to a sink works");
    out.flush().expect("flushing a sink works");
    summary.events
}

/// Only the engine: clean + evaluate every already-parsed fix, events dropped.
fn engine_only(points: &[io::TracePoint], fences: &[Fence]) -> usize {
    let mut engine =
        GeofenceEngine::new(fences.to_vec(), EngineConfig::default()).expect("valid fences");
    engine
        .set_target(Some("on-route-40"))
        .expect("the target exists");
    points
        .iter()
        .filter_map(|p| p.fix.clone().ok())
        .map(|fix| engine.process(fix).map_or(0, |events| events.len()))
        .sum()
}

/// Only the output: the given events written as JSON lines into a buffered sink.
fn write_only(events: &[GeofenceEvent]) -> usize {
    let mut out = BufWriter::new(std::io::sink());
    for event in events {
        io::write_event(&mut out, event).expect("writing to a sink works");
    }
    out.flush().expect("flushing a sink works");
    events.len()
}

/// Median seconds of `f` over `rounds` runs after one warm-up.
fn median_seconds(rounds: usize, mut f: impl FnMut() -> usize) -> f64 {
    let mut samples: Vec<f64> = (0..=rounds)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64()
        })
        .skip(1)
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let gpx = limerick_gpx();
    let fixes = io::parse_trace_str(&gpx, TraceFormat::Gpx, "limerick").expect("fixture parses");
    let csv = as_csv(&fixes);
    let fences = fences(&fixes);
    let inputs = [
        ("gpx", &gpx, TraceFormat::Gpx),
        ("csv", &csv, TraceFormat::Csv),
    ];

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group("replay_pipeline");
        group.measurement_time(Duration::from_secs(3));
        for (name, text, format) in inputs {
            group.bench_function(format!("parse_only/{name}"), |b| {
                b.iter(|| parse_only(black_box(text), format))
            });
            group.bench_function(format!("full_replay/{name}"), |b| {
                b.iter(|| full_replay(black_box(text), format, &fences))
            });
        }
        group.finish();
    }
    c.final_summary();

    // `cargo test --benches` runs each benchmark once as a smoke test; the timed ratios only make
    // sense under `cargo bench` (optimised, with `--bench`).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "replay pipeline vs parse only, {} fixes, {FENCES} fences (median of 15, same run):",
        fixes.len()
    );
    for (name, text, format) in inputs {
        let parse = median_seconds(15, || parse_only(text, format));
        let full = median_seconds(15, || full_replay(text, format, &fences));
        let events = full_replay(text, format, &fences);
        println!(
            "  {name}: parse {:.2} ms, full {:.2} ms ({events} events), ratio {:.2} (target ≤ 3)",
            parse * 1e3,
            full * 1e3,
            full / parse
        );
    }

    let points = io::parse_trace_points_str(&gpx, TraceFormat::Gpx, "bench").expect("parses");
    let mut engine =
        GeofenceEngine::new(fences.clone(), EngineConfig::default()).expect("valid fences");
    engine
        .set_target(Some("on-route-40"))
        .expect("the target exists");
    let events: Vec<GeofenceEvent> = points
        .iter()
        .filter_map(|p| p.fix.clone().ok())
        .flat_map(|fix| engine.process(fix).unwrap_or_default())
        .collect();
    let gpx_crate = median_seconds(15, || {
        gpx::read(gpx.as_bytes())
            .map(|g| g.tracks.len())
            .expect("gpx crate parses the fixture")
    });
    let engine_s = median_seconds(15, || engine_only(&points, &fences));
    let write_s = median_seconds(15, || write_only(&events));
    println!("  breakdown:");
    println!(
        "    gpx crate alone (no line numbers) {:.2} ms",
        gpx_crate * 1e3
    );
    println!(
        "    engine only (clean + evaluate)    {:.2} ms = {:.2} µs per fix",
        engine_s * 1e3,
        engine_s * 1e6 / fixes.len() as f64
    );
    println!(
        "    writing {} events only          {:.2} ms",
        events.len(),
        write_s * 1e3
    );
}
