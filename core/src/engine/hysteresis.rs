//! Two-sided, accuracy-aware hysteresis for one fence.
//!
//! With `d` the signed distance from the fix to the boundary (negative inside) and `a` its accuracy:
//! - confidently inside: `d ≤ -(a·enter_accuracy_factor + enter_margin_m)` — the accuracy circle lies
//!   inside the fence, so a 700 m cell fix can never open a 50 m fence;
//! - confidently outside: `d ≥ a·exit_accuracy_factor + exit_margin_m`.
//!
//! Between the two nothing changes. `entered` needs `enter_min_fixes` confident fixes spanning
//! `enter_hold_s`; `exited` needs `exit_min_fixes` spanning `exit_hold_s`. `arrived` fires once per
//! visit (entered → exited), when the fix is inside and the driver has stopped where the trip ends
//! (see [`super::arrival`]), or has been inside for the fence's dwell time.

use crate::clean::{CleanFix, Motion};
use crate::engine::arrival::{self, FenceView};
use crate::engine::EngineConfig;
use crate::event::EventKind;

/// The state of one fence that is not idle (idle = outside with no entry pending).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FenceState {
    pub inside: bool,
    /// Consecutive confidently-inside fixes while outside, and the time of the first.
    enter_streak: u32,
    enter_since_ms: i64,
    entered_ms: i64,
    arrived: bool,
    /// Consecutive confidently-outside fixes while inside, and the time of the first.
    exit_streak: u32,
    exit_since_ms: i64,
    /// When the current stop inside began (`None` while moving).
    stopped_since_ms: Option<i64>,
}

impl FenceState {
    pub fn is_idle(&self) -> bool {
        !self.inside && self.enter_streak == 0
    }

    /// Advances the state with one accepted fix and pushes the events it causes.
    pub fn step(
        &mut self,
        config: &EngineConfig,
        fence: &FenceView,
        fix: &CleanFix,
        events: &mut Vec<EventKind>,
    ) {
        let signed_distance_m = fence.signed_distance_m;
        let t = fix.fix.time_ms;
        let a = fix.accuracy_m;
        let confidently_inside =
            signed_distance_m <= -(a * config.enter_accuracy_factor + config.enter_margin_m);
        let confidently_outside =
            signed_distance_m >= a * config.exit_accuracy_factor + config.exit_margin_m;

        if !self.inside {
            if !confidently_inside {
                *self = FenceState::default();
                return;
            }
            if self.enter_streak == 0 {
                self.enter_since_ms = t;
            }
            self.enter_streak += 1;
            let held_ms = t - self.enter_since_ms;
            if self.enter_streak < config.enter_min_fixes.max(1)
                || (held_ms as f64) < config.enter_hold_s * 1000.0
            {
                return;
            }
            *self = FenceState {
                inside: true,
                entered_ms: t,
                ..FenceState::default()
            };
            events.push(EventKind::Entered);
        }

        if confidently_outside {
            if self.exit_streak == 0 {
                self.exit_since_ms = t;
            }
            self.exit_streak += 1;
            let held_ms = t - self.exit_since_ms;
            if self.exit_streak >= config.exit_min_fixes.max(1)
                && held_ms as f64 >= config.exit_hold_s * 1000.0
            {
                *self = FenceState::default();
                events.push(EventKind::Exited);
            }
            return;
        }
        self.exit_streak = 0;
        self.track_motion(fix);

        if self.arrived || signed_distance_m > 0.0 {
            return;
        }
        let dwelled = fence
            .dwell_s
            .or(config.default_dwell_s)
            .is_some_and(|dwell| (t - self.entered_ms) as f64 >= dwell * 1000.0);
        let stopped_here = self
            .stopped_since_ms
            .is_some_and(|since| arrival::stop_ends_trip(config, fence, fix, t - since));
        if stopped_here || dwelled {
            self.arrived = true;
            events.push(EventKind::Arrived);
        }
    }

    /// Remembers when the current stop began.
    fn track_motion(&mut self, fix: &CleanFix) {
        match fix.motion {
            Motion::Moving => self.stopped_since_ms = None,
            Motion::Stopped => {
                self.stopped_since_ms.get_or_insert(fix.fix.time_ms);
            }
            // Too little history to tell (just after a jump): keep what was known.
            Motion::Unknown => {}
        }
    }
}
