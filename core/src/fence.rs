//! Geofence definitions: circles around a store's coordinates, or polygons such as a building footprint.

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub enum FenceShape {
    Circle {
        lat: f64,
        lon: f64,
        radius_m: f64,
    },
    /// Longitude/latitude coordinates (x = lon, y = lat), as in GeoJSON.
    Polygon(MultiPolygon<f64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fence {
    pub id: String,
    pub shape: FenceShape,
    /// Seconds inside that count as an arrival even without stopping (e.g. a walk-in pickup).
    pub dwell_s: Option<f64>,
    /// Radius of the approach ring around the fence (metres); `approaching` fires once per leg inside it.
    pub approach_m: Option<f64>,
}

/// Per-fence options as they appear in GeoJSON feature properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FenceProperties {
    pub id: Option<String>,
    pub radius_m: Option<f64>,
    pub dwell_s: Option<f64>,
    pub approach_m: Option<f64>,
}
