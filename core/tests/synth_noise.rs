//! The noise model has the statistics its documentation claims, and the drive generator's labels agree
//! with its own true fixes.

use fencepost_core::synth::{Drive, NoiseModel, StopSpec};
use fencepost_core::LocationFix;
use geo::{Distance, Geodesic, Point};

const LAT: f64 = 60.17;
const LON: f64 = 24.94;

/// A phone lying still for `n` seconds at 1 Hz.
fn stationary(n: usize) -> Vec<LocationFix> {
    (0..n)
        .map(|i| LocationFix::new(i as i64 * 1000, LAT, LON))
        .collect()
}

/// (east, north) error of each noisy fix, metres.
fn errors(noisy: &[LocationFix]) -> Vec<(f64, f64)> {
    let origin = Point::new(LON, LAT);
    noisy
        .iter()
        .map(|f| {
            let east = Geodesic.distance(origin, Point::new(f.lon, LAT)) * (f.lon - LON).signum();
            let north = Geodesic.distance(origin, Point::new(LON, f.lat)) * (f.lat - LAT).signum();
            (east, north)
        })
        .collect()
}

fn rms(errors: &[(f64, f64)]) -> f64 {
    (errors.iter().map(|(e, n)| e * e + n * n).sum::<f64>() / errors.len() as f64).sqrt()
}

/// Lag-k autocorrelation of the east error.
fn autocorrelation(errors: &[(f64, f64)], lag: usize) -> f64 {
    let xs: Vec<f64> = errors.iter().map(|e| e.0).collect();
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let var: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    let cov: f64 = xs
        .windows(lag + 1)
        .map(|w| (w[0] - mean) * (w[lag] - mean))
        .sum();
    cov / var
}

#[test]
fn correlated_error_has_the_documented_rms_and_is_not_white() {
    let model = NoiseModel::urban().without_multipath();
    // 6 hours at 1 Hz: ~720 correlation times, so the sample RMS is within a few percent.
    let e = errors(&model.apply(&stationary(21_600), 7));
    let rms = rms(&e);
    assert!((7.0..9.0).contains(&rms), "RMS {rms:.2} m");
    // OU with τ = 30 s at Δ = 1 s: ρ(1) = e^(−1/30) ≈ 0.967, ρ(30) ≈ 0.37. White noise would give ~0.
    let r1 = autocorrelation(&e, 1);
    let r30 = autocorrelation(&e, 30);
    assert!(r1 > 0.9, "lag-1 autocorrelation {r1:.3}");
    assert!(
        (0.2..0.55).contains(&r30),
        "lag-30 autocorrelation {r30:.3}"
    );
}

#[test]
fn reported_accuracy_is_a_68_percent_radius() {
    let model = NoiseModel::urban().without_multipath();
    let noisy = model.apply(&stationary(21_600), 11);
    let e = errors(&noisy);
    let inside = noisy
        .iter()
        .zip(&e)
        .filter(|(f, (x, y))| (x * x + y * y).sqrt() <= f.accuracy_m.unwrap_or(0.0))
        .count() as f64
        / noisy.len() as f64;
    assert!(
        (0.6..0.76).contains(&inside),
        "{inside:.3} of errors within the reported accuracy"
    );
    let median_accuracy = {
        let mut a: Vec<f64> = noisy.iter().filter_map(|f| f.accuracy_m).collect();
        a.sort_by(f64::total_cmp);
        a[a.len() / 2]
    };
    assert!(
        (7.5..9.5).contains(&median_accuracy),
        "median accuracy {median_accuracy:.1} m"
    );
}

#[test]
fn multipath_jumps_are_short_30_to_80_m_excursions() {
    let clean = NoiseModel::urban()
        .without_multipath()
        .apply(&stationary(36_000), 3);
    let jumpy = NoiseModel::urban().apply(&stationary(36_000), 3);
    // Same seed, but the jump draws shift the stream: compare the distributions, not fix by fix.
    let far = |v: &[LocationFix]| errors(v).iter().filter(|(e, n)| e.hypot(*n) > 35.0).count();
    let (far_clean, far_jumpy) = (far(&clean), far(&jumpy));
    // 10 h at one jump / 5 min of 2–10 s ≈ 120 jumps × 6 s ≈ 720 fixes displaced by 30–80 m; many
    // land beyond 35 m. Without jumps, 35 m is > 6 σ and essentially never reached.
    assert!(far_clean < 5, "{far_clean} far fixes without multipath");
    assert!(
        (200..1200).contains(&far_jumpy),
        "{far_jumpy} far fixes with multipath"
    );
    // No fix is displaced further than the largest jump plus a generous 6 σ of correlated error.
    let worst = errors(&jumpy)
        .iter()
        .map(|(e, n)| e.hypot(*n))
        .fold(0.0, f64::max);
    assert!(worst < 80.0 + 6.0 * 5.66, "worst error {worst:.1} m");
    // The phone notices part of a jump: reported accuracy exceeds 15 m on displaced fixes.
    let displaced_accuracy: Vec<f64> = jumpy
        .iter()
        .zip(errors(&jumpy))
        .filter(|(_, (e, n))| e.hypot(*n) > 50.0)
        .filter_map(|(f, _)| f.accuracy_m)
        .collect();
    assert!(displaced_accuracy.iter().all(|&a| a >= 15.0));
}

#[test]
fn noise_is_deterministic_for_a_seed_and_differs_between_seeds() {
    let truth = stationary(100);
    let model = NoiseModel::urban();
    assert_eq!(model.apply(&truth, 42), model.apply(&truth, 42));
    assert_ne!(model.apply(&truth, 42), model.apply(&truth, 43));
}

#[test]
fn drive_stops_at_each_stop_for_its_dwell_and_labels_it() {
    // A straight 2 km road due north, stops at 500 m (30 s) and 1500 m (60 s).
    let route = vec![(LAT, LON), (LAT + 2000.0 / 111_412.0, LON)];
    let stops = vec![
        StopSpec {
            along_m: 1500.0,
            dwell_s: 60.0,
        },
        StopSpec {
            along_m: 500.0,
            dwell_s: 30.0,
        },
    ];
    let drive = Drive::new(route, stops, 1_000_000);
    let (truth, labels) = drive.truth();

    assert_eq!(labels.len(), 2);
    assert_eq!(labels[0].index, 1, "labels come in route order");
    for label in &labels {
        let spec = &drive.stops[label.index];
        assert_eq!(
            label.departure_ms - label.arrival_ms,
            (spec.dwell_s * 1000.0) as i64
        );
        let stop = Point::new(label.lon, label.lat);
        // Every true fix between arrival and departure is at the stop, standing still.
        let during: Vec<&LocationFix> = truth
            .iter()
            .filter(|f| (label.arrival_ms..=label.departure_ms).contains(&f.time_ms))
            .collect();
        assert!(during.len() as f64 >= spec.dwell_s - 1.0);
        for f in during {
            assert!(Geodesic.distance(stop, Point::new(f.lon, f.lat)) < 0.01);
            assert_eq!(f.speed_mps, Some(0.0));
        }
    }
    // The first stop is 500 m along the road.
    let start = Point::new(LON, LAT);
    let d = Geodesic.distance(start, Point::new(labels[0].lon, labels[0].lat));
    assert!((d - 500.0).abs() < 1.0, "{d}");
    // Speeds never exceed cruise, and the vehicle ends at rest at the route's end.
    assert!(truth
        .iter()
        .all(|f| f.speed_mps.unwrap_or(0.0) <= drive.cruise_mps + 1e-9));
    assert!(truth.last().and_then(|f| f.speed_mps).unwrap_or(1.0) < 1e-6);
    // 1 s sampling, strictly increasing times.
    assert!(truth
        .windows(2)
        .all(|w| w[1].time_ms - w[0].time_ms == 1000));
}

#[test]
fn generated_trace_keeps_times_and_adds_noise() {
    let route = vec![(LAT, LON), (LAT + 0.01, LON + 0.01)];
    let drive = Drive::new(
        route,
        vec![StopSpec {
            along_m: 600.0,
            dwell_s: 20.0,
        }],
        0,
    );
    let trace = drive.generate(&NoiseModel::urban(), 5);
    assert_eq!(trace.truth.len(), trace.fixes.len());
    assert!(trace
        .truth
        .iter()
        .zip(&trace.fixes)
        .all(|(t, f)| t.time_ms == f.time_ms && f.accuracy_m.is_some()));
    assert!(trace.fixes.iter().all(|f| f.clone().normalized().is_ok()));
    assert_eq!(trace.stops.len(), 1);
}
