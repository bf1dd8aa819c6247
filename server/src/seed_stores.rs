//! `--seed-stores FILE.geojson`: a FeatureCollection of stores. Point features (with `radius_m`, default
//! 50) or Polygon features (the outer ring is the fence; the location is the ring's vertex mean).
//! Properties: `id` (required), `name`, `capacity`, `utc_offset_minutes`, `opening_hours` (as the API's
//! `openingHours`). Existing stores are left as they are.

use std::path::Path;

use serde_json::Value;

use crate::db::{Db, Repository};
use crate::error::{Error, Result};
use crate::model::{Coordinates, CreateStoreRequest, OpeningHours, StoreFence};
use crate::validate;

pub fn load(db: &Db, path: &Path, now_ms: i64) -> Result<usize> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Config(format!("{}: not JSON: {e}", path.display())))?;
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::Config(format!(
                "{}: expected a GeoJSON FeatureCollection",
                path.display()
            ))
        })?;
    let mut stores = Vec::new();
    for (i, feature) in features.iter().enumerate() {
        let req = parse_feature(feature)
            .map_err(|e| Error::Config(format!("{} feature {i}: {e}", path.display())))?;
        let store = validate::store(req, String::new())
            .map_err(|e| Error::Config(format!("{} feature {i}: {e}", path.display())))?;
        stores.push(store);
    }
    db.write(|repo| {
        let mut added = 0;
        for store in &stores {
            added += usize::from(repo.insert_store(store, None, now_ms)?);
        }
        Ok(added)
    })
}

fn parse_feature(feature: &Value) -> std::result::Result<CreateStoreRequest, String> {
    let props = feature.get("properties").cloned().unwrap_or(Value::Null);
    let id = match props.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("properties.id is required".into()),
    };
    let geometry = feature.get("geometry").ok_or("geometry is required")?;
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry.type is required")?;
    let coords = geometry
        .get("coordinates")
        .ok_or("geometry.coordinates is required")?;
    let pair = |v: &Value| -> std::result::Result<[f64; 2], String> {
        let arr = v
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or("a position must be [lon, lat]")?;
        match (arr[0].as_f64(), arr[1].as_f64()) {
            (Some(lon), Some(lat)) => Ok([lon, lat]),
            _ => Err("a position must hold numbers".into()),
        }
    };
    let (location, fence) = match kind {
        "Point" => {
            let [lon, lat] = pair(coords)?;
            let radius = props
                .get("radius_m")
                .and_then(Value::as_f64)
                .unwrap_or(50.0);
            (
                Coordinates {
                    latitude: lat,
                    longitude: lon,
                },
                StoreFence {
                    radius_m: Some(radius),
                    polygon: None,
                },
            )
        }
        "Polygon" => {
            let ring = coords
                .as_array()
                .and_then(|r| r.first())
                .and_then(Value::as_array)
                .ok_or("Polygon needs a ring")?;
            let mut points = ring
                .iter()
                .map(pair)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            if points.len() > 1 && points.first() == points.last() {
                points.pop();
            }
            if points.is_empty() {
                return Err("Polygon ring is empty".into());
            }
            let n = points.len() as f64;
            let lon = points.iter().map(|p| p[0]).sum::<f64>() / n;
            let lat = points.iter().map(|p| p[1]).sum::<f64>() / n;
            (
                Coordinates {
                    latitude: lat,
                    longitude: lon,
                },
                StoreFence {
                    radius_m: None,
                    polygon: Some(points),
                },
            )
        }
        other => {
            return Err(format!(
                "geometry type {other} is not a store (use Point or Polygon)"
            ))
        }
    };
    let opening_hours: Option<Vec<OpeningHours>> = match props.get("opening_hours") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(serde_json::from_value(v.clone()).map_err(|e| format!("opening_hours: {e}"))?)
        }
    };
    Ok(CreateStoreRequest {
        store_id: Some(id.clone()),
        name: props
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_string(),
        location,
        fence: Some(fence),
        opening_hours,
        utc_offset_minutes: props
            .get("utc_offset_minutes")
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok()),
        capacity: props
            .get("capacity")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok()),
    })
}
