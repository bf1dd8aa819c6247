//! Fix cleaning: what the engine believes about the driver's position and motion after each raw fix.
//!
//! - Validation and normalisation ([`LocationFix::normalized`]); time running backwards is an error.
//! - A second fix with the same timestamp is a duplicate and changes nothing.
//! - A fix that implies a speed no vehicle reaches (after allowing for both fixes' accuracy) is
//!   quarantined. If the following fixes agree with it (plausible speeds among themselves) the cleaner
//!   accepts the new position: the earlier fixes were the wrong ones (e.g. a frozen receiver catching
//!   up, as in the Munich trace). If the next fix agrees with the old position instead, the jump is
//!   dropped as a spike.
//! - Speed and heading are derived over a few seconds when the platform gives none, so jitter of a few
//!   metres between fixes does not read as movement.
//! - Motion is `Stopped` when every fix of the last `stop_hold_s` (and the last fix before them) lies
//!   within `stop_radius_m` of the newest one, at an average under `stop_speed_mps`; it takes twice
//!   that speed or distance to read as moving again (see [`Cleaner`]'s `motion`). Loggers that write nothing while stationary produce a
//!   long gap followed by a fix in the same place: the fix before the gap counts, so the gap reads as
//!   a stop.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
use crate::fix::{FixError, LocationFix};
use crate::geodesy::Origin;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    Moving,
    Stopped,
    /// Not enough history yet (the first seconds, or just after recovering from a jump).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixStatus {
    /// Used for geofences and ETA.
    Accepted,
    /// Implied an impossible speed; held back until later fixes confirm or refute it.
    Quarantined,
    /// Same timestamp as the previous fix; ignored.
    Duplicate,
}

/// A fix as the engine understood it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanFix {
    pub fix: LocationFix,
    /// The accuracy radius used for decisions: the reported one, or the configured assumption.
    pub accuracy_m: f64,
    /// Platform speed if given, else derived from displacement over the last few seconds.
    pub speed_mps: Option<f64>,
    /// Platform bearing if given, else derived when the displacement is large enough to mean anything.
    pub heading_deg: Option<f64>,
    pub motion: Motion,
    pub status: FixStatus,
}

/// The thresholds the cleaner uses, copied out of [`EngineConfig`].
#[derive(Debug, Clone)]
struct Params {
    unknown_accuracy_m: f64,
    max_plausible_speed_mps: f64,
    recover_fixes: usize,
    speed_window_ms: i64,
    stop_hold_ms: i64,
    stop_radius_m: f64,
    stop_speed_mps: f64,
    min_heading_displacement_m: f64,
}

pub struct Cleaner {
    params: Params,
    /// Accepted fixes of the last few seconds (plus one older anchor), oldest first.
    history: VecDeque<LocationFix>,
    /// Consecutive quarantined fixes that agree with each other, oldest first.
    pending: Vec<LocationFix>,
    last_time_ms: Option<i64>,
    last: Option<CleanFix>,
    /// Where the current stop began, while `Stopped`.
    stopped_at: Option<(f64, f64)>,
    /// The last accepted fix as the origin of the distances measured from it, for the engine to
    /// measure its own from without recomputing the trigonometry (see [`Origin`]).
    origin: Option<Origin>,
}

impl Cleaner {
    pub fn new(config: &EngineConfig) -> Self {
        Self {
            params: Params {
                unknown_accuracy_m: config.unknown_accuracy_m,
                max_plausible_speed_mps: config.max_plausible_speed_mps,
                recover_fixes: config.recover_fixes.max(1),
                speed_window_ms: secs_to_ms(config.speed_window_s),
                stop_hold_ms: secs_to_ms(config.stop_hold_s),
                stop_radius_m: config.stop_radius_m,
                stop_speed_mps: config.stop_speed_mps,
                min_heading_displacement_m: config.min_heading_displacement_m,
            },
            history: VecDeque::new(),
            pending: Vec::new(),
            last_time_ms: None,
            last: None,
            stopped_at: None,
            origin: None,
        }
    }

    /// The outcome of the latest fix that was not rejected.
    pub fn last(&self) -> Option<&CleanFix> {
        self.last.as_ref()
    }

    /// The latest accepted fix as an [`Origin`] to measure from.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// Cleans one fix. Rejected input is an error and leaves the state untouched.
    pub fn push(&mut self, fix: LocationFix) -> Result<&CleanFix, FixError> {
        let fix = fix.normalized()?;
        if let Some(last) = self.last_time_ms {
            if fix.time_ms < last {
                return Err(FixError::TimeWentBackwards {
                    behind_ms: last - fix.time_ms,
                });
            }
            if fix.time_ms == last {
                return Ok(self.record(fix, FixStatus::Duplicate));
            }
        }
        self.last_time_ms = Some(fix.time_ms);
        // Every distance the cleaner measures is from this fix.
        let origin = Origin::new(fix.lat, fix.lon);

        let plausible_from_history = match self.history.back() {
            None => true,
            Some(prev) => self.plausible(prev, &fix, &origin),
        };
        if plausible_from_history {
            // A spike that the next fix contradicts is simply dropped.
            self.pending.clear();
            return Ok(self.accept(fix, origin));
        }
        match self.pending.last() {
            Some(prev) if self.plausible(prev, &fix, &origin) => self.pending.push(fix.clone()),
            _ => {
                self.pending.clear();
                self.pending.push(fix.clone());
            }
        }
        if self.pending.len() >= self.params.recover_fixes {
            // Later fixes agree with the jump: the old track is what was wrong. Start afresh there.
            self.pending.clear();
            self.history.clear();
            self.stopped_at = None;
            return Ok(self.accept(fix, origin));
        }
        Ok(self.record(fix, FixStatus::Quarantined))
    }

    /// Whether `b` (measured from as `origin`) is reachable from `a`.
    fn plausible(&self, a: &LocationFix, b: &LocationFix, origin: &Origin) -> bool {
        let dt_s = (b.time_ms - a.time_ms) as f64 / 1000.0;
        if dt_s <= 0.0 {
            return true;
        }
        // Both fixes may be off by their accuracy radius; only the rest of the distance must be real.
        let slack = a.accuracy_m.unwrap_or(0.0) + b.accuracy_m.unwrap_or(0.0);
        let moved = (origin.distance_m(a.lat, a.lon) - slack).max(0.0);
        moved / dt_s <= self.params.max_plausible_speed_mps
    }

    fn accept(&mut self, fix: LocationFix, origin: Origin) -> &CleanFix {
        self.history.push_back(fix.clone());
        self.trim_history(fix.time_ms);
        let (speed, heading, measured) = self.speed_and_heading(&fix, &origin);
        let motion = self.motion(&fix, &origin, speed, measured);
        self.origin = Some(origin);
        let accuracy_m = fix.accuracy_m.unwrap_or(self.params.unknown_accuracy_m);
        self.last.insert(CleanFix {
            fix,
            accuracy_m,
            speed_mps: speed,
            heading_deg: heading,
            motion,
            status: FixStatus::Accepted,
        })
    }

    /// Records a fix that was not used, keeping the motion estimate of the last accepted one.
    fn record(&mut self, fix: LocationFix, status: FixStatus) -> &CleanFix {
        let motion = self.last.as_ref().map_or(Motion::Unknown, |l| l.motion);
        let accuracy_m = fix.accuracy_m.unwrap_or(self.params.unknown_accuracy_m);
        self.last.insert(CleanFix {
            speed_mps: fix.speed_mps,
            heading_deg: fix.bearing_deg,
            fix,
            accuracy_m,
            motion,
            status,
        })
    }

    /// Keeps the fixes of the longest window we look back over, plus the newest one older than it.
    fn trim_history(&mut self, now_ms: i64) {
        let window = self.params.speed_window_ms.max(self.params.stop_hold_ms);
        while self.history.len() > 2 && self.history[1].time_ms <= now_ms - window {
            self.history.pop_front();
        }
    }

    /// The newest accepted fix at least `window_ms` older than `now`, if any.
    fn anchor(&self, now_ms: i64, window_ms: i64) -> Option<&LocationFix> {
        self.history
            .iter()
            .rev()
            .find(|f| f.time_ms <= now_ms - window_ms)
    }

    /// Speed and heading, and the (time, distance) of the fix they were measured from: the motion
    /// window usually has the same anchor, and need not measure it again.
    fn speed_and_heading(
        &self,
        fix: &LocationFix,
        origin: &Origin,
    ) -> (Option<f64>, Option<f64>, Option<(i64, f64)>) {
        let base = self
            .anchor(fix.time_ms, self.params.speed_window_ms)
            .or_else(|| self.history.iter().rev().nth(1));
        let Some(b) = base else {
            return (fix.speed_mps, fix.bearing_deg, None);
        };
        let d = origin.distance_m(b.lat, b.lon);
        let dt_s = (fix.time_ms - b.time_ms) as f64 / 1000.0;
        let speed = fix.speed_mps.or(Some(d / dt_s));
        // Only derive a heading when nobody gave one (it costs an atan2 and more).
        let heading = fix.bearing_deg.or_else(|| {
            (d >= self.params.min_heading_displacement_m)
                .then(|| origin.bearing_from_deg(b.lat, b.lon))
        });
        (speed, heading, Some((b.time_ms, d)))
    }

    /// Motion with hysteresis. Becoming `Stopped` needs the last `stop_hold_s` to stay within
    /// `stop_radius_m` at an average under `stop_speed_mps`; leaving it needs twice either: an average
    /// over twice the stop speed, or a fix twice the stop radius from where the stop began. A slow
    /// crawl past a stop therefore never reads as stopped, and a few metres of jitter never reads as
    /// moving again.
    /// `measured` is a (time, distance to `fix`) pair already known, reused if it is the anchor.
    fn motion(
        &mut self,
        fix: &LocationFix,
        origin: &Origin,
        speed: Option<f64>,
        measured: Option<(i64, f64)>,
    ) -> Motion {
        let p = self.params.clone();
        let reported = fix.speed_mps;
        let Some(anchor) = self.anchor(fix.time_ms, p.stop_hold_ms).cloned() else {
            // No window yet: only a clearly fast speed says anything.
            self.stopped_at = None;
            return if reported
                .or(speed)
                .is_some_and(|s| s > p.stop_speed_mps * 2.0)
            {
                Motion::Moving
            } else {
                Motion::Unknown
            };
        };
        let window_s = (fix.time_ms - anchor.time_ms) as f64 / 1000.0;
        let anchor_m = match measured {
            Some((t, d)) if t == anchor.time_ms => d,
            _ => origin.distance_m(anchor.lat, anchor.lon),
        };
        let average = anchor_m / window_s;
        if let Some((lat, lon)) = self.stopped_at {
            let strayed = origin.distance_m(lat, lon) > 2.0 * p.stop_radius_m;
            let fast = average > 2.0 * p.stop_speed_mps
                || reported.is_some_and(|s| s > 2.0 * p.stop_speed_mps);
            if !strayed && !fast {
                return Motion::Stopped;
            }
            self.stopped_at = None;
        }
        // The anchor is measured already and the fix itself is 0 m away: only the ones between.
        let within = anchor_m <= p.stop_radius_m
            && self
                .history
                .iter()
                .filter(|f| f.time_ms > anchor.time_ms && f.time_ms < fix.time_ms)
                .all(|f| origin.distance_m(f.lat, f.lon) <= p.stop_radius_m);
        let slow = average <= p.stop_speed_mps && reported.is_none_or(|s| s <= p.stop_speed_mps);
        if within && slow {
            self.stopped_at = Some((anchor.lat, anchor.lon));
            Motion::Stopped
        } else {
            Motion::Moving
        }
    }
}

fn secs_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}
