//! Distances the server needs (store fence checks, nearest driver, delivery estimates). Great-circle
//! (haversine) distances on a 6,371 km sphere: within 0.5 % of geodesic, far below GPS error at fence scale.

use crate::model::{Coordinates, StoreFence};

const EARTH_RADIUS_M: f64 = 6_371_008.8;

pub fn haversine_m(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Distance in metres from `p` to the fence: 0 inside, otherwise to the circle's edge or the polygon's nearest
/// edge. Polygons are measured in a local equirectangular projection centred on `p` (metre-accurate at
/// store scale; longitudes are unwrapped so rings across the antimeridian work too).
pub fn distance_outside_fence_m(p: Coordinates, centre: Coordinates, fence: &StoreFence) -> f64 {
    if let Some(ring) = fence.polygon.as_ref().filter(|r| r.len() >= 3) {
        let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        let cos_lat = p.latitude.to_radians().cos();
        let pts: Vec<(f64, f64)> = ring
            .iter()
            .map(|[lon, lat]| {
                let mut dlon = lon - p.longitude;
                if dlon > 180.0 {
                    dlon -= 360.0;
                } else if dlon < -180.0 {
                    dlon += 360.0;
                }
                (dlon * k * cos_lat, (lat - p.latitude) * k)
            })
            .collect();
        if contains_origin(&pts) {
            return 0.0;
        }
        let n = pts.len();
        return (0..n)
            .map(|i| segment_distance_to_origin(pts[i], pts[(i + 1) % n]))
            .fold(f64::INFINITY, f64::min);
    }
    let radius = fence.radius_m.unwrap_or(50.0);
    (haversine_m(p, centre) - radius).max(0.0)
}

/// Ray casting from the origin along +x.
fn contains_origin(pts: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let n = pts.len();
    for i in 0..n {
        let (xi, yi) = pts[i];
        let (xj, yj) = pts[(i + n - 1) % n];
        if (yi > 0.0) != (yj > 0.0) {
            let x_cross = xi + (0.0 - yi) * (xj - xi) / (yj - yi);
            if x_cross > 0.0 {
                inside = !inside;
            }
        }
    }
    inside
}

fn segment_distance_to_origin(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    (x * x + y * y).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(latitude: f64, longitude: f64) -> Coordinates {
        Coordinates {
            latitude,
            longitude,
        }
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // Helsinki–Tallinn cathedral squares: ~80.6 km.
        let d = haversine_m(c(60.1699, 24.9384), c(59.4370, 24.7536));
        assert!((d - 82_000.0).abs() < 1_500.0, "{d}");
        assert!(haversine_m(c(0.0, 179.9995), c(0.0, -179.9995)) < 120.0);
    }

    #[test]
    fn circle_and_polygon_fences() {
        let centre = c(60.17, 24.94);
        let circle = StoreFence {
            radius_m: Some(40.0),
            polygon: None,
        };
        assert_eq!(distance_outside_fence_m(centre, centre, &circle), 0.0);
        let d = distance_outside_fence_m(c(60.171, 24.94), centre, &circle);
        assert!((d - (111.3 - 40.0)).abs() < 2.0, "{d}");
        // A ~111 m square around the centre.
        let square = StoreFence {
            radius_m: None,
            polygon: Some(vec![
                [24.939, 60.1695],
                [24.941, 60.1695],
                [24.941, 60.1705],
                [24.939, 60.1705],
            ]),
        };
        assert_eq!(distance_outside_fence_m(centre, centre, &square), 0.0);
        let d = distance_outside_fence_m(c(60.1715, 24.94), centre, &square);
        assert!((d - 111.3).abs() < 2.0, "{d}");
    }
}
