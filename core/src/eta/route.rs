//! Following a route polyline: how far along the road the driver still has to go to reach the fence.
//!
//! Lengths along the route are geodesic and precomputed once; per fix, only the projection of the fix
//! onto the nearest segment is computed (in a local plane at the fix, where it is accurate).

use crate::fence::FenceShape;
use crate::geodesy::{distance_m, signed_distance_m, LocalPlane};

#[derive(Debug, Clone)]
pub(crate) struct RouteLine {
    /// (lat, lon) vertices.
    points: Vec<(f64, f64)>,
    /// Geodesic length from the first vertex to each vertex.
    cumulative_m: Vec<f64>,
    /// Length along the route at which it first reaches the fence, or its end plus the straight-line
    /// distance from there when it never does.
    arrival_at_m: f64,
}

impl RouteLine {
    /// `None` for fewer than two usable vertices (nothing to follow).
    pub fn new(points: Vec<(f64, f64)>, fence: &FenceShape) -> Option<Self> {
        let points: Vec<(f64, f64)> = points
            .into_iter()
            .filter(|(lat, lon)| {
                lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
            })
            .collect();
        if points.len() < 2 {
            return None;
        }
        let mut cumulative_m = Vec::with_capacity(points.len());
        let mut total = 0.0;
        cumulative_m.push(0.0);
        for w in points.windows(2) {
            total += distance_m(w[0].0, w[0].1, w[1].0, w[1].1);
            cumulative_m.push(total);
        }
        let mut arrival_at_m = None;
        let mut prev_d = f64::INFINITY;
        for (i, (lat, lon)) in points.iter().enumerate() {
            let d = signed_distance_m(fence, *lat, *lon);
            if d <= 0.0 {
                // Interpolate where the segment crosses the boundary.
                let at = if i == 0 || !prev_d.is_finite() {
                    cumulative_m[i]
                } else {
                    let seg = cumulative_m[i] - cumulative_m[i - 1];
                    cumulative_m[i - 1] + seg * prev_d / (prev_d - d)
                };
                arrival_at_m = Some(at);
                break;
            }
            prev_d = d;
        }
        let arrival_at_m = arrival_at_m.unwrap_or(total + prev_d.max(0.0));
        Some(Self {
            points,
            cumulative_m,
            arrival_at_m,
        })
    }

    /// Metres left along the route to the fence, or `None` if the fix is more than `off_route_m` away
    /// from the route (the driver left it; fall back to straight-line).
    pub fn remaining_m(&self, lat: f64, lon: f64, off_route_m: f64) -> Option<f64> {
        let plane = LocalPlane::new(lat, lon);
        let mut best: Option<(f64, f64)> = None; // (distance from route, position along route)
        for (i, w) in self.points.windows(2).enumerate() {
            let (x1, y1) = plane.to_xy(w[0].0, w[0].1);
            let (x2, y2) = plane.to_xy(w[1].0, w[1].1);
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (-(x1 * dx + y1 * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (px, py) = (x1 + t * dx, y1 + t * dy);
            let off = (px * px + py * py).sqrt();
            let along =
                self.cumulative_m[i] + t * (self.cumulative_m[i + 1] - self.cumulative_m[i]);
            if best.is_none_or(|(b, _)| off < b) {
                best = Some((off, along));
            }
        }
        let (off, along) = best?;
        (off <= off_route_m).then(|| (self.arrival_at_m - along).max(0.0))
    }
}
