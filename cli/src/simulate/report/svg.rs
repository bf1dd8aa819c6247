//! Tiny SVG building blocks: escaping, a projection from WGS84 to a viewBox, polylines.

use std::fmt::Write;

use crate::simulate::geo::LatLon;

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Maps lat/lon onto an SVG canvas with equal metres per pixel in both directions (local
/// equirectangular projection: fine for a city).
pub struct Projection {
    min_lon: f64,
    max_lat: f64,
    px_per_m: f64,
    cos_lat: f64,
    pad: f64,
}

const M_PER_DEG_LAT: f64 = 111_195.0;

impl Projection {
    /// Fits `points` into `width` × `height` pixels with `pad` pixels of margin.
    pub fn fit(points: &[LatLon], width: f64, height: f64, pad: f64) -> Self {
        let (mut min_lat, mut max_lat) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut min_lon, mut max_lon) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in points {
            min_lat = min_lat.min(p.lat);
            max_lat = max_lat.max(p.lat);
            min_lon = min_lon.min(p.lon);
            max_lon = max_lon.max(p.lon);
        }
        if !min_lat.is_finite() {
            (min_lat, max_lat, min_lon, max_lon) = (0.0, 0.0, 0.0, 0.0);
        }
        let cos_lat = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.01);
        let w_m = ((max_lon - min_lon) * M_PER_DEG_LAT * cos_lat).max(50.0);
        let h_m = ((max_lat - min_lat) * M_PER_DEG_LAT).max(50.0);
        let px_per_m = ((width - 2.0 * pad) / w_m).min((height - 2.0 * pad) / h_m);
        Self {
            min_lon,
            max_lat,
            px_per_m,
            cos_lat,
            pad,
        }
    }

    pub fn xy(&self, p: LatLon) -> (f64, f64) {
        let x = (p.lon - self.min_lon) * M_PER_DEG_LAT * self.cos_lat * self.px_per_m + self.pad;
        let y = (self.max_lat - p.lat) * M_PER_DEG_LAT * self.px_per_m + self.pad;
        (x, y)
    }

    pub fn metres(&self, m: f64) -> f64 {
        m * self.px_per_m
    }

    /// Pixels for 100 m, for a scale bar.
    pub fn scale_100m(&self) -> f64 {
        self.metres(100.0)
    }
}

/// `points="x,y x,y …"` for a polyline.
pub fn points_attr(proj: &Projection, path: &[LatLon]) -> String {
    let mut out = String::new();
    for p in path {
        let (x, y) = proj.xy(*p);
        let _ = write!(out, "{x:.1},{y:.1} ");
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape("<b>\"Fish & 'Chips'\"</b>"),
            "&lt;b&gt;&quot;Fish &amp; &#39;Chips&#39;&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn projection_keeps_points_inside_the_canvas_and_north_up() {
        let pts = [LatLon::new(60.16, 24.93), LatLon::new(60.18, 24.96)];
        let proj = Projection::fit(&pts, 400.0, 300.0, 10.0);
        let (x0, y0) = proj.xy(pts[0]);
        let (x1, y1) = proj.xy(pts[1]);
        for v in [x0, x1] {
            assert!((9.9..=390.1).contains(&v), "{v}");
        }
        for v in [y0, y1] {
            assert!((9.9..=290.1).contains(&v), "{v}");
        }
        assert!(y1 < y0, "north is up");
        assert!(x1 > x0, "east is right");
    }
}
