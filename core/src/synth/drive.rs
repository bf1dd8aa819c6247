//! A vehicle driven along a route polyline: accelerate, cruise, brake to each stop, dwell, go on, and
//! brake to a halt at the route's end. Sampled at a fixed interval into true fixes with ground-truth
//! labels (when the vehicle reached and left each stop).

use super::noise::NoiseModel;
use crate::fix::{LocationFix, Provider};
use geo::{Bearing, Distance, Geodesic, Point};
use serde::{Deserialize, Serialize};

/// A stop on the route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopSpec {
    /// Distance along the route, metres from its start.
    pub along_m: f64,
    /// Seconds standing still before driving on.
    pub dwell_s: f64,
}

/// Ground truth for one stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopLabel {
    /// Index into [`Drive::stops`].
    pub index: usize,
    pub lat: f64,
    pub lon: f64,
    pub along_m: f64,
    /// When the vehicle came to rest at the stop, epoch ms.
    pub arrival_ms: i64,
    /// When it started moving again, epoch ms.
    pub departure_ms: i64,
}

/// The generated trace: true positions, noisy fixes (same times) and stop labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticTrace {
    pub truth: Vec<LocationFix>,
    pub fixes: Vec<LocationFix>,
    pub stops: Vec<StopLabel>,
}

/// How to drive a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    /// Route vertices as (lat, lon).
    pub route: Vec<(f64, f64)>,
    /// Stops, in any order; positions beyond the route's end are clamped to it.
    pub stops: Vec<StopSpec>,
    pub cruise_mps: f64,
    pub accel_mps2: f64,
    pub decel_mps2: f64,
    /// Seconds between fixes.
    pub interval_s: f64,
    /// Time of the first fix, epoch ms.
    pub start_ms: i64,
}

impl Drive {
    /// Urban defaults: 12 m/s (43 km/h) cruise, 1.5 m/s² acceleration, 2 m/s² braking, 1 s fixes.
    pub fn new(route: Vec<(f64, f64)>, stops: Vec<StopSpec>, start_ms: i64) -> Self {
        Self {
            route,
            stops,
            cruise_mps: 12.0,
            accel_mps2: 1.5,
            decel_mps2: 2.0,
            interval_s: 1.0,
            start_ms,
        }
    }

    /// True fixes and stop labels.
    pub fn truth(&self) -> (Vec<LocationFix>, Vec<StopLabel>) {
        let line = Polyline::new(&self.route);
        let phases = self.phases(line.length());
        let end_s = phases.last().map_or(0.0, |p| p.end_s);

        let mut fixes = Vec::new();
        let mut phase = 0;
        let interval = self.interval_s.max(0.001);
        // Round up so the last fix shows the vehicle at rest at the route's end.
        let samples = (end_s / interval).ceil() as usize;
        for k in 0..=samples {
            let t = k as f64 * interval;
            while phase + 1 < phases.len() && t > phases[phase].end_s {
                phase += 1;
            }
            let Some(p) = phases.get(phase) else { break };
            let (along, speed) = p.at(t);
            let (lat, lon, bearing) = line.at(along);
            fixes.push(LocationFix {
                time_ms: self.start_ms + (t * 1000.0).round() as i64,
                lat,
                lon,
                accuracy_m: None,
                speed_mps: Some(speed),
                bearing_deg: Some(bearing),
                provider: Provider::Gps,
                is_mock: false,
            });
        }

        let labels = self
            .sorted_stops(line.length())
            .into_iter()
            .filter_map(|(index, along)| {
                let arrival = phases
                    .iter()
                    .find(|p| p.is_dwell && p.stop == Some(index))?;
                let (lat, lon, _) = line.at(along);
                Some(StopLabel {
                    index,
                    lat,
                    lon,
                    along_m: along,
                    arrival_ms: self.start_ms + (arrival.start_s * 1000.0).round() as i64,
                    departure_ms: self.start_ms + (arrival.end_s * 1000.0).round() as i64,
                })
            })
            .collect();
        (fixes, labels)
    }

    /// True fixes, noisy fixes from `noise` with `seed`, and labels.
    pub fn generate(&self, noise: &NoiseModel, seed: u64) -> SyntheticTrace {
        let (truth, stops) = self.truth();
        let fixes = noise.apply(&truth, seed);
        SyntheticTrace {
            truth,
            fixes,
            stops,
        }
    }

    /// (stop index, clamped along-distance), sorted along the route.
    fn sorted_stops(&self, length: f64) -> Vec<(usize, f64)> {
        let mut stops: Vec<(usize, f64)> = self
            .stops
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.along_m.clamp(0.0, length)))
            .collect();
        stops.sort_by(|a, b| a.1.total_cmp(&b.1));
        stops
    }

    /// The motion as a sequence of legs (stop to stop) and dwells.
    fn phases(&self, length: f64) -> Vec<Phase> {
        let mut phases = Vec::new();
        let mut t = 0.0;
        let mut from = 0.0;
        let mut targets: Vec<(Option<usize>, f64, f64)> = self
            .sorted_stops(length)
            .into_iter()
            .map(|(i, along)| (Some(i), along, self.stops[i].dwell_s.max(0.0)))
            .collect();
        targets.push((None, length, 0.0));
        for (stop, to, dwell) in targets {
            let leg = Leg::new(to - from, self.cruise_mps, self.accel_mps2, self.decel_mps2);
            phases.push(Phase {
                start_s: t,
                end_s: t + leg.duration(),
                from_m: from,
                leg: Some(leg),
                is_dwell: false,
                stop,
            });
            t += leg.duration();
            if stop.is_some() {
                phases.push(Phase {
                    start_s: t,
                    end_s: t + dwell,
                    from_m: to,
                    leg: None,
                    is_dwell: true,
                    stop,
                });
                t += dwell;
            }
            from = to;
        }
        phases
    }
}

/// One stretch of time: driving a leg, or dwelling at a stop.
struct Phase {
    start_s: f64,
    end_s: f64,
    from_m: f64,
    leg: Option<Leg>,
    is_dwell: bool,
    stop: Option<usize>,
}

impl Phase {
    /// (distance along the route, speed) at time `t`.
    fn at(&self, t: f64) -> (f64, f64) {
        match &self.leg {
            Some(leg) => {
                let (s, v) = leg.at((t - self.start_s).max(0.0));
                (self.from_m + s, v)
            }
            None => (self.from_m, 0.0),
        }
    }
}

/// A trapezoidal (or, when short, triangular) speed profile from rest to rest.
#[derive(Clone, Copy)]
struct Leg {
    peak: f64,
    accel: f64,
    decel: f64,
    t_accel: f64,
    t_cruise: f64,
    t_decel: f64,
}

impl Leg {
    fn new(distance: f64, cruise: f64, accel: f64, decel: f64) -> Self {
        let distance = distance.max(0.0);
        let (accel, decel) = (accel.max(0.01), decel.max(0.01));
        // The highest speed reachable when accelerating then braking over the whole distance.
        let reachable = (2.0 * distance * accel * decel / (accel + decel)).sqrt();
        let peak = cruise.max(0.01).min(reachable);
        let (t_accel, t_decel) = if peak > 0.0 {
            (peak / accel, peak / decel)
        } else {
            (0.0, 0.0)
        };
        let d_ramps = peak * peak / (2.0 * accel) + peak * peak / (2.0 * decel);
        let t_cruise = if peak > 0.0 {
            ((distance - d_ramps) / peak).max(0.0)
        } else {
            0.0
        };
        Self {
            peak,
            accel,
            decel,
            t_accel,
            t_cruise,
            t_decel,
        }
    }

    fn duration(&self) -> f64 {
        self.t_accel + self.t_cruise + self.t_decel
    }

    /// (distance covered, speed) `t` seconds into the leg.
    fn at(&self, t: f64) -> (f64, f64) {
        let d_accel = 0.5 * self.accel * self.t_accel * self.t_accel;
        let d_cruise = self.peak * self.t_cruise;
        if t < self.t_accel {
            (0.5 * self.accel * t * t, self.accel * t)
        } else if t < self.t_accel + self.t_cruise {
            (d_accel + self.peak * (t - self.t_accel), self.peak)
        } else {
            let tb = (t - self.t_accel - self.t_cruise).min(self.t_decel);
            let v = (self.peak - self.decel * tb).max(0.0);
            (
                d_accel + d_cruise + self.peak * tb - 0.5 * self.decel * tb * tb,
                v,
            )
        }
    }
}

/// The route with cumulative geodesic distances, for positions by distance along it.
struct Polyline {
    points: Vec<Point<f64>>,
    cumulative: Vec<f64>,
}

impl Polyline {
    fn new(route: &[(f64, f64)]) -> Self {
        let points: Vec<Point<f64>> = route
            .iter()
            .map(|&(lat, lon)| Point::new(lon, lat))
            .collect();
        let mut cumulative = Vec::with_capacity(points.len());
        let mut total = 0.0;
        for (i, p) in points.iter().enumerate() {
            if i > 0 {
                total += Geodesic.distance(points[i - 1], *p);
            }
            cumulative.push(total);
        }
        Self { points, cumulative }
    }

    fn length(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// (lat, lon, bearing) at `along` metres, interpolating linearly within a segment (segments of a
    /// street route are short enough that the chord is the geodesic to a few centimetres).
    fn at(&self, along: f64) -> (f64, f64, f64) {
        let Some(&first) = self.points.first() else {
            return (0.0, 0.0, 0.0);
        };
        // The segment containing `along`: the last vertex at or before it.
        let i = self
            .cumulative
            .partition_point(|&c| c <= along)
            .saturating_sub(1)
            .min(self.points.len().saturating_sub(2));
        let (Some(&a), Some(&b)) = (self.points.get(i), self.points.get(i + 1)) else {
            return (first.y(), first.x(), 0.0);
        };
        let span = self.cumulative[i + 1] - self.cumulative[i];
        let f = if span > 0.0 {
            ((along - self.cumulative[i]) / span).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let bearing = Geodesic.bearing(a, b);
        (
            a.y() + f * (b.y() - a.y()),
            a.x() + f * (b.x() - a.x()),
            bearing,
        )
    }
}
