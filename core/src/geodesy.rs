//! Metres on the Earth: geodesic distance and bearing (WGS84, Karney's algorithm through `geo`), the
//! signed distance from a fix to a fence boundary, and the bounding cap each fence occupies in the
//! spatial index.
//!
//! Speed: the engine measures distances on every fix (cleaning, motion, every candidate fence, the
//! target), almost all of them between points a few metres to a few hundred metres apart. Karney's
//! algorithm costs about a microsecond per call; for such short separations [`distance_m`] and
//! [`bearing_deg`] use the ellipsoid's local plane at the pair's mid-latitude instead (tens of
//! nanoseconds), whose error grows with the cube of the separation. From there to
//! [`CHORD_MAX_DISTANCE_M`] (a far target) distance is the straight 3-D chord between the two points
//! on the ellipsoid lengthened to the arc (`s ≈ c + c³/24R²`, R the radius of curvature along the
//! line). Both fall back to Karney beyond those ranges or above [`LOCAL_MAX_LAT_DEG`], where the
//! bounds below stop holding. Measured against Karney (random pairs and azimuths, |lat| ≤ 80°, tested
//! in `local_formulas_stay_within_their_bounds`): plane distance error ≤ 0.3 mm at 2 km, chord
//! error ≤ 0.1 mm at 100 km, bearing error ≤ 3e-7° at 500 m. Every distance the engine measures
//! for a fix starts at that fix, so it measures them from an [`Origin`], which computes the fix's
//! latitude trigonometry once and gives the same numbers to within a few units in the last place.
//!
//! Polygons are measured in a local tangent plane centred on the fix: longitude differences are
//! wrapped into -180..180 first, so a polygon drawn across the antimeridian (vertices at 179.99 and
//! -179.99) is one contiguous shape, and the plane's scale comes from the WGS84 radii of curvature at
//! the fix's latitude, so it stays right at 70°. Within a few kilometres of the fix the plane is off by
//! well under 0.1 %; fences are tens to hundreds of metres, and the engine refuses fences wider than
//! [`MAX_FENCE_RADIUS_M`]. Polygons that contain a pole are not supported (a delivery fence never does).

use geo::{Bearing, Distance, Geodesic, Point};

use crate::fence::FenceShape;

/// Mean Earth radius (IUGG), used only for the index's sphere; distances use the WGS84 ellipsoid.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Largest fence the engine accepts, measured from its centre (a local plane stops being accurate
/// beyond this, and no store or drop-off needs more).
pub const MAX_FENCE_RADIUS_M: f64 = 50_000.0;

const WGS84_A: f64 = 6_378_137.0;
const WGS84_F: f64 = 1.0 / 298.257_223_563;

/// Longest separation [`distance_m`] computes in the local plane (error ≤ 0.3 mm here).
pub const LOCAL_MAX_DISTANCE_M: f64 = 2_000.0;
/// Longest separation [`bearing_deg`] computes in the local plane (error ≤ 3e-7° here).
pub const LOCAL_MAX_BEARING_M: f64 = 500.0;
/// Longest separation [`distance_m`] computes from the chord (error ≤ 0.1 mm here).
pub const CHORD_MAX_DISTANCE_M: f64 = 100_000.0;
/// Above this latitude (either point) both always use Karney: meridians converge too fast.
pub const LOCAL_MAX_LAT_DEG: f64 = 80.0;

/// Geodesic distance in metres between two (lat, lon) points on the WGS84 ellipsoid.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    match local_offset_m(lat1, lon1, lat2, lon2) {
        Some((east, north)) => {
            let d = (east * east + north * north).sqrt();
            if d <= LOCAL_MAX_DISTANCE_M {
                return d;
            }
            // The plane overstates long east-west lines by well under 1 %, so this test is safe.
            if d <= CHORD_MAX_DISTANCE_M * 0.99 {
                return chord_arc_m(lat1, lon1, lat2, lon2, east, north);
            }
            karney_distance_m(lat1, lon1, lat2, lon2)
        }
        None => karney_distance_m(lat1, lon1, lat2, lon2),
    }
}

/// Initial geodesic bearing from the first point to the second, degrees clockwise from north, 0..360.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    if let Some((east, north)) = local_offset_m(lat1, lon1, lat2, lon2) {
        if east * east + north * north <= LOCAL_MAX_BEARING_M * LOCAL_MAX_BEARING_M {
            // The plane gives the bearing at the mid-point; a geodesic turns by Δλ·sin φ along its
            // length (meridian convergence), so at the start it is half of that less.
            let mid_lat = 0.5 * (lat1 + lat2);
            let convergence = 0.5 * wrap_lon_delta(lon2 - lon1) * mid_lat.to_radians().sin();
            return (east.atan2(north).to_degrees() - convergence).rem_euclid(360.0);
        }
    }
    karney_bearing_deg(lat1, lon1, lat2, lon2)
}

/// Karney's geodesic distance, whatever the separation (reference for the local formula).
pub fn karney_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Geodesic.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// Karney's initial bearing, whatever the separation, degrees 0..360.
pub fn karney_bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Geodesic
        .bearing(Point::new(lon1, lat1), Point::new(lon2, lat2))
        .rem_euclid(360.0)
}

/// The second point as (east, north) metres from the first in the tangent plane at their
/// mid-latitude (WGS84 radii of curvature there), or `None` above [`LOCAL_MAX_LAT_DEG`]. Taking the
/// radii at the mid-point cancels the second-order error, leaving one that grows with the cube of the
/// separation.
fn local_offset_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> Option<(f64, f64)> {
    if lat1.abs() > LOCAL_MAX_LAT_DEG || lat2.abs() > LOCAL_MAX_LAT_DEG {
        return None;
    }
    let (m_per_deg_lat, m_per_deg_lon) = metres_per_degree(0.5 * (lat1 + lat2));
    Some((
        wrap_lon_delta(lon2 - lon1) * m_per_deg_lon,
        (lat2 - lat1) * m_per_deg_lat,
    ))
}

/// The arc length from the chord between the two points on the ellipsoid: a circle of radius R
/// through both has arc `c + c³/24R² + O(c⁵/R⁴)`. R is the normal section's radius of curvature at
/// the mid-latitude in the line's direction (Euler: 1/R = cos²α/M + sin²α/N), with α taken from the
/// plane offset (east, north); an error of a few per cent in R moves the result by micrometres.
fn chord_arc_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64, east: f64, north: f64) -> f64 {
    let (a, b) = (ellipsoid_ecef_m(lat1, lon1), ellipsoid_ecef_m(lat2, lon2));
    let sin_mid = (0.5 * (lat1 + lat2)).to_radians().sin();
    chord_arc_from_ecef_m(a, b, sin_mid, east, north)
}

/// [`chord_arc_m`] from the two points' ellipsoid positions and the sine of their mid-latitude.
fn chord_arc_from_ecef_m(a: [f64; 3], b: [f64; 3], s: f64, east: f64, north: f64) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    let chord = (dx * dx + dy * dy + dz * dz).sqrt();
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let w2 = 1.0 - e2 * s * s;
    let n = WGS84_A / w2.sqrt();
    let m = WGS84_A * (1.0 - e2) / (w2 * w2.sqrt());
    let h2 = east * east + north * north;
    let inv_r = (north * north / m + east * east / n) / h2;
    chord + chord * chord * chord * inv_r * inv_r / 24.0
}

/// A point on the WGS84 ellipsoid in Earth-centred Cartesian metres.
fn ellipsoid_ecef_m(lat: f64, lon: f64) -> [f64; 3] {
    let (sp, cp) = lat.to_radians().sin_cos();
    ellipsoid_ecef_sin_cos_m(sp, cp, lon)
}

/// [`ellipsoid_ecef_m`] from the latitude's sine and cosine.
fn ellipsoid_ecef_sin_cos_m(sp: f64, cp: f64, lon: f64) -> [f64; 3] {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let (sl, cl) = lon.to_radians().sin_cos();
    let n = WGS84_A / (1.0 - e2 * sp * sp).sqrt();
    [n * cp * cl, n * cp * sl, n * (1.0 - e2) * sp]
}

/// Metres per degree of latitude and of longitude at a latitude, from the WGS84 meridional (M) and
/// prime-vertical (N) radii of curvature.
fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let (s, c) = lat_deg.to_radians().sin_cos();
    metres_per_degree_sin_cos(s, c)
}

/// [`metres_per_degree`] from the latitude's sine and cosine.
fn metres_per_degree_sin_cos(s: f64, c: f64) -> (f64, f64) {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let w2 = 1.0 - e2 * s * s;
    let w = w2.sqrt();
    let n = WGS84_A / w;
    let m = WGS84_A * (1.0 - e2) / (w2 * w);
    (m.to_radians(), n.to_radians() * c)
}

/// A longitude difference wrapped into -180..=180, so that 179.9 → -179.9 is 0.2° east, not 359.8° west.
pub fn wrap_lon_delta(delta_deg: f64) -> f64 {
    // The common case needs no division (this runs for every distance the engine measures).
    if delta_deg > -180.0 && delta_deg <= 180.0 {
        return delta_deg;
    }
    let wrapped = (delta_deg + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped == -180.0 {
        180.0
    } else {
        wrapped
    }
}

/// A longitude normalised into -180..=180.
pub fn wrap_lon(lon_deg: f64) -> f64 {
    wrap_lon_delta(lon_deg)
}

/// A point on a sphere of [`EARTH_RADIUS_M`] in Earth-centred Cartesian metres. The index works in this
/// space because it has no seam at ±180° and no singularity at the poles.
pub fn ecef_m(lat: f64, lon: f64) -> [f64; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [
        EARTH_RADIUS_M * lat.cos() * lon.cos(),
        EARTH_RADIUS_M * lat.cos() * lon.sin(),
        EARTH_RADIUS_M * lat.sin(),
    ]
}

/// A tangent plane at one point: x metres east, y metres north.
#[derive(Debug, Clone, Copy)]
pub struct LocalPlane {
    lat0: f64,
    lon0: f64,
    m_per_deg_lat: f64,
    m_per_deg_lon: f64,
}

impl LocalPlane {
    pub fn new(lat0: f64, lon0: f64) -> Self {
        let (m_per_deg_lat, m_per_deg_lon) = metres_per_degree(lat0);
        Self {
            lat0,
            lon0,
            m_per_deg_lat,
            m_per_deg_lon,
        }
    }

    pub fn to_xy(&self, lat: f64, lon: f64) -> (f64, f64) {
        (
            wrap_lon_delta(lon - self.lon0) * self.m_per_deg_lon,
            (lat - self.lat0) * self.m_per_deg_lat,
        )
    }

    /// The inverse of [`LocalPlane::to_xy`]; the longitude is wrapped into -180..=180.
    pub fn to_lat_lon(&self, x: f64, y: f64) -> (f64, f64) {
        let lat = self.lat0 + y / self.m_per_deg_lat;
        let lon = if self.m_per_deg_lon > 0.0 {
            self.lon0 + x / self.m_per_deg_lon
        } else {
            self.lon0
        };
        (lat, wrap_lon(lon))
    }
}

/// Signed distance in metres from a point to the fence boundary: negative inside, positive outside.
pub fn signed_distance_m(shape: &FenceShape, lat: f64, lon: f64) -> f64 {
    Origin::new(lat, lon).signed_distance_m(shape)
}

/// A point many distances are measured from: the engine's current fix, measured against the
/// previous fixes, the target and every candidate fence. [`distance_m`] spends most of its time on
/// the sine and cosine of the pair's mid-latitude; here the origin's are computed once, and each
/// mid-latitude's follow from them by the angle-addition formulas with a short series for the half
/// latitude difference (a few multiplications instead of a `sin_cos` per distance). The result
/// agrees with [`distance_m`] to within a few units in the last place (the mid-latitude is formed
/// in radians rather than degrees); beyond the local plane's range it is [`distance_m`].
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    lat: f64,
    lon: f64,
    sin_lat: f64,
    cos_lat: f64,
}

/// A point measured from many origins (the target fence's centre, from every fix of a leg), with
/// its position on the ellipsoid computed once for the chord formula (two `sin_cos`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedPoint {
    lat: f64,
    lon: f64,
    ecef: [f64; 3],
}

impl FixedPoint {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self {
            lat,
            lon,
            ecef: ellipsoid_ecef_m(lat, lon),
        }
    }

    /// Whether this is the point (lat, lon).
    pub fn is_at(&self, lat: f64, lon: f64) -> bool {
        self.lat == lat && self.lon == lon
    }
}

/// A point's offset from an [`Origin`] in the plane at their mid-latitude.
struct Offset {
    east: f64,
    north: f64,
    /// Sine of the mid-latitude (the meridian convergence a bearing needs).
    sin_mid: f64,
}

impl Offset {
    fn length_m(&self) -> f64 {
        (self.east * self.east + self.north * self.north).sqrt()
    }
}

/// Largest half latitude difference (radians, ≈ 32 km of latitude) for which [`Origin`] uses the
/// series; its first omitted term is below 1e-22 here, far under an f64's last place.
const ORIGIN_MAX_HALF_DLAT_RAD: f64 = 0.005;

impl Origin {
    pub fn new(lat: f64, lon: f64) -> Self {
        let (sin_lat, cos_lat) = lat.to_radians().sin_cos();
        Self {
            lat,
            lon,
            sin_lat,
            cos_lat,
        }
    }

    /// The origin as [`ecef_m`] gives it (for the spatial index), reusing its latitude's sine and
    /// cosine.
    pub fn sphere_ecef_m(&self) -> [f64; 3] {
        let (sin_lon, cos_lon) = self.lon.to_radians().sin_cos();
        [
            EARTH_RADIUS_M * self.cos_lat * cos_lon,
            EARTH_RADIUS_M * self.cos_lat * sin_lon,
            EARTH_RADIUS_M * self.sin_lat,
        ]
    }

    /// Geodesic distance in metres to a point, as [`distance_m`] from the origin.
    pub fn distance_m(&self, lat: f64, lon: f64) -> f64 {
        self.distance_with_m(lat, lon, || ellipsoid_ecef_m(lat, lon))
    }

    /// Distance in metres to a fixed point, as [`Origin::distance_m`]; a far one's position on the
    /// ellipsoid is not recomputed.
    pub fn distance_to_m(&self, point: &FixedPoint) -> f64 {
        self.distance_with_m(point.lat, point.lon, || point.ecef)
    }

    /// [`Origin::distance_m`], with the point's ellipsoid position from `ecef` if it is needed.
    fn distance_with_m(&self, lat: f64, lon: f64, ecef: impl FnOnce() -> [f64; 3]) -> f64 {
        if let Some(offset) = self.local_offset_m(lat, lon) {
            let d = offset.length_m();
            if d <= LOCAL_MAX_DISTANCE_M {
                return d;
            }
            // A far target, measured on every fix: `chord_arc_m` with the origin's latitude
            // trigonometry and the mid-latitude's sine already known.
            if d <= CHORD_MAX_DISTANCE_M * 0.99 {
                let a = ellipsoid_ecef_sin_cos_m(self.sin_lat, self.cos_lat, self.lon);
                return chord_arc_from_ecef_m(a, ecef(), offset.sin_mid, offset.east, offset.north);
            }
        }
        distance_m(self.lat, self.lon, lat, lon)
    }

    /// Initial bearing from a point to the origin, as [`bearing_deg`] from that point.
    pub fn bearing_from_deg(&self, lat: f64, lon: f64) -> f64 {
        if let Some(offset) = self.local_offset_m(lat, lon) {
            let (east, north) = (-offset.east, -offset.north);
            if east * east + north * north <= LOCAL_MAX_BEARING_M * LOCAL_MAX_BEARING_M {
                // As in `bearing_deg`: the plane's bearing is the mid-point's; half the meridian
                // convergence less at the start.
                let convergence = 0.5 * wrap_lon_delta(self.lon - lon) * offset.sin_mid;
                return (east.atan2(north).to_degrees() - convergence).rem_euclid(360.0);
            }
        }
        bearing_deg(lat, lon, self.lat, self.lon)
    }

    /// Signed distance in metres from the origin to the fence boundary, as [`signed_distance_m`].
    pub fn signed_distance_m(&self, shape: &FenceShape) -> f64 {
        match shape {
            FenceShape::Circle { lat, lon, radius_m } => self.distance_m(*lat, *lon) - radius_m,
            FenceShape::Polygon(multi) => self.polygon_signed_distance_m(multi),
        }
    }

    /// The point as (east, north) metres from the origin in the tangent plane at the mid-latitude,
    /// as `local_offset_m`, or `None` where that would not use the plane or the series.
    fn local_offset_m(&self, lat: f64, lon: f64) -> Option<Offset> {
        let half = 0.5 * (lat - self.lat).to_radians();
        if self.lat.abs() > LOCAL_MAX_LAT_DEG
            || lat.abs() > LOCAL_MAX_LAT_DEG
            || half.abs() > ORIGIN_MAX_HALF_DLAT_RAD
        {
            return None;
        }
        // Taylor series in nested form, multiplying by constant reciprocals (a division costs
        // several multiplications' time, and this runs for every distance the engine measures).
        let h2 = half * half;
        let sin_h =
            half * (1.0 - h2 * (1.0 / 6.0) * (1.0 - h2 * (1.0 / 20.0) * (1.0 - h2 * (1.0 / 42.0))));
        let cos_h = 1.0
            - h2 * 0.5
                * (1.0 - h2 * (1.0 / 12.0) * (1.0 - h2 * (1.0 / 30.0) * (1.0 - h2 * (1.0 / 56.0))));
        let sin_mid = self.sin_lat * cos_h + self.cos_lat * sin_h;
        let cos_mid = self.cos_lat * cos_h - self.sin_lat * sin_h;
        // `metres_per_degree_sin_cos` with one division instead of two.
        let e2 = WGS84_F * (2.0 - WGS84_F);
        let inv_w = 1.0 / (1.0 - e2 * sin_mid * sin_mid).sqrt();
        let n = WGS84_A * inv_w;
        let m = WGS84_A * (1.0 - e2) * inv_w * inv_w * inv_w;
        let (m_per_deg_lat, m_per_deg_lon) = (m.to_radians(), n.to_radians() * cos_mid);
        Some(Offset {
            east: wrap_lon_delta(lon - self.lon) * m_per_deg_lon,
            north: (lat - self.lat) * m_per_deg_lat,
            sin_mid,
        })
    }

    fn polygon_signed_distance_m(&self, multi: &geo::MultiPolygon<f64>) -> f64 {
        let (m_per_deg_lat, m_per_deg_lon) = metres_per_degree_sin_cos(self.sin_lat, self.cos_lat);
        let plane = LocalPlane {
            lat0: self.lat,
            lon0: self.lon,
            m_per_deg_lat,
            m_per_deg_lon,
        };
        let mut inside = false;
        let mut nearest = f64::INFINITY;
        for polygon in &multi.0 {
            // Even-odd over the exterior and the holes together: a point in a hole is outside.
            let mut in_this = false;
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let (crossings, edge) = ring_relation(&plane, ring);
                in_this ^= crossings;
                nearest = nearest.min(edge);
            }
            inside |= in_this;
        }
        if inside {
            -nearest
        } else {
            nearest
        }
    }
}

/// For a ring seen from the plane's origin: whether a ray from the origin crosses it an odd number of
/// times, and the distance from the origin to its nearest edge.
fn ring_relation(plane: &LocalPlane, ring: &geo::LineString<f64>) -> (bool, f64) {
    let mut odd = false;
    let mut nearest = f64::INFINITY;
    let mut points = ring.0.iter().map(|c| plane.to_xy(c.y, c.x));
    let Some(first) = points.next() else {
        return (false, nearest);
    };
    let mut prev = first;
    // Close the ring even if the caller did not repeat the first vertex.
    for cur in points.chain(std::iter::once(first)) {
        let ((x1, y1), (x2, y2)) = (prev, cur);
        if (y1 > 0.0) != (y2 > 0.0) {
            let x_at = x1 + (0.0 - y1) * (x2 - x1) / (y2 - y1);
            if x_at > 0.0 {
                odd = !odd;
            }
        }
        nearest = nearest.min(origin_to_segment(x1, y1, x2, y2));
        prev = cur;
    }
    (odd, nearest)
}

fn origin_to_segment(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(x1 * dx + y1 * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (px, py) = (x1 + t * dx, y1 + t * dy);
    (px * px + py * py).sqrt()
}

/// The smallest circle (on the sphere) the engine keeps around a fence for the index: every point
/// inside the fence is within `radius_m` of the centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cap {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

impl Cap {
    /// The cap of a fence shape. Polygons use the normalised mean of their vertices as the centre and
    /// the farthest vertex as the radius, plus 1 % and 1 m for the difference between straight edges in
    /// the local plane and the sphere the index uses.
    pub fn of(shape: &FenceShape) -> Cap {
        match shape {
            FenceShape::Circle { lat, lon, radius_m } => Cap {
                lat: *lat,
                lon: *lon,
                radius_m: *radius_m * 1.01 + 1.0,
            },
            FenceShape::Polygon(multi) => {
                let coords = || multi.0.iter().flat_map(|p| p.exterior().0.iter().copied());
                let mut sum = [0.0; 3];
                for c in coords() {
                    let v = ecef_m(c.y, c.x);
                    for (s, v) in sum.iter_mut().zip(v) {
                        *s += v;
                    }
                }
                let norm = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
                let (lat, lon) = if norm > 0.0 {
                    (
                        (sum[2] / norm).asin().to_degrees(),
                        sum[1].atan2(sum[0]).to_degrees(),
                    )
                } else {
                    (0.0, 0.0)
                };
                let far = coords()
                    .map(|c| distance_m(lat, lon, c.y, c.x))
                    .fold(0.0, f64::max);
                Cap {
                    lat,
                    lon,
                    radius_m: far * 1.01 + 1.0,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Destination;

    /// Deterministic pseudo-random numbers in 0..1 (no test dependency needed).
    fn uniform(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The bounds promised in the module docs, against Karney's algorithm on random pairs at every
    /// latitude up to the cut-off, any azimuth, across the antimeridian too.
    #[test]
    fn local_formulas_stay_within_their_bounds() {
        let mut state = 7;
        let (mut worst_d, mut worst_b, mut worst_chord) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..20_000 {
            let lat = (uniform(&mut state) * 2.0 - 1.0) * 79.0;
            let lon = (uniform(&mut state) * 2.0 - 1.0) * 180.0;
            let azimuth = uniform(&mut state) * 360.0;
            // Every fourth pair is long enough for the chord formula.
            let range = if i % 4 == 0 {
                CHORD_MAX_DISTANCE_M
            } else {
                LOCAL_MAX_DISTANCE_M
            };
            let d = uniform(&mut state) * range;
            let p = Geodesic.destination(Point::new(lon, lat), azimuth, d);
            let (lat2, lon2) = (p.y(), p.x());
            if lat2.abs() > LOCAL_MAX_LAT_DEG {
                continue;
            }
            let error =
                (distance_m(lat, lon, lat2, lon2) - karney_distance_m(lat, lon, lat2, lon2)).abs();
            if d <= LOCAL_MAX_DISTANCE_M {
                worst_d = worst_d.max(error);
            } else {
                worst_chord = worst_chord.max(error);
            }
            if d > 1.0 && d <= LOCAL_MAX_BEARING_M {
                let b = bearing_deg(lat, lon, lat2, lon2);
                let k = karney_bearing_deg(lat, lon, lat2, lon2);
                worst_b = worst_b.max(wrap_lon_delta(b - k).abs());
            }
        }
        assert!(worst_d <= 3e-4, "distance error {worst_d} m");
        assert!(worst_chord <= 1e-4, "chord distance error {worst_chord} m");
        assert!(worst_b <= 3e-7, "bearing error {worst_b}°");
    }

    /// `Origin` is only a faster way to the same numbers: against `distance_m`, `bearing_deg` and
    /// `signed_distance_m` on random pairs (plane, chord and Karney ranges, across the antimeridian
    /// and above the latitude cut-off) it may differ in the last few places, never more.
    #[test]
    fn origin_agrees_with_the_free_functions() {
        let mut state = 11;
        let mut worst = 0.0f64;
        for i in 0..20_000 {
            let lat = (uniform(&mut state) * 2.0 - 1.0) * 85.0;
            let lon = (uniform(&mut state) * 2.0 - 1.0) * 180.0;
            let azimuth = uniform(&mut state) * 360.0;
            let range = [
                LOCAL_MAX_BEARING_M,
                LOCAL_MAX_DISTANCE_M,
                CHORD_MAX_DISTANCE_M,
                150_000.0,
            ][i % 4];
            let d = uniform(&mut state) * range;
            let p = Geodesic.destination(Point::new(lon, lat), azimuth, d);
            let (lat2, lon2) = (p.y(), p.x());
            let origin = Origin::new(lat, lon);
            assert_eq!(origin.sphere_ecef_m(), ecef_m(lat, lon));
            let free = distance_m(lat, lon, lat2, lon2);
            let relative = (origin.distance_m(lat2, lon2) - free).abs() / free.max(1.0);
            worst = worst.max(relative);
            let circle = FenceShape::Circle {
                lat: lat2,
                lon: lon2,
                radius_m: 40.0,
            };
            let signed = signed_distance_m(&circle, lat, lon);
            assert!((origin.signed_distance_m(&circle) - signed).abs() <= 1e-9 * free.max(1.0));
            if d > 1.0 {
                let b = origin.bearing_from_deg(lat2, lon2);
                let k = bearing_deg(lat2, lon2, lat, lon);
                assert!(wrap_lon_delta(b - k).abs() <= 1e-9, "{b} vs {k}");
            }
        }
        assert!(worst <= 1e-12, "relative difference {worst}");
    }

    #[test]
    fn far_and_polar_pairs_use_karney() {
        // 150 km apart: beyond both local formulas.
        let far = distance_m(60.0, 25.0, 61.35, 25.0);
        assert_eq!(far, karney_distance_m(60.0, 25.0, 61.35, 25.0));
        // Near the pole, even 100 m goes to Karney.
        let polar = distance_m(85.0, 10.0, 85.0009, 10.0);
        assert_eq!(polar, karney_distance_m(85.0, 10.0, 85.0009, 10.0));
        let b = bearing_deg(85.0, 10.0, 85.0, 10.01);
        assert_eq!(b, karney_bearing_deg(85.0, 10.0, 85.0, 10.01));
    }

    #[test]
    fn wrapping_keeps_its_edges() {
        assert_eq!(wrap_lon_delta(180.0), 180.0);
        assert_eq!(wrap_lon_delta(-180.0), 180.0);
        assert_eq!(wrap_lon_delta(-179.5), -179.5);
        assert!((wrap_lon_delta(359.8) + 0.2).abs() < 1e-9);
        assert!((wrap_lon_delta(-359.8) - 0.2).abs() < 1e-9);
    }
}
