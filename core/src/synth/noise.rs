//! The phone error model; see the module doc of `synth` for the figures and their sources.

use super::local::offset_by_metres;
use crate::fix::{LocationFix, Provider};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// √(−2 ln 0.32): the 68 % radius of a circular Gaussian, in units of its per-axis σ.
const R68_PER_SIGMA: f64 = 1.509_592;

/// Position error laid over true fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseModel {
    /// Stationary horizontal (2-D) RMS of the correlated error, metres.
    pub rms_m: f64,
    /// Correlation time of the Ornstein–Uhlenbeck error, seconds.
    pub tau_s: f64,
    /// Short multipath jumps, or none.
    pub multipath: Option<Multipath>,
    /// Log-normal spread of the reported accuracy around the true 68 % radius.
    pub accuracy_log_sigma: f64,
    /// Standard deviation of the reported speed, m/s.
    pub speed_sigma_mps: f64,
}

/// Multipath jumps: a Poisson process of offsets with uniform size, direction and duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Multipath {
    pub rate_per_s: f64,
    pub min_m: f64,
    pub max_m: f64,
    pub min_s: f64,
    pub max_s: f64,
}

impl NoiseModel {
    /// A phone in a city: 8 m RMS, τ = 30 s, a 30–80 m jump every 5 minutes on average.
    pub fn urban() -> Self {
        Self {
            rms_m: 8.0,
            tau_s: 30.0,
            multipath: Some(Multipath {
                rate_per_s: 1.0 / 300.0,
                min_m: 30.0,
                max_m: 80.0,
                min_s: 2.0,
                max_s: 10.0,
            }),
            accuracy_log_sigma: 0.25,
            speed_sigma_mps: 0.3,
        }
    }

    /// The same model without multipath jumps (for isolating the correlated part).
    pub fn without_multipath(mut self) -> Self {
        self.multipath = None;
        self
    }

    /// The 68 % radius the phone would report without estimation error or multipath.
    pub fn accuracy_68_m(&self) -> f64 {
        self.sigma_per_axis() * R68_PER_SIGMA
    }

    fn sigma_per_axis(&self) -> f64 {
        self.rms_m / std::f64::consts::SQRT_2
    }

    /// Noisy copies of `truth` (assumed in time order), deterministic for `seed`.
    pub fn apply(&self, truth: &[LocationFix], seed: u64) -> Vec<LocationFix> {
        let mut rng = StdRng::seed_from_u64(seed);
        let sigma = self.sigma_per_axis();
        // Start from the stationary distribution, so the first fix is as noisy as the rest.
        let mut east = sigma * normal(&mut rng);
        let mut north = sigma * normal(&mut rng);
        let mut jump = Jump::default();
        let mut previous_ms: Option<i64> = None;

        truth
            .iter()
            .map(|fix| {
                let dt = previous_ms.map_or(0.0, |p| ((fix.time_ms - p).max(0) as f64) / 1000.0);
                previous_ms = Some(fix.time_ms);
                let phi = (-dt / self.tau_s).exp();
                let step = sigma * (1.0 - phi * phi).sqrt();
                east = east * phi + step * normal(&mut rng);
                north = north * phi + step * normal(&mut rng);
                if let Some(m) = &self.multipath {
                    jump.advance(m, fix.time_ms, dt, &mut rng);
                }
                let (jump_east, jump_north) = jump.offset(fix.time_ms);

                let (lat, lon) =
                    offset_by_metres(fix.lat, fix.lon, east + jump_east, north + jump_north);
                let estimated =
                    self.accuracy_68_m() * (self.accuracy_log_sigma * normal(&mut rng)).exp();
                let accuracy = estimated.max(0.5 * jump.size_at(fix.time_ms));
                let speed = fix
                    .speed_mps
                    .map(|s| (s + self.speed_sigma_mps * normal(&mut rng)).max(0.0));
                LocationFix {
                    time_ms: fix.time_ms,
                    lat,
                    lon,
                    accuracy_m: Some(round_to(accuracy, 0.1)),
                    speed_mps: speed,
                    bearing_deg: fix.bearing_deg.filter(|_| speed.is_some_and(|s| s > 1.0)),
                    provider: Provider::Fused,
                    is_mock: false,
                }
            })
            .collect()
    }
}

/// The current multipath jump, if any: its offset and when it ends.
#[derive(Default)]
struct Jump {
    east: f64,
    north: f64,
    size: f64,
    until_ms: i64,
}

impl Jump {
    fn advance(&mut self, m: &Multipath, now_ms: i64, dt: f64, rng: &mut StdRng) {
        if now_ms < self.until_ms {
            return;
        }
        // Probability that a Poisson process with this rate fires within dt.
        let p = 1.0 - (-m.rate_per_s * dt).exp();
        if rng.random::<f64>() < p {
            let size = m.min_m + (m.max_m - m.min_m) * rng.random::<f64>();
            let direction = std::f64::consts::TAU * rng.random::<f64>();
            let duration_s = m.min_s + (m.max_s - m.min_s) * rng.random::<f64>();
            *self = Self {
                east: size * direction.sin(),
                north: size * direction.cos(),
                size,
                until_ms: now_ms + (duration_s * 1000.0) as i64,
            };
        }
    }

    fn offset(&self, now_ms: i64) -> (f64, f64) {
        if now_ms < self.until_ms {
            (self.east, self.north)
        } else {
            (0.0, 0.0)
        }
    }

    fn size_at(&self, now_ms: i64) -> f64 {
        if now_ms < self.until_ms {
            self.size
        } else {
            0.0
        }
    }
}

fn normal(rng: &mut StdRng) -> f64 {
    rng.sample(StandardNormal)
}

fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}
