//! Distance and ETA to the target fence, and the `approaching` / `eta` events.
//!
//! - Distance is geodesic, from the fix to the fence boundary (0 inside).
//! - Travel distance follows the route polyline when one is set and the driver is on it; otherwise it
//!   is the straight-line distance times the circuity learned from the drive so far, shrunk toward
//!   the configured prior while the evidence is thin ([`circuity`]).
//! - Speed blends the current speed with the average over the last couple of minutes (so a red light
//!   does not send the ETA to infinity, and a burst of speed does not collapse it), floored at
//!   `min_eta_speed_mps`; before any history it is `default_speed_mps`. In the average each fix's
//!   speed stands for the interval before it, but an interval longer than `speed_window_s` counts at
//!   the distance covered over it ÷ its length instead: far from the target the companion asks for a
//!   fix every 10–30 s with a 50 m distance filter, so no fix arrives while the car waits at a light
//!   and the next one reports the speed it is back up to. Weighting the whole gap by that speed
//!   averaged only the moving moments, read every stop as cruising and made far ETAs short.
//! - `approaching` fires once per leg (a leg starts with [`EtaTracker::set_target`]) when the distance
//!   falls under the approach ring or the ETA under `approach_eta_s`. The ETA only counts once the
//!   driver is seen moving with a measured speed: before that it rests on `default_speed_mps`, and a
//!   car parked 500 m away would "approach" on its very first fix.
//! - `eta` is emitted for the first fix of a leg and then whenever ETA or distance moved meaningfully.

mod circuity;
mod directions;
mod route;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use directions::{DirectionsError, DirectionsProvider, OpenRouteService, Route, RouteFuture};
pub(crate) use route::RouteLine;

use circuity::CircuityEstimator;

use crate::clean::{CleanFix, Motion};
use crate::engine::EngineConfig;
use crate::event::{EventKind, GeofenceEvent};
use crate::fence::Fence;
use crate::fence::FenceShape;
use crate::geodesy::{FixedPoint, Origin};

/// Where the driver stands relative to the target, as of the last accepted fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetProgress {
    pub fence_id: String,
    pub time_ms: i64,
    /// Geodesic distance to the fence boundary (0 inside).
    pub distance_m: f64,
    /// Distance still to drive: along the route when following one, else straight-line × circuity.
    pub travel_distance_m: f64,
    pub eta_s: f64,
    /// Whether `travel_distance_m` came from the route polyline.
    pub on_route: bool,
}

struct Leg {
    fence_id: String,
    route: Option<RouteLine>,
    approached: bool,
    last_emitted: Option<(f64, f64)>,
    progress: Option<TargetProgress>,
    /// A circle target's centre, kept so its distance from every fix reuses the centre's
    /// trigonometry (see [`FixedPoint`]).
    centre: Option<FixedPoint>,
}

impl Leg {
    /// Distance in metres from the fix to the target's boundary, 0 inside.
    fn distance_m(&mut self, fence: &Fence, origin: &Origin) -> f64 {
        let signed = match &fence.shape {
            FenceShape::Circle { lat, lon, radius_m } => {
                let centre = match self.centre {
                    Some(centre) if centre.is_at(*lat, *lon) => centre,
                    _ => *self.centre.insert(FixedPoint::new(*lat, *lon)),
                };
                origin.distance_to_m(&centre) - radius_m
            }
            FenceShape::Polygon(_) => origin.signed_distance_m(&fence.shape),
        };
        signed.max(0.0)
    }
}

#[derive(Default)]
pub(crate) struct EtaTracker {
    leg: Option<Leg>,
    /// (time, speed) of recent accepted fixes, oldest first.
    speeds: VecDeque<(i64, f64)>,
    /// Running sums over consecutive pairs of `speeds` (speed × interval, interval in ms), kept as
    /// samples come and go so the recent average costs O(1) per fix instead of a pass over the window.
    weighted: f64,
    span_ms: i64,
    /// The previous accepted fix (time, lat, lon): the start of the interval the next one closes.
    previous: Option<(i64, f64, f64)>,
    /// Road circuity learned from this and earlier legs.
    circuity: CircuityEstimator,
}

impl EtaTracker {
    /// Starts a new leg (or none). Calling it again with the same id also starts a new leg.
    pub fn set_target(&mut self, fence_id: Option<String>) {
        self.circuity.start_leg();
        self.leg = fence_id.map(|fence_id| Leg {
            fence_id,
            route: None,
            approached: false,
            last_emitted: None,
            progress: None,
            centre: None,
        });
    }

    pub fn target_id(&self) -> Option<&str> {
        self.leg.as_ref().map(|l| l.fence_id.as_str())
    }

    /// Sets the route polyline ((lat, lon) vertices) to follow for the current leg. Returns false if
    /// there is no target or the polyline has fewer than two usable vertices.
    pub fn set_route(&mut self, polyline: Vec<(f64, f64)>, fence: &Fence) -> bool {
        match &mut self.leg {
            Some(leg) if leg.fence_id == fence.id => {
                leg.route = RouteLine::new(polyline, &fence.shape);
                leg.route.is_some()
            }
            _ => false,
        }
    }

    pub fn progress(&self) -> Option<&TargetProgress> {
        self.leg.as_ref().and_then(|l| l.progress.as_ref())
    }

    /// Records the fix's speed and, if the target fence is given, updates progress and pushes events.
    /// `origin` is the fix, to measure from.
    pub fn update(
        &mut self,
        config: &EngineConfig,
        target: Option<&Fence>,
        fix: &CleanFix,
        origin: &Origin,
        events: &mut Vec<GeofenceEvent>,
    ) {
        let t = fix.fix.time_ms;
        let (lat, lon) = (fix.fix.lat, fix.fix.lon);
        let hop = self
            .previous
            .map(|(t0, lat0, lon0)| ((t - t0) as f64 / 1000.0, origin.distance_m(lat0, lon0)));
        let gap_speed = hop.and_then(|(dt_s, hop_m)| {
            (dt_s > config.speed_window_s && dt_s > 0.0).then(|| hop_m / dt_s)
        });
        self.previous = Some((t, lat, lon));
        if let Some(speed) = gap_speed.or(fix.speed_mps) {
            if let Some(&(prev_t, _)) = self.speeds.back() {
                // Each sample stands for the interval before it.
                self.weighted += speed * (t - prev_t) as f64;
                self.span_ms += t - prev_t;
            }
            self.speeds.push_back((t, speed));
        }
        let window_ms = (config.recent_speed_window_s * 1000.0) as i64;
        while self
            .speeds
            .front()
            .is_some_and(|(ts, _)| *ts < t - window_ms)
        {
            self.pop_oldest_speed();
        }
        let speed = self.blended_speed(config, fix.speed_mps);
        // Only a driver seen moving, with a measured speed, has an ETA worth acting on.
        let speed_observed = fix.motion == Motion::Moving && fix.speed_mps.is_some();

        let (Some(leg), Some(fence)) = (self.leg.as_mut(), target) else {
            return;
        };
        let distance_m = leg.distance_m(fence, origin);
        let hop_m = hop.map_or(0.0, |(_, m)| m);
        self.circuity
            .observe(config, hop_m, distance_m, fix.motion == Motion::Moving);
        let circuity = self.circuity.estimate(config);
        let on_route_m = leg
            .route
            .as_ref()
            .and_then(|r| r.remaining_m(lat, lon, config.off_route_m));
        let travel_distance_m = if distance_m == 0.0 {
            0.0
        } else {
            on_route_m.unwrap_or(distance_m * circuity)
        };
        let eta_s = travel_distance_m / speed;
        let event = |kind| GeofenceEvent {
            kind,
            fence_id: leg.fence_id.clone(),
            time_ms: t,
            distance_m: Some(distance_m),
            eta_s: Some(eta_s),
        };
        let approach_m = fence.approach_m.unwrap_or(config.approach_m);
        let eta_close = speed_observed && eta_s <= config.approach_eta_s;
        if !leg.approached && (distance_m <= approach_m || eta_close) {
            leg.approached = true;
            events.push(event(EventKind::Approaching));
        }
        let changed = leg.last_emitted.is_none_or(|(d, e)| {
            (distance_m - d).abs() >= config.eta_min_distance_change_m
                || (eta_s - e).abs() >= config.eta_min_change_s
                || (distance_m == 0.0) != (d == 0.0)
        });
        if changed {
            events.push(event(EventKind::Eta));
            leg.last_emitted = Some((distance_m, eta_s));
        }
        // Updated in place: the id is cloned once per leg, not once per fix.
        let progress = leg.progress.get_or_insert_with(|| TargetProgress {
            fence_id: leg.fence_id.clone(),
            time_ms: t,
            distance_m,
            travel_distance_m,
            eta_s,
            on_route: false,
        });
        progress.time_ms = t;
        progress.distance_m = distance_m;
        progress.travel_distance_m = travel_distance_m;
        progress.eta_s = eta_s;
        progress.on_route = on_route_m.is_some();
    }

    fn pop_oldest_speed(&mut self) {
        let Some((t0, _)) = self.speeds.pop_front() else {
            return;
        };
        match self.speeds.front() {
            Some(&(t1, s1)) => {
                self.weighted -= s1 * (t1 - t0) as f64;
                self.span_ms -= t1 - t0;
            }
            None => {
                // Empty again: reset exactly, so rounding never accumulates across gaps.
                self.weighted = 0.0;
                self.span_ms = 0;
            }
        }
    }

    fn blended_speed(&self, config: &EngineConfig, current: Option<f64>) -> f64 {
        // Time-weighted mean of the recent speeds: each sample stands for the interval before it.
        let recent = if self.span_ms > 0 {
            (self.weighted / self.span_ms as f64).max(0.0)
        } else {
            config.default_speed_mps
        };
        let blended = match current {
            Some(c) => {
                config.current_speed_weight * c + (1.0 - config.current_speed_weight) * recent
            }
            None => recent,
        };
        blended.max(config.min_eta_speed_mps)
    }
}

#[cfg(test)]
mod tests;
