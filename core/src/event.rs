//! What the engine tells the rest of the system about a fix. See docs/ARCHITECTURE.md, "Geofence event
//! semantics".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Entered,
    Arrived,
    Exited,
    Approaching,
    Eta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeofenceEvent {
    pub kind: EventKind,
    pub fence_id: String,
    /// The time of the fix that triggered the event, Unix epoch milliseconds.
    pub time_ms: i64,
    /// Geodesic distance to the target fence (metres); set on `eta` and `approaching`.
    pub distance_m: Option<f64>,
    /// Estimated seconds to reach the target fence; set on `eta` and `approaching`.
    pub eta_s: Option<f64>,
}
