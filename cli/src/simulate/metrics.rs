//! Turning what happened into numbers: detection latency against ground truth, false arrivals, ETA
//! error by remaining time, traffic per delivery. Pure functions over observations, so they are tested
//! without a server.

use serde::Serialize;

/// An arrival the companion reported, and the truth it is judged against.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ArrivalObservation {
    /// When the car really came to rest inside the fence (ms); `None` if it never did on this leg.
    pub truth_ms: Option<i64>,
    /// When the companion's `arrived` fired (ms); `None` if it never fired.
    pub detected_ms: Option<i64>,
}

/// One ETA the companion reported, and when the car really arrived.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EtaObservation {
    pub at_ms: i64,
    pub eta_s: f64,
    pub truth_arrival_ms: i64,
}

impl EtaObservation {
    pub fn remaining_s(&self) -> f64 {
        (self.truth_arrival_ms - self.at_ms) as f64 / 1000.0
    }
    pub fn error_s(&self) -> f64 {
        self.eta_s - self.remaining_s()
    }
}

/// A detection fired earlier than this before the car stopped is not an arrival but a false one
/// (it would call the store out while the driver is still driving past).
pub const EARLY_TOLERANCE_MS: i64 = 10_000;

/// The remaining-time buckets ETA error is reported in (upper bounds, seconds).
pub const ETA_BUCKETS: &[(f64, &str)] = &[
    (120.0, "0-2 min"),
    (300.0, "2-5 min"),
    (600.0, "5-10 min"),
    (f64::INFINITY, "10+ min"),
];

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Distribution {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

/// Nearest-rank percentile of already sorted values; `q` in 0..=1.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

pub fn distribution(mut values: Vec<f64>) -> Distribution {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    Distribution {
        count: values.len(),
        median: percentile(&values, 0.5),
        p90: percentile(&values, 0.9),
        max: values.last().copied(),
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DetectionSummary {
    /// Seconds from the car stopping to the companion's `arrived` (negative: fired slightly early).
    pub latency_s: Distribution,
    /// The car stopped in the fence but no arrival fired.
    pub missed: usize,
    /// Arrivals that fired with no stop (driving through, or far too early).
    pub false_arrivals: usize,
}

pub fn detection(observations: &[ArrivalObservation]) -> DetectionSummary {
    let mut latencies = Vec::new();
    let (mut missed, mut false_arrivals) = (0, 0);
    for o in observations {
        match (o.truth_ms, o.detected_ms) {
            (Some(truth), Some(detected)) if detected >= truth - EARLY_TOLERANCE_MS => {
                latencies.push((detected - truth) as f64 / 1000.0);
            }
            (Some(_), Some(_)) => {
                // Fired well before the car stopped: a false arrival, and the real one went unseen.
                false_arrivals += 1;
                missed += 1;
            }
            (Some(_), None) => missed += 1,
            (None, Some(_)) => false_arrivals += 1,
            (None, None) => {}
        }
    }
    DetectionSummary {
        latency_s: distribution(latencies),
        missed,
        false_arrivals,
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EtaBucket {
    pub remaining: &'static str,
    pub count: usize,
    /// Median of |ETA − true remaining time|, seconds.
    pub median_abs_error_s: Option<f64>,
    /// Median of ETA − true remaining time: positive means the companion was pessimistic.
    pub median_bias_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EtaSummary {
    pub count: usize,
    pub median_abs_error_s: Option<f64>,
    pub by_remaining: Vec<EtaBucket>,
}

pub fn eta(observations: &[EtaObservation]) -> EtaSummary {
    let abs: Vec<f64> = observations.iter().map(|o| o.error_s().abs()).collect();
    let by_remaining = ETA_BUCKETS
        .iter()
        .enumerate()
        .map(|(i, &(upper, label))| {
            let lower = if i == 0 {
                f64::NEG_INFINITY
            } else {
                ETA_BUCKETS[i - 1].0
            };
            let in_bucket: Vec<&EtaObservation> = observations
                .iter()
                .filter(|o| o.remaining_s() > lower && o.remaining_s() <= upper)
                .collect();
            EtaBucket {
                remaining: label,
                count: in_bucket.len(),
                median_abs_error_s: distribution(
                    in_bucket.iter().map(|o| o.error_s().abs()).collect(),
                )
                .median,
                median_bias_s: distribution(in_bucket.iter().map(|o| o.error_s()).collect()).median,
            }
        })
        .collect();
    EtaSummary {
        count: observations.len(),
        median_abs_error_s: distribution(abs).median,
        by_remaining,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&v, 1.0), Some(10.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn detection_counts_latency_misses_and_false_arrivals() {
        let obs = [
            ArrivalObservation {
                truth_ms: Some(100_000),
                detected_ms: Some(104_000),
            },
            ArrivalObservation {
                truth_ms: Some(200_000),
                detected_ms: Some(198_000),
            },
            ArrivalObservation {
                truth_ms: Some(300_000),
                detected_ms: None,
            },
            ArrivalObservation {
                truth_ms: None,
                detected_ms: Some(400_000),
            },
            ArrivalObservation {
                truth_ms: Some(500_000),
                detected_ms: Some(450_000),
            },
        ];
        let d = detection(&obs);
        assert_eq!(d.latency_s.count, 2);
        assert_eq!(d.latency_s.median, Some(-2.0));
        assert_eq!(d.latency_s.max, Some(4.0));
        assert_eq!(d.missed, 2);
        assert_eq!(d.false_arrivals, 2);
    }

    #[test]
    fn eta_error_is_bucketed_by_true_remaining_time() {
        let obs = [
            // 60 s remaining, predicted 70: +10.
            EtaObservation {
                at_ms: 0,
                eta_s: 70.0,
                truth_arrival_ms: 60_000,
            },
            // 400 s remaining, predicted 300: -100.
            EtaObservation {
                at_ms: 0,
                eta_s: 300.0,
                truth_arrival_ms: 400_000,
            },
        ];
        let e = eta(&obs);
        assert_eq!(e.count, 2);
        assert_eq!(e.by_remaining[0].median_abs_error_s, Some(10.0));
        assert_eq!(e.by_remaining[0].median_bias_s, Some(10.0));
        assert_eq!(e.by_remaining[1].count, 0);
        assert_eq!(e.by_remaining[2].median_bias_s, Some(-100.0));
        assert_eq!(e.median_abs_error_s, Some(10.0));
    }
}
