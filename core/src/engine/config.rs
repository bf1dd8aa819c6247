//! Every threshold the engine uses, in one place, readable from JSON (`fencepost replay --config`).
//! Missing fields take the defaults below; each default says why it has that value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct EngineConfig {
    // --- cleaning ---
    /// Accuracy assumed when the platform reports none (metres). Phones in cities are 7–13 m on
    /// average (Merry & Bettinger 2019).
    pub unknown_accuracy_m: f64,
    /// A fix implying more than this (after both accuracies) is a jump, not driving. 70 m/s = 252 km/h.
    pub max_plausible_speed_mps: f64,
    /// Consecutive agreeing fixes after a jump that make the cleaner accept the new position.
    pub recover_fixes: usize,
    /// Window over which speed and heading are derived when the platform gives none (seconds).
    pub speed_window_s: f64,
    /// Below this displacement a derived heading is noise and is left unknown (metres).
    pub min_heading_displacement_m: f64,

    // --- motion ---
    /// Reported speeds above this mean moving (m/s). 1.5 m/s ≈ walking pace.
    pub stop_speed_mps: f64,
    /// Stopped means staying within this radius for `stop_hold_s` (metres). Larger than city GPS
    /// jitter between fixes a few seconds apart; smaller than 4 s of driving at 15 km/h.
    pub stop_radius_m: f64,
    /// How long the position must hold still to count as stopped (seconds). Slightly under the 5 s
    /// sampling interval of many delivery apps, so two fixes suffice.
    pub stop_hold_s: f64,

    // --- geofence hysteresis ---
    /// Entering needs the fix this many accuracy radii inside the boundary (1 = the whole accuracy
    /// circle inside: a circle straddling the boundary is not enough).
    pub enter_accuracy_factor: f64,
    /// Extra depth inside the boundary needed to enter (metres).
    pub enter_margin_m: f64,
    /// Consecutive confidently-inside fixes needed to enter (filters single multipath jumps).
    pub enter_min_fixes: u32,
    /// And the time they must span (seconds).
    pub enter_hold_s: f64,
    /// Exiting needs the fix this many accuracy radii outside the boundary.
    pub exit_accuracy_factor: f64,
    /// Extra distance outside the boundary needed to exit (metres): the outer edge of the hysteresis.
    pub exit_margin_m: f64,
    /// Consecutive confidently-outside fixes needed to exit.
    pub exit_min_fixes: u32,
    /// And the time they must span (seconds): parked GPS noise excursions are shorter than this.
    pub exit_hold_s: f64,
    /// Dwell time that counts as arrival for fences that set none (seconds); `None`: only stopping
    /// counts, so a slow drive-through never arrives.
    pub default_dwell_s: Option<f64>,
    /// A stop with the fence's centre at most this far ahead or behind along the driver's heading
    /// (metres; a couple of car lengths plus city GPS error: the driver took a space just before or
    /// after the door). Tuned on the simulator, where the two overlap: false customer arrivals stopped
    /// 18–45 m from the centre along the street, true store stops up to 24 m (5 runs each: 20 m gave
    /// 0 false arrivals and 1 missed store arrival per run, 25 m 0.8 and 0.6) …
    pub arrival_ahead_m: f64,
    /// … and at most this far to the side (metres; from the kerb to a building's entrance) ends the
    /// trip at once: the driver pulled up at the address. Elsewhere in the fence the stop looks like a
    /// red light on the way to it, or on a street that passes near it (see `engine/arrival.rs`).
    pub arrival_beside_m: f64,
    /// A stop elsewhere in the fence counts once it has lasted this long (seconds): longer than the red
    /// lights the simulator drives through (8–40 s), short enough that a driver who parked away from
    /// the address is announced within a minute.
    pub through_stop_s: f64,

    // --- distance and ETA ---
    /// Prior for road distance ÷ straight-line distance when no route is known (1.2–1.4 in cities);
    /// the drive itself refines it (see `eta/circuity.rs`).
    pub circuity_factor: f64,
    /// How many straight-line metres of evidence the prior counts for: the learned circuity moves
    /// halfway from the prior to the observed ratio after this much closing (metres).
    pub circuity_prior_weight_m: f64,
    /// Straight-line metres of evidence remembered; older evidence fades (metres).
    pub circuity_memory_m: f64,
    /// Upper bound of the learned circuity (the lower bound is 1: no road is shorter than the line).
    pub max_circuity: f64,
    /// Speed assumed before there is any history (m/s); 8 m/s ≈ 29 km/h, urban delivery average.
    pub default_speed_mps: f64,
    /// Floor for the blended speed so a red light does not make the ETA infinite (m/s).
    pub min_eta_speed_mps: f64,
    /// Window of the "recent" average speed (seconds).
    pub recent_speed_window_s: f64,
    /// Weight of the current speed in the blend; the rest goes to the recent average. 0: the ETA is
    /// about the whole way left, lights and turns included, and the time-weighted recent average
    /// already holds them; the instantaneous cruising speed (0.4 until the simulator measured it) made
    /// ETAs 2–5 min out about 40 s shorter still.
    pub current_speed_weight: f64,
    /// A route polyline is followed while the driver is within this distance of it (metres).
    pub off_route_m: f64,
    /// Approach ring for targets whose fence sets no `approach_m` (metres).
    pub approach_m: f64,
    /// `approaching` also fires once the ETA falls under this (seconds).
    pub approach_eta_s: f64,
    /// An `eta` event is emitted when the ETA moved by at least this since the last one (seconds) …
    pub eta_min_change_s: f64,
    /// … or the distance by at least this (metres).
    pub eta_min_distance_change_m: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            unknown_accuracy_m: 10.0,
            max_plausible_speed_mps: 70.0,
            recover_fixes: 3,
            speed_window_s: 4.0,
            min_heading_displacement_m: 5.0,
            stop_speed_mps: 1.5,
            stop_radius_m: 15.0,
            stop_hold_s: 4.0,
            enter_accuracy_factor: 1.0,
            enter_margin_m: 0.0,
            enter_min_fixes: 2,
            enter_hold_s: 2.0,
            exit_accuracy_factor: 1.0,
            exit_margin_m: 10.0,
            exit_min_fixes: 2,
            exit_hold_s: 20.0,
            default_dwell_s: None,
            arrival_ahead_m: 20.0,
            arrival_beside_m: 40.0,
            through_stop_s: 60.0,
            circuity_factor: 1.3,
            circuity_prior_weight_m: 500.0,
            circuity_memory_m: 5000.0,
            max_circuity: 2.5,
            default_speed_mps: 8.0,
            min_eta_speed_mps: 2.0,
            recent_speed_window_s: 120.0,
            current_speed_weight: 0.0,
            off_route_m: 75.0,
            approach_m: 500.0,
            approach_eta_s: 120.0,
            eta_min_change_s: 15.0,
            eta_min_distance_change_m: 50.0,
        }
    }
}

impl EngineConfig {
    /// Rejects thresholds that would make the engine meaningless (negative, NaN, weights outside 0..=1).
    pub fn validate(&self) -> Result<(), String> {
        let non_negative = [
            ("unknown_accuracy_m", self.unknown_accuracy_m),
            ("max_plausible_speed_mps", self.max_plausible_speed_mps),
            ("speed_window_s", self.speed_window_s),
            (
                "min_heading_displacement_m",
                self.min_heading_displacement_m,
            ),
            ("stop_speed_mps", self.stop_speed_mps),
            ("stop_radius_m", self.stop_radius_m),
            ("stop_hold_s", self.stop_hold_s),
            ("enter_accuracy_factor", self.enter_accuracy_factor),
            ("enter_margin_m", self.enter_margin_m),
            ("enter_hold_s", self.enter_hold_s),
            ("exit_accuracy_factor", self.exit_accuracy_factor),
            ("exit_margin_m", self.exit_margin_m),
            ("exit_hold_s", self.exit_hold_s),
            ("default_dwell_s", self.default_dwell_s.unwrap_or(0.0)),
            ("arrival_ahead_m", self.arrival_ahead_m),
            ("arrival_beside_m", self.arrival_beside_m),
            ("through_stop_s", self.through_stop_s),
            ("circuity_factor", self.circuity_factor),
            ("circuity_prior_weight_m", self.circuity_prior_weight_m),
            ("circuity_memory_m", self.circuity_memory_m),
            ("default_speed_mps", self.default_speed_mps),
            ("min_eta_speed_mps", self.min_eta_speed_mps),
            ("recent_speed_window_s", self.recent_speed_window_s),
            ("off_route_m", self.off_route_m),
            ("approach_m", self.approach_m),
            ("approach_eta_s", self.approach_eta_s),
            ("eta_min_change_s", self.eta_min_change_s),
            ("eta_min_distance_change_m", self.eta_min_distance_change_m),
        ];
        for (name, value) in non_negative {
            if !value.is_finite() || value < 0.0 {
                return Err(format!("{name} must be a finite number ≥ 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.current_speed_weight) {
            return Err("current_speed_weight must be within 0..=1".into());
        }
        if !(self.max_circuity.is_finite() && self.max_circuity >= 1.0) {
            return Err("max_circuity must be a finite number ≥ 1".into());
        }
        if self.max_plausible_speed_mps == 0.0 || self.min_eta_speed_mps == 0.0 {
            return Err("max_plausible_speed_mps and min_eta_speed_mps must be > 0".into());
        }
        Ok(())
    }
}
