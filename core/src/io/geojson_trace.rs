//! GeoJSON traces: `Point` features with a `time` property (and optional `accuracy_m`, `speed_mps`,
//! `bearing_deg`), or `LineString` features with a parallel `coordTimes` array (the convention of
//! togeojson and of GPX-to-GeoJSON converters). Times are RFC 3339 strings or Unix seconds. Features are
//! read in document order; both kinds may be mixed.

use super::geojson_doc::{Doc, FeatureRef};
use super::time::{parse_time_ms, unix_seconds_to_ms, BAD_TIME};
use super::{point, TracePoint};
use crate::error::Result;
use crate::fix::LocationFix;
use serde_json::Value;

pub(crate) fn parse(text: &str, name: &str) -> Result<Vec<TracePoint>> {
    let (doc, root) = Doc::parse(text, name)?;
    let mut points = Vec::new();
    for feature in doc.features(&root)? {
        let (geometry, kind) = feature
            .geometry()
            .map_err(|reason| doc.error(&feature.pointer, reason))?;
        let coordinates = geometry.get("coordinates").unwrap_or(&Value::Null);
        match kind {
            "Point" => points.push(point_feature(&doc, &feature, coordinates)?),
            "LineString" => line_feature(&doc, &feature, coordinates, &mut points)?,
            other => {
                return Err(doc.error(
                    &feature.pointer,
                    format!(
                        "a {other} is not a trace: use Point features with `time` or a \
                         LineString with `coordTimes`"
                    ),
                ))
            }
        }
    }
    if points.is_empty() {
        return Err(doc.error("", "the trace has no fixes"));
    }
    Ok(points)
}

fn point_feature(doc: &Doc, feature: &FeatureRef, coordinates: &Value) -> Result<TracePoint> {
    let at = feature.pointer_to("/geometry/coordinates");
    let (lon, lat) = doc.position(coordinates, &at)?;
    let properties = feature.properties();
    let time_at = feature.pointer_to("/properties/time");
    let time = properties
        .and_then(|p| p.get("time"))
        .ok_or_else(|| doc.error(&feature.pointer, "Point feature has no `time` property"))?;
    let time_ms = time_value_ms(time).ok_or_else(|| doc.error(&time_at, BAD_TIME))?;

    let mut fix = LocationFix::new(time_ms, lat, lon);
    let props_at = feature.pointer_to("/properties");
    fix.accuracy_m = doc.optional_number(properties, "accuracy_m", &props_at)?;
    fix.speed_mps = doc.optional_number(properties, "speed_mps", &props_at)?;
    fix.bearing_deg = doc.optional_number(properties, "bearing_deg", &props_at)?;
    Ok(point(doc.lines.line(&feature.pointer), fix))
}

fn line_feature(
    doc: &Doc,
    feature: &FeatureRef,
    coordinates: &Value,
    points: &mut Vec<TracePoint>,
) -> Result<()> {
    let coords_at = feature.pointer_to("/geometry/coordinates");
    let times_at = feature.pointer_to("/properties/coordTimes");
    let positions = coordinates
        .as_array()
        .ok_or_else(|| doc.error(&coords_at, "LineString coordinates must be an array"))?;
    let times = feature
        .properties()
        .and_then(|p| p.get("coordTimes"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            doc.error(
                &feature.pointer,
                "LineString has no `coordTimes` array in its properties",
            )
        })?;
    if times.len() != positions.len() {
        return Err(doc.error(
            &times_at,
            format!(
                "coordTimes has {} entries but the LineString has {} positions",
                times.len(),
                positions.len()
            ),
        ));
    }
    for (j, (position, time)) in positions.iter().zip(times).enumerate() {
        let at = format!("{coords_at}/{j}");
        let (lon, lat) = doc.position(position, &at)?;
        let time_ms =
            time_value_ms(time).ok_or_else(|| doc.error(&format!("{times_at}/{j}"), BAD_TIME))?;
        points.push(point(
            doc.lines.line(&at),
            LocationFix::new(time_ms, lat, lon),
        ));
    }
    Ok(())
}

/// A time property: an RFC 3339 string, or a number of Unix seconds.
fn time_value_ms(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => parse_time_ms(s),
        Value::Number(n) => unix_seconds_to_ms(n.as_f64()?),
        _ => None,
    }
}
