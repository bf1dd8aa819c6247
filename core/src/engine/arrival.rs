//! Whether a stop inside a fence is where the trip ends, or a pause on the way through.
//!
//! A car stopped inside the drop-off fence is not necessarily there: with a 60 m fence round the
//! address, the red light at the junction before it is inside too, and so is a light on a street that
//! passes near the address on the way round the block. The simulator measured 2–3 of 12 customer
//! arrivals fired at such lights. A driver knows the difference: pulling up at the address, the door
//! is right there, beside the car; at the light, it is still well ahead, or off on another street. So,
//! in the driver's frame (heading of the last moving fix):
//!
//! - a stop with the fence's centre within `arrival_ahead_m` ahead or behind and `arrival_beside_m`
//!   to the side is an arrival at once: the driver pulled up at the address;
//! - any other stop in the fence is an arrival only once it has lasted `through_stop_s`, longer than
//!   a red phase: the driver parked away from the address (no space closer, a big site);
//! - with no heading known (a logger that gives no bearing and never moved far enough to derive one)
//!   the stop counts at once, as before.
//!
//! The heading is the engine's last one while moving, not the fence's: a car that crept into the fence
//! while stopped at a light on its edge still knows which way it was going. For a polygon the centre
//! is its cap's centre. What the phone cannot tell without the road network is a light right beside
//! the address on a route that still loops round the block: that stays a false arrival (a route from
//! the `DirectionsProvider` would tell it; not used for this yet).

use crate::clean::CleanFix;
use crate::engine::EngineConfig;
use crate::geodesy::{bearing_deg, distance_m};

/// What the hysteresis needs to know about a fence for one fix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FenceView {
    /// Signed distance from the fix to the boundary (negative inside).
    pub signed_distance_m: f64,
    pub dwell_s: Option<f64>,
    /// (lat, lon) of the fence's centre.
    pub centre: (f64, f64),
    /// The driver's heading at the last moving fix (degrees), if any.
    pub heading_deg: Option<f64>,
}

/// Where the fence's centre lies from the fix, in the driver's frame: (metres ahead along
/// `heading_deg`, negative behind; metres to the side, either side).
pub(crate) fn centre_offset_m(fence: &FenceView, fix: &CleanFix, heading_deg: f64) -> (f64, f64) {
    let (lat, lon) = (fix.fix.lat, fix.fix.lon);
    let (clat, clon) = fence.centre;
    let d = distance_m(lat, lon, clat, clon);
    if d == 0.0 {
        return (0.0, 0.0);
    }
    let angle = (bearing_deg(lat, lon, clat, clon) - heading_deg).to_radians();
    (d * angle.cos(), (d * angle.sin()).abs())
}

/// Whether a stop that has lasted `stopped_for_ms` ends the trip in this fence.
pub(crate) fn stop_ends_trip(
    config: &EngineConfig,
    fence: &FenceView,
    fix: &CleanFix,
    stopped_for_ms: i64,
) -> bool {
    let Some(heading) = fence.heading_deg.filter(|h| h.is_finite()) else {
        return true;
    };
    let (ahead, beside) = centre_offset_m(fence, fix, heading);
    ahead.abs() <= config.arrival_ahead_m && beside <= config.arrival_beside_m
        || stopped_for_ms as f64 >= config.through_stop_s * 1000.0
}
