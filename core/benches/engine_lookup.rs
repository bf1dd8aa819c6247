//! Per-fix cost of the geofence engine as the number of fences grows, the linear-scan baseline, and
//! the memory of 100,000 loaded fences.
//!
//! `cargo bench -p fencepost-core --bench engine_lookup` runs the criterion groups, then prints the
//! ratios the issue sets targets for, measured in the same run:
//! - index at 100,000 fences ÷ index at 10 fences (target ≤ 3);
//! - linear scan at 100,000 ÷ index at 100,000 (target ≥ 100);
//! - resident memory added by loading 100,000 fences (target ≤ 64 MiB; Linux `/proc/self/status`).
//!
//! Fences are 50 m circles on a 300 m grid around Helsinki: the same local density at every count (a
//! city's worth of stores at 10, a country's at 100,000), so the fix always has a fence or two nearby
//! and only the size of the whole set changes. The driver circles a 1 km loop at 10 m/s, 1 Hz.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use fencepost_core::engine::{EngineConfig, GeofenceEngine, Lookup};
use fencepost_core::{Fence, FenceShape, LocationFix};

const CENTRE: (f64, f64) = (60.17, 24.94);
const SPACING_M: f64 = 300.0;
const M_PER_DEG_LAT: f64 = 111_320.0;

fn grid_fences(n: usize) -> Vec<Fence> {
    let side = (n as f64).sqrt().ceil() as usize;
    let m_per_deg_lon = M_PER_DEG_LAT * CENTRE.0.to_radians().cos();
    (0..n)
        .map(|i| {
            let (row, col) = ((i / side) as f64, (i % side) as f64);
            let half = side as f64 / 2.0;
            let north = (row - half) * SPACING_M;
            let east = (col - half) * SPACING_M;
            Fence {
                id: format!("store-{i:06}"),
                shape: FenceShape::Circle {
                    lat: CENTRE.0 + north / M_PER_DEG_LAT,
                    lon: CENTRE.1 + east / m_per_deg_lon,
                    radius_m: 50.0,
                },
                dwell_s: None,
                approach_m: None,
            }
        })
        .collect()
}

/// An endless 1 Hz drive around a 1 km-radius loop at 10 m/s.
struct Driver {
    t_s: i64,
}

impl Driver {
    fn next_fix(&mut self) -> LocationFix {
        self.t_s += 1;
        let angle = self.t_s as f64 * 10.0 / 1000.0;
        let m_per_deg_lon = M_PER_DEG_LAT * CENTRE.0.to_radians().cos();
        let lat = CENTRE.0 + 1000.0 * angle.cos() / M_PER_DEG_LAT;
        let lon = CENTRE.1 + 1000.0 * angle.sin() / m_per_deg_lon;
        let mut fix = LocationFix::new(self.t_s * 1000, lat, lon);
        fix.accuracy_m = Some(8.0);
        fix
    }
}

fn engine(n: usize, lookup: Lookup) -> GeofenceEngine {
    GeofenceEngine::with_lookup(grid_fences(n), EngineConfig::default(), lookup)
        .expect("grid fences are valid")
}

fn per_fix(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_fix");
    group.measurement_time(Duration::from_secs(3));
    for (n, lookup, name) in [
        (10, Lookup::Index, "index"),
        (1_000, Lookup::Index, "index"),
        (100_000, Lookup::Index, "index"),
        (1_000, Lookup::LinearScan, "linear"),
        (100_000, Lookup::LinearScan, "linear"),
    ] {
        if lookup == Lookup::LinearScan && n == 100_000 {
            group.sample_size(10);
        }
        let mut e = engine(n, lookup);
        let mut driver = Driver { t_s: 0 };
        group.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| black_box(e.process(driver.next_fix()).expect("valid fix")))
        });
    }
    group.finish();
}

/// Median seconds per fix over `rounds` rounds of `fixes` fixes, after one warm-up round.
fn seconds_per_fix(n: usize, lookup: Lookup, fixes: usize, rounds: usize) -> f64 {
    let mut e = engine(n, lookup);
    let mut driver = Driver { t_s: 0 };
    let mut samples: Vec<f64> = (0..=rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..fixes {
                black_box(e.process(driver.next_fix()).expect("valid fix"));
            }
            start.elapsed().as_secs_f64() / fixes as f64
        })
        .skip(1)
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // Memory first, in a process that has not allocated anything else yet.
    let before = resident_kib();
    let loaded = engine(100_000, Lookup::Index);
    let after = resident_kib();
    let memory = before
        .zip(after)
        .map(|(b, a)| a.saturating_sub(b) as f64 / 1024.0);
    drop(black_box(loaded));

    let mut c = Criterion::default().configure_from_args();
    per_fix(&mut c);
    c.final_summary();

    let index_10 = seconds_per_fix(10, Lookup::Index, 5_000, 7);
    let index_1k = seconds_per_fix(1_000, Lookup::Index, 5_000, 7);
    let index_100k = seconds_per_fix(100_000, Lookup::Index, 5_000, 7);
    let linear_100k = seconds_per_fix(100_000, Lookup::LinearScan, 20, 5);
    println!("engine per-fix cost (median, same run):");
    println!("  index   10 fences      {:>10.2} µs", index_10 * 1e6);
    println!("  index   1,000 fences   {:>10.2} µs", index_1k * 1e6);
    println!("  index   100,000 fences {:>10.2} µs", index_100k * 1e6);
    println!("  linear  100,000 fences {:>10.2} µs", linear_100k * 1e6);
    println!(
        "  ratio index 100k / index 10:   {:.2} (target ≤ 3)",
        index_100k / index_10
    );
    println!(
        "  ratio linear 100k / index 100k: {:.0} (target ≥ 100)",
        linear_100k / index_100k
    );
    match memory {
        Some(mib) => {
            println!("  resident memory of 100,000 fences: {mib:.1} MiB (target ≤ 64 MiB)")
        }
        None => println!("  resident memory: /proc/self/status unavailable on this platform"),
    }
}
