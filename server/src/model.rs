//! The HTTP API's JSON shapes (camelCase, as the seed) and the stored records built from them.
//! `ToSchema` derives feed /openapi.json, so the document and the code cannot drift apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

impl Coordinates {
    /// Rejects out-of-range values with the field name only (never the value: it is personal data).
    pub fn check(&self, field: &str) -> Result<(), String> {
        if !self.latitude.is_finite() || !(-90.0..=90.0).contains(&self.latitude) {
            return Err(format!("{field}.latitude must be within -90..90"));
        }
        if !self.longitude.is_finite() || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(format!("{field}.longitude must be within -180..180"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    Small,
    Medium,
    Large,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pie {
    pub size: Size,
    pub cheese: Size,
    pub toppings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAddress {
    pub coordinates: Coordinates,
    pub street_address: String,
    pub city: String,
    pub postal_code: String,
    pub province: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrderRequest {
    pub store_id: String,
    pub payment_id: String,
    /// `items` is accepted as an alias.
    #[serde(alias = "items")]
    pub pies: Vec<Pie>,
    pub delivery_address: DeliveryAddress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Initiated,
    AcceptedByStore,
    DeclinedByStore,
    DriverAssigned,
    DriverArrived,
    OutForDelivery,
    Delivered,
    Cancelled,
    /// The delivery was not confirmed within the delivery timeout (the workflow's DeliveryNotConfirmed).
    DeliveryOverdue,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::AcceptedByStore => "accepted_by_store",
            Self::DeclinedByStore => "declined_by_store",
            Self::DriverAssigned => "driver_assigned",
            Self::DriverArrived => "driver_arrived",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::DeliveryOverdue => "delivery_overdue",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Initiated,
            Self::AcceptedByStore,
            Self::DeclinedByStore,
            Self::DriverAssigned,
            Self::DriverArrived,
            Self::OutForDelivery,
            Self::Delivered,
            Self::Cancelled,
            Self::DeliveryOverdue,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
    /// Statuses that count against a store's capacity.
    pub const ACTIVE_AT_STORE: [OrderStatus; 4] = [
        Self::Initiated,
        Self::AcceptedByStore,
        Self::DriverAssigned,
        Self::DriverArrived,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclinedReason {
    NoCapacity,
    ClosingTime,
    OpeningTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriverEta {
    pub distance_m: f64,
    pub eta_s: f64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStep {
    pub instruction: String,
    pub distance_m: f64,
}

/// A store's geofence: a circle around its location (`radiusM`) or a polygon ring of `[lon, lat]` pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreFence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<[f64; 2]>>,
}

impl Default for StoreFence {
    fn default() -> Self {
        Self {
            radius_m: Some(50.0),
            polygon: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Opening hours in store-local time: `open`/`close` as "HH:MM"; `close` before `open` runs past midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpeningHours {
    pub days: Vec<Weekday>,
    pub open: String,
    pub close: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateStoreRequest {
    pub store_id: Option<String>,
    pub name: String,
    pub location: Coordinates,
    pub fence: Option<StoreFence>,
    pub opening_hours: Option<Vec<OpeningHours>>,
    pub utc_offset_minutes: Option<i32>,
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    pub store_id: String,
    pub name: String,
    pub location: Coordinates,
    pub fence: StoreFence,
    pub opening_hours: Vec<OpeningHours>,
    pub utc_offset_minutes: i32,
    pub capacity: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateStoreResponse {
    pub store: Store,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreTokenResponse {
    pub store_id: String,
    pub token: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePartyRequest {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDriverResponse {
    pub driver_id: String,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerResponse {
    pub customer_id: String,
    pub token: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvanceClockRequest {
    pub seconds: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockResponse {
    pub now: DateTime<Utc>,
}

/// An order as stored. Views for each party are cut from it; task tokens live in the engine, not here.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub order_id: String,
    pub store_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub payment_id: String,
    pub pies: Vec<Pie>,
    pub delivery_address: DeliveryAddress,
    pub delivery_steps: Vec<DeliveryStep>,
    pub driver_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dispatch_estimated_at: DateTime<Utc>,
    pub delivery_estimated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub declined_reason: Option<DeclinedReason>,
    pub driver_eta: Option<DriverEta>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    pub order_id: String,
    pub status: OrderStatus,
    pub store_id: String,
    pub pies: Vec<Pie>,
    pub delivery_address: DeliveryAddress,
    pub delivery_estimated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub driver_eta: Option<DriverEta>,
    pub cancel_reason: Option<String>,
    pub declined_reason: Option<DeclinedReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreView {
    pub order_id: String,
    pub status: OrderStatus,
    pub store_id: String,
    pub pies: Vec<Pie>,
    pub dispatch_estimated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub driver_id: Option<String>,
    pub driver_eta: Option<DriverEta>,
    pub decision_deadline: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub declined_reason: Option<DeclinedReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriverView {
    pub order_id: String,
    pub status: OrderStatus,
    pub store_id: String,
    pub delivery_address: DeliveryAddress,
    pub delivery_steps: Vec<DeliveryStep>,
    pub dispatch_estimated_at: DateTime<Utc>,
    pub delivery_estimated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub store_location: Coordinates,
    pub store_fence: StoreFence,
    pub cancel_reason: Option<String>,
}

impl OrderRecord {
    pub fn customer_view(&self) -> CustomerView {
        CustomerView {
            order_id: self.order_id.clone(),
            status: self.status,
            store_id: self.store_id.clone(),
            pies: self.pies.clone(),
            delivery_address: self.delivery_address.clone(),
            delivery_estimated_at: self.delivery_estimated_at,
            created_at: self.created_at,
            delivered_at: self.delivered_at,
            driver_eta: self.driver_eta,
            cancel_reason: self.cancel_reason.clone(),
            declined_reason: self.declined_reason,
        }
    }
    pub fn store_view(&self, decision_deadline: Option<DateTime<Utc>>) -> StoreView {
        StoreView {
            order_id: self.order_id.clone(),
            status: self.status,
            store_id: self.store_id.clone(),
            pies: self.pies.clone(),
            dispatch_estimated_at: self.dispatch_estimated_at,
            created_at: self.created_at,
            driver_id: self.driver_id.clone(),
            driver_eta: self.driver_eta,
            decision_deadline,
            cancel_reason: self.cancel_reason.clone(),
            declined_reason: self.declined_reason,
        }
    }
    pub fn driver_view(&self, store: &Store) -> DriverView {
        DriverView {
            order_id: self.order_id.clone(),
            status: self.status,
            store_id: self.store_id.clone(),
            delivery_address: self.delivery_address.clone(),
            delivery_steps: self.delivery_steps.clone(),
            dispatch_estimated_at: self.dispatch_estimated_at,
            delivery_estimated_at: self.delivery_estimated_at,
            created_at: self.created_at,
            store_location: store.location,
            store_fence: store.fence.clone(),
            cancel_reason: self.cancel_reason.clone(),
        }
    }
}

/// The answer of `GET /order/{orderId}`: one of the three views, chosen by `party`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OrderView {
    Customer(CustomerView),
    Store(StoreView),
    Driver(DriverView),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderViewResponse {
    pub order: OrderView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaceOrderResponse {
    pub message: String,
    pub order: CustomerView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRequest {
    pub order_id: String,
    pub store_id: String,
    pub accepted: bool,
    pub task_token: String,
    pub declined_reason: Option<DeclinedReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupCodeResponse {
    pub order_id: String,
    pub code: String,
    pub qr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub offer_id: String,
    pub order_id: String,
    pub store_id: String,
    pub store_name: String,
    pub store_location: Coordinates,
    pub store_fence: StoreFence,
    pub delivery_address: DeliveryAddress,
    pub pies: Vec<Pie>,
    pub dispatch_estimated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OffersResponse {
    pub offers: Vec<Offer>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DeclineOfferRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptOfferResponse {
    pub message: String,
    pub order: DriverView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentsResponse {
    pub orders: Vec<DriverView>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    pub time: DateTime<Utc>,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationReport {
    pub available: Option<bool>,
    pub fixes: Vec<Fix>,
    pub order_id: Option<String>,
    pub distance_m: Option<f64>,
    pub eta_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationReportResponse {
    pub accepted: usize,
    pub server_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalKind {
    ApproachingStore,
    ArrivedAtStore,
    ApproachingCustomer,
    ArrivedAtCustomer,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArrivalRequest {
    pub order_id: String,
    pub event: ArrivalKind,
    pub time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArrivalResponse {
    pub message: String,
    pub status: OrderStatus,
}

/// The fix that proves a handoff (pickup or delivery).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub time: DateTime<Utc>,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: f64,
    pub inside_fence: bool,
    pub mock: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupRequest {
    pub order_id: String,
    pub code: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupResponse {
    pub message: String,
    pub delivery_steps: Vec<DeliveryStep>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredRequest {
    pub order_id: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveredResponse {
    pub message: String,
    pub order: DriverView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthResponse {
    pub status: String,
}
