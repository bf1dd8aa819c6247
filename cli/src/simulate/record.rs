//! What the run recorded about each delivery: the ground truth, what the phone saw, what the companion
//! said and when. The summary's numbers and the HTML report are both computed from these records.

use serde::Serialize;

use super::geo::LatLon;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegKind {
    ToStore,
    ToCustomer,
}

/// A companion event placed on the map: where the phone thought it was when the event fired.
#[derive(Debug, Clone, Serialize)]
pub struct MapEvent {
    pub label: String,
    pub time_ms: i64,
    pub pos: LatLon,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegRecord {
    pub kind: LegKind,
    /// Who drove it (an order handed to another driver gets a new leg).
    pub driver: String,
    /// The street route the car really drove.
    pub truth_path: Vec<LatLon>,
    /// The fixes the phone reported (with noise).
    pub fixes: Vec<LatLon>,
    pub departed_ms: i64,
    /// The car came to rest inside the target fence.
    pub truth_arrival_ms: Option<i64>,
    /// The companion's `arrived` for this leg.
    pub detected_arrival_ms: Option<i64>,
    pub route_length_m: f64,
    pub stops_at_lights: usize,
    /// The driver lost the order during this leg (heartbeat lapse, cancellation).
    pub abandoned: bool,
    /// (time, reported ETA seconds) pairs from the companion on this leg.
    pub etas: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    pub order_id: String,
    pub store_name: String,
    pub store_pos: LatLon,
    pub store_radius_m: f64,
    pub customer_pos: LatLon,
    pub dropoff_radius_m: f64,
    pub driver: String,
    pub status: String,
    pub legs: Vec<LegRecord>,
    pub events: Vec<MapEvent>,
}
