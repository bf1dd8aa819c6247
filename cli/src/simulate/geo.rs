//! The little geometry the simulator needs: great-circle distance, bearings and interpolation.
//! Distances here measure the simulated world (routes, ground truth); the companion measures its own.

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }
}

/// Haversine distance in metres. Accurate to ~0.3 % — plenty for driving a simulated car around a city.
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in 0..360.
pub fn bearing_deg(a: LatLon, b: LatLon) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlambda = (b.lon - a.lon).to_radians();
    let y = dlambda.sin() * phi2.cos();
    let x = phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * dlambda.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// Absolute difference between two bearings, 0..=180 degrees.
pub fn turn_angle_deg(from_bearing: f64, to_bearing: f64) -> f64 {
    let d = (to_bearing - from_bearing).rem_euclid(360.0);
    if d > 180.0 {
        360.0 - d
    } else {
        d
    }
}

/// Linear interpolation between two nearby points (segments are street-length: tens of metres).
pub fn lerp(a: LatLon, b: LatLon, t: f64) -> LatLon {
    LatLon::new(a.lat + (b.lat - a.lat) * t, a.lon + (b.lon - a.lon) * t)
}

#[cfg(test)]
/// The point `distance_m` metres from `origin` towards `bearing_deg` (flat-earth step, fine below a few km).
pub fn offset(origin: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
    let b = bearing_deg.to_radians();
    let dlat = distance_m * b.cos() / EARTH_RADIUS_M;
    let dlon = distance_m * b.sin() / (EARTH_RADIUS_M * origin.lat.to_radians().cos());
    LatLon::new(
        origin.lat + dlat.to_degrees(),
        origin.lon + dlon.to_degrees(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = distance_m(LatLon::new(60.0, 25.0), LatLon::new(61.0, 25.0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn offset_then_distance_round_trips() {
        let o = LatLon::new(60.17, 24.94);
        let p = offset(o, 45.0, 250.0);
        assert!((distance_m(o, p) - 250.0).abs() < 0.5);
        assert!((bearing_deg(o, p) - 45.0).abs() < 0.5);
    }

    #[test]
    fn turn_angle_wraps_around_north() {
        assert!((turn_angle_deg(350.0, 10.0) - 20.0).abs() < 1e-9);
        assert!((turn_angle_deg(10.0, 190.0) - 180.0).abs() < 1e-9);
    }
}
