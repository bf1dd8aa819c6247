//! Road circuity learned from the drive itself: metres driven ÷ straight-line metres closed toward
//! the target.
//!
//! A fixed factor is wrong wherever the street grid differs from the average city: central Helsinki's
//! routes are 1.58–1.78× the straight line against the 1.3 the engine assumed, and every ETA came out
//! a quarter short. The driver's own trip measures the local value. The estimate is
//!
//! ```text
//!   ĉ = (driven_m + w · prior) / (closed_m + w)      clamped to [1, max_circuity]
//! ```
//!
//! a weighted mean of the observed ratio and the configured prior, where the prior counts as `w`
//! metres of evidence (`circuity_prior_weight_m`): at the start of a shift the ETA rests on the prior,
//! after a few kilometres on the streets actually driven. Evidence carries over between legs (the
//! next leg is in the same city) but fades: once more than `circuity_memory_m` straight-line metres
//! have been closed, both sums are scaled down so the oldest kilometres weigh less and the estimate
//! can follow a change of district.
//!
//! Only moving hops count: GPS jitter while parked adds distance driven but closes nothing. A leg's
//! first fix only sets the reference distance (the hop before it belongs to the previous leg), and
//! nothing is observed inside the target, where the straight-line distance is 0. Cost per fix: a few
//! additions, no allocation.

use crate::engine::EngineConfig;

#[derive(Debug, Clone, Default)]
pub(crate) struct CircuityEstimator {
    /// Metres driven while closing `closed_m`, over the remembered evidence.
    driven_m: f64,
    /// Straight-line metres closed toward the target (negative when driving away).
    closed_m: f64,
    /// Straight-line distance to the target at the previous fix of this leg.
    last_distance_m: Option<f64>,
}

impl CircuityEstimator {
    /// A new leg: the next fix only sets the reference distance. Evidence is kept.
    pub fn start_leg(&mut self) {
        self.last_distance_m = None;
    }

    /// One accepted fix on a leg: `hop_m` driven since the previous fix, now `distance_m` straight-line
    /// from the target (0 inside), `moving` as the cleaner judged it.
    pub fn observe(&mut self, config: &EngineConfig, hop_m: f64, distance_m: f64, moving: bool) {
        let last = self.last_distance_m.replace(distance_m);
        let Some(last) = last else {
            return;
        };
        if !moving || distance_m <= 0.0 || last <= 0.0 || !hop_m.is_finite() {
            return;
        }
        self.driven_m += hop_m;
        self.closed_m += last - distance_m;
        let memory = config.circuity_memory_m;
        if memory > 0.0 && self.closed_m > memory {
            let keep = memory / self.closed_m;
            self.driven_m *= keep;
            self.closed_m = memory;
        }
    }

    /// The circuity to apply to the straight-line distance still to go.
    pub fn estimate(&self, config: &EngineConfig) -> f64 {
        let max = config.max_circuity.max(1.0);
        let prior = config.circuity_factor.clamp(1.0, max);
        let w = config.circuity_prior_weight_m;
        let denominator = self.closed_m + w;
        if denominator <= 0.0 {
            // No evidence and no prior weight: the prior. Otherwise the driver has moved away from the
            // target by more than the prior's weight: as winding as allowed.
            return if self.driven_m == 0.0 && self.closed_m == 0.0 {
                prior
            } else {
                max
            };
        }
        ((self.driven_m + w * prior) / denominator).clamp(1.0, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(e: &mut CircuityEstimator, config: &EngineConfig, start_m: f64, hops: &[(f64, f64)]) {
        e.start_leg();
        e.observe(config, 0.0, start_m, true);
        let mut distance = start_m;
        for &(hop, closed) in hops {
            distance -= closed;
            e.observe(config, hop, distance, true);
        }
    }

    #[test]
    fn no_evidence_is_the_prior() {
        let config = EngineConfig::default();
        assert_eq!(
            CircuityEstimator::default().estimate(&config),
            config.circuity_factor
        );
    }

    #[test]
    fn evidence_is_a_weighted_mean_with_the_prior() {
        let config = EngineConfig::default();
        let mut e = CircuityEstimator::default();
        // 500 m closed by driving 1000 m (ratio 2.0), as much evidence as the prior's weight.
        drive(&mut e, &config, 3000.0, &[(100.0, 50.0); 10]);
        let expected = (1000.0 + 500.0 * 1.3) / (500.0 + 500.0);
        assert!((e.estimate(&config) - expected).abs() < 1e-9);
    }

    #[test]
    fn stopped_hops_and_the_first_fix_of_a_leg_count_nothing() {
        let config = EngineConfig::default();
        let mut e = CircuityEstimator::default();
        e.observe(&config, 400.0, 2000.0, true); // first fix: reference only
        e.observe(&config, 30.0, 2000.0, false); // parked jitter
        assert_eq!(e.estimate(&config), config.circuity_factor);
        e.observe(&config, 150.0, 1900.0, true);
        let expected = (150.0 + 500.0 * 1.3) / (100.0 + 500.0);
        assert!((e.estimate(&config) - expected).abs() < 1e-9);
    }

    #[test]
    fn evidence_carries_over_legs_and_old_evidence_fades() {
        let config = EngineConfig::default();
        let mut e = CircuityEstimator::default();
        // A long leg at 2.0 fills the memory; the next leg at 1.2 pulls the estimate down.
        drive(&mut e, &config, 20_000.0, &[(200.0, 100.0); 100]);
        let after_first = e.estimate(&config);
        assert!(after_first > 1.85, "{after_first}");
        drive(&mut e, &config, 20_000.0, &[(120.0, 100.0); 100]);
        let after_second = e.estimate(&config);
        assert!(after_second < 1.45, "{after_second}");
        assert!(e.closed_m <= config.circuity_memory_m + 1e-9);
    }

    #[test]
    fn the_estimate_stays_within_its_bounds() {
        let config = EngineConfig::default();
        // Closing faster than driving (GPS noise) cannot go under 1.
        let mut e = CircuityEstimator::default();
        drive(&mut e, &config, 5000.0, &[(50.0, 100.0); 20]);
        assert_eq!(e.estimate(&config), 1.0);
        // Driving away cannot go over the maximum.
        let mut e = CircuityEstimator::default();
        drive(&mut e, &config, 5000.0, &[(100.0, -100.0); 20]);
        assert_eq!(e.estimate(&config), config.max_circuity);
    }
}
