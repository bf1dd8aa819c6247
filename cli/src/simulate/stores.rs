//! Stores from the bundled OpenStreetMap POI list, each snapped to the street node a car would stop at.

use std::path::Path;

use super::error::{Error, Result};
use super::geo::{distance_m, LatLon};
use super::streets::StreetGraph;

/// Stores farther than this from a drivable street node are left out: the car stops at that node, and
/// it must be well inside the store's fence (40 m) for the stop to be a real arrival.
const MAX_SNAP_M: f64 = 20.0;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Store {
    /// `osm-node-<id>` / `osm-way-<id>`: stable across runs and traceable to OpenStreetMap.
    pub id: String,
    pub name: String,
    /// Where the store is.
    pub pos: LatLon,
    /// The street node the driver stops at, and how far that is from the door.
    pub node: usize,
    pub snap_m: f64,
}

#[derive(serde::Deserialize)]
struct PoiRow {
    osm_type: String,
    osm_id: i64,
    lat: f64,
    lon: f64,
    name: String,
}

/// Reads `osm_type,osm_id,lat,lon,amenity,name,...` rows and snaps each to `graph`.
pub fn load(path: &Path, graph: &StreetGraph) -> Result<Vec<Store>> {
    let err = |reason: String| Error::Stores {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
    let mut stores = Vec::new();
    for (line, row) in reader.deserialize::<PoiRow>().enumerate() {
        // Header is line 1, so the first record is line 2.
        let row = row.map_err(|e| err(format!("line {}: {e}", line + 2)))?;
        let pos = LatLon::new(row.lat, row.lon);
        let valid = row.lat.is_finite()
            && row.lon.is_finite()
            && (-90.0..=90.0).contains(&row.lat)
            && (-180.0..=180.0).contains(&row.lon);
        if !valid {
            return Err(err(format!("line {}: coordinates out of range", line + 2)));
        }
        let Some(node) = graph.nearest_node(pos) else {
            continue;
        };
        let snap_m = distance_m(pos, graph.nodes[node].pos);
        if snap_m > MAX_SNAP_M {
            continue;
        }
        let name = if row.name.trim().is_empty() {
            "(unnamed)".to_string()
        } else {
            row.name
        };
        stores.push(Store {
            id: format!("osm-{}-{}", row.osm_type, row.osm_id),
            name,
            pos,
            node,
            snap_m,
        });
    }
    if stores.is_empty() {
        return Err(err("no store lies near a drivable street".to_string()));
    }
    Ok(stores)
}
