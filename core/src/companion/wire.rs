//! The JSON the middleware speaks (docs/http-api.md): request bodies built from the companion's records,
//! offers parsed into them. Field names are camelCase and times RFC 3339 UTC on the wire; the companion
//! keeps epoch milliseconds everywhere else. One file so a change in the API touches one place.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::evidence::Evidence;
use super::listener::{DispatchOffer, FenceSpec, LatLon};
use super::outbox::{MessageKind, NewMessage, StoredFix};

pub fn rfc3339(time_ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(time_ms)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Which arrival the companion reports (`POST /order/arrival`'s `event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalEvent {
    ApproachingStore,
    ArrivedAtStore,
    ApproachingCustomer,
    ArrivedAtCustomer,
}

impl ArrivalEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalEvent::ApproachingStore => "approaching_store",
            ArrivalEvent::ArrivedAtStore => "arrived_at_store",
            ArrivalEvent::ApproachingCustomer => "approaching_customer",
            ArrivalEvent::ArrivedAtCustomer => "arrived_at_customer",
        }
    }
}

pub fn accept(offer: &DispatchOffer) -> NewMessage {
    NewMessage {
        order_id: offer.order_id.clone(),
        kind: MessageKind::Accept,
        idempotency_key: format!("{}:accept", offer.order_id),
        path: format!("/driver/offers/{}/accept", offer.offer_id),
        body: "{}".to_owned(),
    }
}

pub fn decline(offer: &DispatchOffer, reason: &str) -> NewMessage {
    NewMessage {
        order_id: offer.order_id.clone(),
        kind: MessageKind::Decline,
        idempotency_key: format!("{}:decline:{}", offer.order_id, offer.offer_id),
        path: format!("/driver/offers/{}/decline", offer.offer_id),
        body: json!({ "reason": reason }).to_string(),
    }
}

pub fn arrival(order_id: &str, event: ArrivalEvent, time_ms: i64) -> NewMessage {
    NewMessage {
        order_id: order_id.to_owned(),
        kind: MessageKind::Arrival,
        idempotency_key: format!("{order_id}:{}", event.as_str()),
        path: "/order/arrival".to_owned(),
        body: json!({ "orderId": order_id, "event": event.as_str(), "time": rfc3339(time_ms) })
            .to_string(),
    }
}

fn evidence_json(e: &Evidence) -> serde_json::Value {
    json!({
        "time": rfc3339(e.time_ms),
        "latitude": e.latitude,
        "longitude": e.longitude,
        "accuracyM": e.accuracy_m,
        "insideFence": e.inside_fence,
        "mock": e.mock,
    })
}

/// `attempt` counts scans of this order: a rescan after a refused one is a new step with a new body,
/// so it needs a new key (the server answers 422 to a reused key with another body).
pub fn pickup(order_id: &str, code: &str, evidence: &Evidence, attempt: u32) -> NewMessage {
    NewMessage {
        order_id: order_id.to_owned(),
        kind: MessageKind::Pickup,
        idempotency_key: format!("{order_id}:pickup:{attempt}"),
        path: "/order/pickup".to_owned(),
        body:
            json!({ "orderId": order_id, "code": code.trim(), "evidence": evidence_json(evidence) })
                .to_string(),
    }
}

pub fn delivered(order_id: &str, evidence: &Evidence) -> NewMessage {
    NewMessage {
        order_id: order_id.to_owned(),
        kind: MessageKind::Delivered,
        idempotency_key: format!("{order_id}:delivered"),
        path: "/order/delivered".to_owned(),
        body: json!({ "orderId": order_id, "evidence": evidence_json(evidence) }).to_string(),
    }
}

fn fixes_json(fixes: &[StoredFix]) -> Vec<serde_json::Value> {
    fixes
        .iter()
        .map(|f| {
            let mut v =
                json!({ "time": rfc3339(f.time_ms), "latitude": f.lat, "longitude": f.lon });
            if let (Some(a), Some(obj)) = (f.accuracy_m, v.as_object_mut()) {
                obj.insert("accuracyM".to_owned(), json!(a));
            }
            v
        })
        .collect()
}

/// One location batch of an active order; `first_fix_id` makes the key unique and stable.
pub fn locations(
    order_id: &str,
    fixes: &[StoredFix],
    first_fix_id: i64,
    distance_m: Option<f64>,
    eta_s: Option<f64>,
) -> NewMessage {
    let mut body = json!({ "available": true, "fixes": fixes_json(fixes), "orderId": order_id });
    if let Some(obj) = body.as_object_mut() {
        if let Some(d) = distance_m.filter(|d| d.is_finite() && *d >= 0.0) {
            obj.insert("distanceM".to_owned(), json!(d));
        }
        if let Some(e) = eta_s.filter(|e| e.is_finite() && *e >= 0.0) {
            obj.insert("etaS".to_owned(), json!(e.round()));
        }
    }
    NewMessage {
        order_id: order_id.to_owned(),
        kind: MessageKind::Locations,
        idempotency_key: format!("{order_id}:locations:{first_fix_id}"),
        path: "/driver/locations".to_owned(),
        body: body.to_string(),
    }
}

/// A standby report: the driver is available (or not) for offers, at this one fix.
pub fn availability(fix: &StoredFix, available: bool) -> NewMessage {
    NewMessage {
        order_id: String::new(),
        kind: MessageKind::Availability,
        idempotency_key: format!("availability:{}:{}", fix.time_ms, available),
        path: "/driver/locations".to_owned(),
        body: json!({ "available": available, "fixes": fixes_json(std::slice::from_ref(fix)) })
            .to_string(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLatLon {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAddress {
    coordinates: WireLatLon,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFence {
    radius_m: Option<f64>,
    /// `[[lon, lat], ...]` as GeoJSON.
    polygon: Option<Vec<[f64; 2]>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOffer {
    offer_id: String,
    order_id: String,
    store_id: String,
    #[serde(default)]
    store_name: String,
    store_location: WireLatLon,
    store_fence: Option<WireFence>,
    delivery_address: WireAddress,
    expires_at: String,
}

#[derive(Deserialize)]
struct WireOffers {
    offers: Vec<WireOffer>,
}

/// The server's default store fence (docs/http-api.md, `POST /admin/stores`).
const DEFAULT_FENCE_RADIUS_M: f64 = 50.0;

/// Parses `GET /driver/offers`. Offers with unusable geometry are skipped (and counted) rather than
/// failing the whole list.
pub fn parse_offers(body: &str) -> Result<(Vec<DispatchOffer>, usize), &'static str> {
    let wire: WireOffers =
        serde_json::from_str(body).map_err(|_| "offer list is not valid JSON")?;
    let mut offers = Vec::new();
    let mut skipped = 0;
    for o in wire.offers {
        match convert_offer(o) {
            Some(offer) => offers.push(offer),
            None => skipped += 1,
        }
    }
    Ok((offers, skipped))
}

fn valid(p: LatLon) -> bool {
    p.lat.is_finite() && p.lon.is_finite() && p.lat.abs() <= 90.0 && p.lon.abs() <= 180.0
}

fn convert_offer(o: WireOffer) -> Option<DispatchOffer> {
    let store_location = LatLon {
        lat: o.store_location.latitude,
        lon: o.store_location.longitude,
    };
    let dropoff = LatLon {
        lat: o.delivery_address.coordinates.latitude,
        lon: o.delivery_address.coordinates.longitude,
    };
    if !valid(store_location) || !valid(dropoff) {
        return None;
    }
    let store_fence = match o.store_fence {
        Some(WireFence {
            polygon: Some(ring),
            ..
        }) if ring.len() >= 3 => {
            let ring: Vec<LatLon> = ring
                .iter()
                .map(|[lon, lat]| LatLon {
                    lat: *lat,
                    lon: *lon,
                })
                .collect();
            if !ring.iter().all(|p| valid(*p)) {
                return None;
            }
            FenceSpec::Polygon { ring }
        }
        Some(WireFence {
            radius_m: Some(r), ..
        }) if r.is_finite() && r > 0.0 => FenceSpec::Circle { radius_m: r },
        _ => FenceSpec::Circle {
            radius_m: DEFAULT_FENCE_RADIUS_M,
        },
    };
    Some(DispatchOffer {
        expires_at_ms: parse_time(&o.expires_at)?,
        offer_id: o.offer_id,
        order_id: o.order_id,
        store_id: o.store_id,
        store_name: o.store_name,
        store_location,
        store_fence,
        dropoff,
    })
}

/// The server's error body (`{"message", "code"}`); both may be missing on a proxy's error page.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct WireError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: String,
}

/// A driver-feed event saying an order is no longer this driver's to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEnded {
    pub order_id: String,
    /// `"<event>"` or `"<event> (<reason>)"`: the server's words, no personal data.
    pub why: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOrderEvent {
    order_id: String,
    #[serde(default)]
    reason: Option<String>,
}

/// The driver feed's `order_cancelled`, `unassigned` (also accepted as `driver_unassigned`) and
/// `delivery_overdue` events (docs/http-api.md, `GET /driver/events`). `Ok(None)` for every other kind;
/// an error when one of those kinds carries data without an order id.
pub fn parse_order_ended(kind: &str, data: &str) -> Result<Option<OrderEnded>, &'static str> {
    if !matches!(
        kind,
        "order_cancelled" | "unassigned" | "driver_unassigned" | "delivery_overdue"
    ) {
        return Ok(None);
    }
    let event: WireOrderEvent =
        serde_json::from_str(data).map_err(|_| "a driver feed event has no readable order id")?;
    // The reason is a server code; capped so a malformed one cannot bloat the error event.
    let why = match event.reason {
        Some(reason) => format!("{kind} ({})", reason.chars().take(64).collect::<String>()),
        None => kind.to_owned(),
    };
    Ok(Some(OrderEnded {
        order_id: event.order_id,
        why,
    }))
}
