//! Labelled synthetic GPS traces: a vehicle driven along a route polyline with a speed profile and
//! stops ([`Drive`]), and a phone-like error model laid over the true positions ([`NoiseModel`]).
//! Everything is deterministic for a seed, so tests and the simulator can replay the same trace.
//!
//! # The noise model ([`NoiseModel::urban`])
//!
//! Figures from `/work/shared/data/README.md` ("Published figures for a noise model"):
//! - **Size.** Smartphone error in cities averages 7–13 m (Merry & Bettinger 2019, PLOS ONE); assisted
//!   GPS has a median of 8 m (Zandbergen 2009). The model's stationary horizontal RMS is 8 m.
//! - **Correlation.** Errors are correlated in time, not white; a first-order Gauss–Markov
//!   (Ornstein–Uhlenbeck) process fits (Soundy et al. 2020, Sensors 20(21):6050). Each axis (east,
//!   north) follows `e(t+Δ) = e(t)·φ + σ·√(1−φ²)·N(0,1)` with `φ = exp(−Δ/τ)`, the exact discretisation
//!   for any sampling interval Δ. Per-axis σ = RMS/√2 ≈ 5.66 m. The correlation time τ = 30 s is our
//!   assumption (the error wanders over tens of seconds, as seen in phone traces), not a published fit.
//! - **Multipath.** Short jumps of 30–80 m (uniform) in a uniform direction, lasting 2–10 s, starting as
//!   a Poisson process at one per 5 minutes of driving (assumed rate; urban canyons vary widely).
//! - **Reported accuracy.** Android's `getAccuracy()` is the radius of 68 % confidence. For a circular
//!   Gaussian with per-axis σ the 68 % radius is σ·√(−2 ln 0.32) ≈ 1.51 σ ≈ 8.5 m here. Phones estimate
//!   it imperfectly: the reported value is that radius times a log-normal factor (σ_log = 0.25).
//!   During a multipath jump phones notice only part of it: the reported accuracy grows to half the
//!   jump (so a 60 m jump reports ~30 m — over-confident, as real phones are). The web's `accuracy` is a
//!   95 % radius and iOS states none; callers modelling those can rescale.
//! - **Speed and bearing.** Phones derive speed from Doppler, far better than from positions: the
//!   reported speed is the true speed plus N(0, 0.3 m/s), clamped at 0; bearing is reported only above
//!   1 m/s (phones give none when still).

mod drive;
mod local;
mod noise;

pub use drive::{Drive, StopLabel, StopSpec, SyntheticTrace};
pub use local::offset_by_metres;
pub use noise::{Multipath, NoiseModel};
