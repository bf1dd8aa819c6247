//! Dispatch offers as the driver sees them: store, fence and drop-off.

use fencepost_core::companion as core;

/// A WGS 84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LatLon {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

/// The store's geofence as the server describes it.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FenceSpec {
    /// A circle of `radius_m` metres around the store's location.
    Circle { radius_m: f64 },
    /// A polygon (for example the building's footprint), as one ring of positions.
    Polygon { ring: Vec<LatLon> },
}

/// A dispatch offer: what to show the driver before they accept or decline.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DispatchOffer {
    /// Pass this to `acceptDispatch` / `declineDispatch`.
    pub offer_id: String,
    /// The order the offer is for.
    pub order_id: String,
    /// The store to pick up from.
    pub store_id: String,
    /// The store's display name.
    pub store_name: String,
    /// Where the store is.
    pub store_location: LatLon,
    /// The store's fence (arrival and pickup evidence are judged against it).
    pub store_fence: FenceSpec,
    /// The customer's delivery location.
    pub dropoff: LatLon,
    /// When the offer lapses if not answered, Unix epoch milliseconds.
    pub expires_at_ms: i64,
}

impl From<core::LatLon> for LatLon {
    fn from(p: core::LatLon) -> Self {
        LatLon {
            lat: p.lat,
            lon: p.lon,
        }
    }
}

impl From<core::FenceSpec> for FenceSpec {
    fn from(f: core::FenceSpec) -> Self {
        match f {
            core::FenceSpec::Circle { radius_m } => FenceSpec::Circle { radius_m },
            core::FenceSpec::Polygon { ring } => FenceSpec::Polygon {
                ring: ring.into_iter().map(Into::into).collect(),
            },
        }
    }
}

impl From<core::DispatchOffer> for DispatchOffer {
    fn from(o: core::DispatchOffer) -> Self {
        DispatchOffer {
            offer_id: o.offer_id,
            order_id: o.order_id,
            store_id: o.store_id,
            store_name: o.store_name,
            store_location: o.store_location.into(),
            store_fence: o.store_fence.into(),
            dropoff: o.dropoff.into(),
            expires_at_ms: o.expires_at_ms,
        }
    }
}
