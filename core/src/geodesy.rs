//! Metres on the Earth: geodesic distance and bearing (WGS84, Karney's algorithm through `geo`), the
//! signed distance from a fix to a fence boundary, and the bounding cap each fence occupies in the
//! spatial index.
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

/// Geodesic distance in metres between two (lat, lon) points on the WGS84 ellipsoid.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Geodesic.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// Initial geodesic bearing from the first point to the second, degrees clockwise from north, 0..360.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Geodesic
        .bearing(Point::new(lon1, lat1), Point::new(lon2, lat2))
        .rem_euclid(360.0)
}

/// A longitude difference wrapped into -180..=180, so that 179.9 → -179.9 is 0.2° east, not 359.8° west.
pub fn wrap_lon_delta(delta_deg: f64) -> f64 {
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
        // WGS84 meridional (M) and prime-vertical (N) radii of curvature at lat0.
        let e2 = WGS84_F * (2.0 - WGS84_F);
        let s = lat0.to_radians().sin();
        let w = (1.0 - e2 * s * s).sqrt();
        let n = WGS84_A / w;
        let m = WGS84_A * (1.0 - e2) / (w * w * w);
        Self {
            lat0,
            lon0,
            m_per_deg_lat: m.to_radians(),
            m_per_deg_lon: n.to_radians() * lat0.to_radians().cos(),
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
    match shape {
        FenceShape::Circle {
            lat: clat,
            lon: clon,
            radius_m,
        } => distance_m(lat, lon, *clat, *clon) - radius_m,
        FenceShape::Polygon(multi) => {
            let plane = LocalPlane::new(lat, lon);
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
