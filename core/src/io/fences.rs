//! Geofences from GeoJSON: `Point` features with a `radius_m` property (circles), `Polygon` and
//! `MultiPolygon` features. Properties: `id` (else the feature's own `id`; a string or a number),
//! optional `dwell_s` and `approach_m`.
//!
//! Rejected, each with the line of the offending feature, ring or position: a missing or duplicate id;
//! a circle without `radius_m` or with radius ≤ 0; coordinates out of range; rings with fewer than four
//! positions, not closed (first ≠ last), or of zero area. Self-intersecting rings are not detected.

use super::geojson_doc::{Doc, FeatureRef};
use super::read_text;
use crate::error::Result;
use crate::fence::{Fence, FenceShape};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Reads a GeoJSON fence file.
pub fn read_fences(path: impl AsRef<Path>) -> Result<Vec<Fence>> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_fences_str(&text, &path.display().to_string())
}

/// Parses GeoJSON fence text; `name` is used as the path in errors.
pub fn parse_fences_str(text: &str, name: &str) -> Result<Vec<Fence>> {
    let (doc, root) = Doc::parse(text, name)?;
    let mut fences = Vec::new();
    // id → line of its first feature, to point at both in the duplicate error.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for feature in doc.features(&root)? {
        let line = doc.lines.line(&feature.pointer);
        let fence = fence(&doc, &feature)?;
        if let Some(first) = seen.insert(fence.id.clone(), line) {
            return Err(doc.error(
                &feature.pointer,
                format!(
                    "duplicate fence id `{}` (first used on line {first})",
                    fence.id
                ),
            ));
        }
        fences.push(fence);
    }
    if fences.is_empty() {
        return Err(doc.error("", "the file has no fences"));
    }
    Ok(fences)
}

fn fence(doc: &Doc, feature: &FeatureRef) -> Result<Fence> {
    let id = fence_id(feature).ok_or_else(|| {
        doc.error(
            &feature.pointer,
            "fence has no id (set properties.id or the feature's id)",
        )
    })?;
    let properties = feature.properties();
    let props_at = feature.pointer_to("/properties");
    let dwell_s = doc.optional_number(properties, "dwell_s", &props_at)?;
    if dwell_s.is_some_and(|d| d < 0.0) {
        return Err(doc.error(&props_at, "dwell_s must not be negative"));
    }
    let approach_m = doc.optional_number(properties, "approach_m", &props_at)?;
    if approach_m.is_some_and(|a| a <= 0.0) {
        return Err(doc.error(&props_at, "approach_m must be greater than 0"));
    }

    let (geometry, kind) = feature
        .geometry()
        .map_err(|reason| doc.error(&feature.pointer, reason))?;
    let coordinates = geometry.get("coordinates").unwrap_or(&Value::Null);
    let at = feature.pointer_to("/geometry/coordinates");
    let shape = match kind {
        "Point" => {
            let (lon, lat) = checked_position(doc, coordinates, &at)?;
            let radius_m = doc
                .optional_number(properties, "radius_m", &props_at)?
                .ok_or_else(|| doc.error(&feature.pointer, "a Point fence needs `radius_m`"))?;
            if radius_m <= 0.0 {
                return Err(doc.error(&props_at, "radius_m must be greater than 0"));
            }
            FenceShape::Circle { lat, lon, radius_m }
        }
        "Polygon" => FenceShape::Polygon(MultiPolygon(vec![polygon(doc, coordinates, &at)?])),
        "MultiPolygon" => {
            let parts = coordinates
                .as_array()
                .ok_or_else(|| doc.error(&at, "MultiPolygon coordinates must be an array"))?;
            if parts.is_empty() {
                return Err(doc.error(&at, "MultiPolygon has no polygons"));
            }
            let polygons = parts
                .iter()
                .enumerate()
                .map(|(p, part)| polygon(doc, part, &format!("{at}/{p}")))
                .collect::<Result<Vec<_>>>()?;
            FenceShape::Polygon(MultiPolygon(polygons))
        }
        other => {
            return Err(doc.error(
                &feature.pointer,
                format!(
                    "a {other} cannot be a fence: use a Point with radius_m, a Polygon or a \
                     MultiPolygon"
                ),
            ))
        }
    };
    Ok(Fence {
        id,
        shape,
        dwell_s,
        approach_m,
    })
}

/// `properties.id`, else the feature's `id`; strings as they are, numbers as written.
fn fence_id(feature: &FeatureRef) -> Option<String> {
    let from = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    feature
        .properties()
        .and_then(|p| p.get("id"))
        .and_then(from)
        .or_else(|| feature.feature.get("id").and_then(from))
}

fn checked_position(doc: &Doc, value: &Value, at: &str) -> Result<(f64, f64)> {
    let (lon, lat) = doc.position(value, at)?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err(doc.error(at, "latitude is outside -90..=90"));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(doc.error(at, "longitude is outside -180..=180"));
    }
    Ok((lon, lat))
}

/// A polygon: an exterior ring, then holes.
fn polygon(doc: &Doc, value: &Value, at: &str) -> Result<Polygon<f64>> {
    let rings = value
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| doc.error(at, "a polygon must be a non-empty array of rings"))?;
    let mut rings = rings
        .iter()
        .enumerate()
        .map(|(r, ring)| linear_ring(doc, ring, &format!("{at}/{r}")));
    let exterior = rings
        .next()
        .ok_or_else(|| doc.error(at, "a polygon needs an exterior ring"))??;
    let holes = rings.collect::<Result<Vec<_>>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn linear_ring(doc: &Doc, value: &Value, at: &str) -> Result<LineString<f64>> {
    let positions = value
        .as_array()
        .ok_or_else(|| doc.error(at, "a ring must be an array of positions"))?;
    if positions.len() < 4 {
        return Err(doc.error(at, "a ring needs at least 4 positions (first = last)"));
    }
    let coords = positions
        .iter()
        .enumerate()
        .map(|(k, p)| checked_position(doc, p, &format!("{at}/{k}")).map(|(x, y)| Coord { x, y }))
        .collect::<Result<Vec<_>>>()?;
    if coords.first() != coords.last() {
        return Err(doc.error(
            at,
            "the ring is not closed (its first and last positions differ)",
        ));
    }
    // Relative to the first vertex so that collinear rings far from (0, 0) come out as ~0, and a
    // threshold of 1e-14 degree² (about 1e-4 m²) for what rounding leaves.
    if shoelace_area(&coords).abs() < 1e-14 {
        return Err(doc.error(at, "the ring is degenerate (zero area)"));
    }
    Ok(LineString(coords))
}

/// Twice the signed area in degree², computed relative to the first vertex.
fn shoelace_area(coords: &[Coord<f64>]) -> f64 {
    let origin = coords.first().copied().unwrap_or(Coord { x: 0.0, y: 0.0 });
    coords
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0] - origin, w[1] - origin);
            a.x * b.y - b.x * a.y
        })
        .sum()
}
