//! Geofence events as records for the shells.

use fencepost_core::event as core;

/// What happened at a fence. See docs/ARCHITECTURE.md, "Geofence event semantics".
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GeofenceEventKind {
    /// Confidently inside the fence, accuracy taken into account.
    Entered,
    /// Inside and stopped (or dwelling); at most once per visit.
    Arrived,
    /// Confidently outside for long enough.
    Exited,
    /// Within the approach distance or ETA of the target fence; once per leg.
    Approaching,
    /// New distance/ETA to the target fence.
    Eta,
}

/// One geofence event.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeofenceEvent {
    /// What happened.
    pub kind: GeofenceEventKind,
    /// The fence it happened at.
    pub fence_id: String,
    /// Time of the fix that triggered it, Unix epoch milliseconds.
    pub time_ms: i64,
    /// Geodesic distance to the target fence in metres (`Eta` and `Approaching`).
    pub distance_m: Option<f64>,
    /// Estimated seconds to reach the target fence (`Eta` and `Approaching`).
    pub eta_s: Option<f64>,
}

impl From<core::EventKind> for GeofenceEventKind {
    fn from(k: core::EventKind) -> Self {
        match k {
            core::EventKind::Entered => GeofenceEventKind::Entered,
            core::EventKind::Arrived => GeofenceEventKind::Arrived,
            core::EventKind::Exited => GeofenceEventKind::Exited,
            core::EventKind::Approaching => GeofenceEventKind::Approaching,
            core::EventKind::Eta => GeofenceEventKind::Eta,
        }
    }
}

impl From<core::GeofenceEvent> for GeofenceEvent {
    fn from(e: core::GeofenceEvent) -> Self {
        GeofenceEvent {
            kind: e.kind.into(),
            fence_id: e.fence_id,
            time_ms: e.time_ms,
            distance_m: e.distance_m,
            eta_s: e.eta_s,
        }
    }
}
