//! Moving a position by a few metres east/north. Errors of tens of metres are small enough for the
//! tangent plane: the WGS84 radii of curvature at the latitude make the conversion exact to well
//! under a millimetre at these distances.

const A: f64 = 6_378_137.0; // WGS84 semi-major axis, m
const E2: f64 = 6.694_379_990_14e-3; // WGS84 first eccentricity squared

/// (lat, lon) moved by `east_m`, `north_m`. Latitude is clamped to ±90, longitude wrapped into
/// −180..180 (so noise near the antimeridian stays valid).
pub fn offset_by_metres(lat: f64, lon: f64, east_m: f64, north_m: f64) -> (f64, f64) {
    let phi = lat.to_radians();
    let w = (1.0 - E2 * phi.sin().powi(2)).sqrt();
    let meridional = A * (1.0 - E2) / (w * w * w); // M: north-south radius of curvature
    let normal = A / w; // N: east-west radius of curvature
    let dlat = (north_m / meridional).to_degrees();
    // cos φ → 0 at the poles; a floor keeps the longitude finite there.
    let dlon = (east_m / (normal * phi.cos().max(1e-9))).to_degrees();
    let lat = (lat + dlat).clamp(-90.0, 90.0);
    let lon = (lon + dlon + 180.0).rem_euclid(360.0) - 180.0;
    (lat, lon)
}

#[cfg(test)]
mod tests {
    use super::offset_by_metres;
    use geo::{Distance, Geodesic, Point};

    #[test]
    fn offsets_match_geodesic_distance() {
        for lat in [0.0, 45.0, 60.17, 70.0, -33.9] {
            let (la, lo) = offset_by_metres(lat, 10.0, 30.0, 40.0);
            let d = Geodesic.distance(Point::new(10.0, lat), Point::new(lo, la));
            assert!((d - 50.0).abs() < 0.01, "lat {lat}: {d}");
        }
    }

    #[test]
    fn wraps_across_the_antimeridian() {
        let (_, lon) = offset_by_metres(0.0, 179.9999, 100.0, 0.0);
        assert!((-180.0..-179.99).contains(&lon), "{lon}");
    }
}
