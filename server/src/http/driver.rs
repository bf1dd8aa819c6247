//! The driver's endpoints: offers and their answers, assignments, batched location/ETA reports (the
//! workflow heartbeat), arrival events, pickup and delivery. A driver acts only on orders assigned to them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;

use crate::db::Repository;
use crate::error::{ApiError, ErrorBody};
use crate::evidence::{self, Place};
use crate::feed::STORE;
use crate::http::auth::Caller;
use crate::http::handoff::{DELIVERY, PICKUP};
use crate::http::json::{JsonBody, OptionalJsonBody};
use crate::http::path::PathId;
use crate::http::{engine_error, load_order, load_store, not_now, timed_out, AppState};
use crate::model::{
    AcceptOfferResponse, ArrivalKind, ArrivalRequest, ArrivalResponse, AssignmentsResponse,
    Coordinates, DeclineOfferRequest, DeliveredRequest, DeliveredResponse, DriverEta,
    LocationReport, LocationReportResponse, MessageResponse, OffersResponse, OrderRecord,
    OrderStatus, PickupRequest, PickupResponse,
};
use crate::validate;
use crate::workflow::machine::offer_of;
use crate::workflow::{EngineError, TaskKind};

const ACTIVE: [OrderStatus; 3] = [
    OrderStatus::DriverAssigned,
    OrderStatus::DriverArrived,
    OrderStatus::OutForDelivery,
];

/// The order, if it is assigned to `driver_id` (404 unknown, 403 someone else's).
fn assigned_order(
    state: &AppState,
    order_id: &str,
    driver_id: &str,
) -> Result<OrderRecord, ApiError> {
    let order = load_order(state, order_id)?;
    if order.driver_id.as_deref() != Some(driver_id) {
        return Err(ApiError::forbidden("This order is not assigned to you."));
    }
    Ok(order)
}

#[utoipa::path(get, path = "/driver/offers", tag = "driver",
    responses((status = 200, body = OffersResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn offers(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<OffersResponse>, ApiError> {
    let driver_id = caller.require_driver()?;
    let now_ms = state.clock.now_ms();
    let offers = state.db.write(|repo| -> Result<_, ApiError> {
        let mut offers = Vec::new();
        for task in repo.open_offers_for_driver(driver_id)? {
            let (Some(offer_id), Some(expires)) = (&task.offer_id, task.timeout_at_ms) else {
                continue;
            };
            if expires <= now_ms {
                continue; // expired; the timer loop withdraws it momentarily
            }
            let Some(order) = repo.order(&task.order_id)? else {
                continue;
            };
            let Some(store) = repo.store(&order.store_id)? else {
                continue;
            };
            offers.push(offer_of(&order, &store, offer_id, expires));
        }
        Ok(offers)
    })?;
    Ok(Json(OffersResponse { offers }))
}

async fn offer_for_driver(
    state: &AppState,
    offer_id: &str,
    driver_id: &str,
) -> Result<crate::workflow::TaskInfo, ApiError> {
    let task = state
        .engine
        .offer_task(offer_id)
        .await
        .map_err(|e| engine_error(e, offer_id))?;
    let task = task.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "offer_not_found",
            format!(
                "Offer with id [{}] does not exist.",
                crate::error::printable(offer_id)
            ),
        )
    })?;
    if task.driver_id.as_deref() != Some(driver_id) {
        return Err(ApiError::forbidden(
            "This offer was made to another driver.",
        ));
    }
    Ok(task)
}

fn offer_closed(offer_id: &str) -> impl Fn(EngineError) -> ApiError + '_ {
    move |e| match e {
        EngineError::TaskTimedOut | EngineError::InvalidToken => timed_out(format!(
            "Offer [{}] is no longer open (already answered, withdrawn or expired).",
            crate::error::printable(offer_id)
        )),
        other => engine_error(other, offer_id),
    }
}

#[utoipa::path(post, path = "/driver/offers/{offerId}/accept", tag = "driver",
    params(("offerId" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, body = AcceptOfferResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn accept_offer(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    PathId(offer_id): PathId,
) -> Result<Json<AcceptOfferResponse>, ApiError> {
    let driver_id = caller.require_driver()?;
    let task = offer_for_driver(&state, &offer_id, driver_id).await?;
    state
        .engine
        .send_task_success(&task.token, json!({"driverId": driver_id}))
        .await
        .map_err(offer_closed(&offer_id))?;
    let order = load_order(&state, &task.order_id)?;
    let store = load_store(&state, &order.store_id)?;
    tracing::info!(order_id = %order.order_id, "offer accepted");
    Ok(Json(AcceptOfferResponse {
        message: format!("Offer [{offer_id}] accepted."),
        order: order.driver_view(&store),
    }))
}

#[utoipa::path(post, path = "/driver/offers/{offerId}/decline", tag = "driver", request_body = Option<DeclineOfferRequest>,
    params(("offerId" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decline_offer(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    PathId(offer_id): PathId,
    OptionalJsonBody(body): OptionalJsonBody<DeclineOfferRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let driver_id = caller.require_driver()?;
    let task = offer_for_driver(&state, &offer_id, driver_id).await?;
    let cause: String = body
        .reason
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    state
        .engine
        .send_task_failure(&task.token, "OfferDeclined", &cause)
        .await
        .map_err(offer_closed(&offer_id))?;
    Ok(Json(MessageResponse {
        message: format!("Offer [{offer_id}] declined."),
    }))
}

#[utoipa::path(get, path = "/driver/assignments", tag = "driver",
    responses((status = 200, body = AssignmentsResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assignments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<AssignmentsResponse>, ApiError> {
    let driver_id = caller.require_driver()?;
    let orders = state.db.write(|repo| -> Result<_, ApiError> {
        let mut views = Vec::new();
        for order in repo.driver_orders(driver_id, &ACTIVE)? {
            if let Some(store) = repo.store(&order.store_id)? {
                views.push(order.driver_view(&store));
            }
        }
        Ok(views)
    })?;
    Ok(Json(AssignmentsResponse { orders }))
}

/// Heartbeats the order's open pickup task, if the workflow waits on one.
async fn heartbeat(state: &AppState, order_id: &str) -> Result<(), ApiError> {
    let task = state
        .engine
        .open_task(order_id, TaskKind::Pickup)
        .await
        .map_err(|e| engine_error(e, order_id))?;
    if let Some(task) = task {
        match state.engine.send_task_heartbeat(&task.token).await {
            Ok(()) => {}
            Err(EngineError::TaskTimedOut) => {
                return Err(ApiError::forbidden(
                    "The heartbeat lapsed and this order was reassigned.",
                ))
            }
            Err(e) => return Err(engine_error(e, order_id)),
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/driver/locations", tag = "driver", request_body = LocationReport,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = LocationReportResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn locations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(report): JsonBody<LocationReport>,
) -> Result<Json<LocationReportResponse>, ApiError> {
    let driver_id = caller.require_driver()?.to_string();
    let now = state.clock.now();
    validate::location_report(&report, now).map_err(ApiError::invalid_body)?;
    let Some(last) = report.fixes.last() else {
        return Err(ApiError::invalid_body("fixes must not be empty"));
    };
    let last_at = Coordinates {
        latitude: last.latitude,
        longitude: last.longitude,
    };
    let order = match &report.order_id {
        Some(order_id) => {
            let order = assigned_order(&state, order_id, &driver_id)?;
            if !ACTIVE.contains(&order.status) {
                return Err(not_now(&order));
            }
            heartbeat(&state, &order.order_id).await?;
            Some(order)
        }
        None => None,
    };
    let now_ms = now.timestamp_millis();
    let available = report.available.unwrap_or(true);
    let eta = report
        .distance_m
        .zip(report.eta_s)
        .map(|(distance_m, eta_s)| DriverEta {
            distance_m,
            eta_s,
            at: now,
        });
    state.db.write(|repo| -> Result<(), ApiError> {
        repo.record_driver_location(&driver_id, last_at, now_ms, available)?;
        if let (Some(mut order), Some(eta)) = (order, eta) {
            order.driver_eta = Some(eta);
            repo.update_order(&order)?;
            let data = json!({"orderId": order.order_id, "driverId": driver_id, "distanceM": eta.distance_m,
                              "etaS": eta.eta_s, "at": now});
            repo.append_event(STORE, &order.store_id, "driver_eta", &data.to_string(), now_ms)?;
        }
        Ok(())
    })?;
    state.feed.ring();
    Ok(Json(LocationReportResponse {
        accepted: report.fixes.len(),
        server_time: now,
    }))
}

#[utoipa::path(post, path = "/order/arrival", tag = "driver", request_body = ArrivalRequest,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = ArrivalResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn arrival(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<ArrivalRequest>,
) -> Result<Json<ArrivalResponse>, ApiError> {
    let driver_id = caller.require_driver()?.to_string();
    let mut order = assigned_order(&state, &req.order_id, &driver_id)?;
    let at_store = matches!(
        req.event,
        ArrivalKind::ApproachingStore | ArrivalKind::ArrivedAtStore
    );
    let allowed = if at_store {
        matches!(
            order.status,
            OrderStatus::DriverAssigned | OrderStatus::DriverArrived
        )
    } else {
        order.status == OrderStatus::OutForDelivery
    };
    if !allowed {
        return Err(ApiError::invalid_state(format!(
            "Order [{}] is {}: this arrival event does not apply.",
            order.order_id,
            order.status.as_str()
        )));
    }
    if at_store {
        heartbeat(&state, &order.order_id).await?;
    }
    let (kind, place) = match req.event {
        ArrivalKind::ApproachingStore => ("driver_approaching", "store"),
        ArrivalKind::ArrivedAtStore => ("driver_arrived", "store"),
        ArrivalKind::ApproachingCustomer => ("driver_approaching", "customer"),
        ArrivalKind::ArrivedAtCustomer => ("driver_arrived", "customer"),
    };
    let now_ms = state.clock.now_ms();
    state.db.write(|repo| -> Result<(), ApiError> {
        if repo.has_order_event(STORE, &order.store_id, kind, &order.order_id, &driver_id, place)? {
            return Ok(()); // a repeat: accepted and ignored
        }
        if req.event == ArrivalKind::ArrivedAtStore && order.status == OrderStatus::DriverAssigned {
            order.status = OrderStatus::DriverArrived;
            repo.update_order(&order)?;
        }
        let data = json!({"orderId": order.order_id, "driverId": driver_id, "place": place, "at": req.time});
        repo.append_event(STORE, &order.store_id, kind, &data.to_string(), now_ms)?;
        Ok(())
    })?;
    state.feed.ring();
    Ok(Json(ArrivalResponse {
        message: format!("Arrival event recorded for order [{}].", order.order_id),
        status: order.status,
    }))
}

#[utoipa::path(post, path = "/order/pickup", tag = "driver", request_body = PickupRequest,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = PickupResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "Not your order, or a forged code", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, description = "Evidence refused", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pickup(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<PickupRequest>,
) -> Result<Json<PickupResponse>, ApiError> {
    let driver_id = caller.require_driver()?.to_string();
    let order = assigned_order(&state, &req.order_id, &driver_id)?;
    PICKUP.check_status(&order)?;
    if !state.codes.verify(&order.order_id, &req.code) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_pickup_code",
            "The pickup code is not this order's code.",
        ));
    }
    let store = load_store(&state, &order.store_id)?;
    evidence::check(
        &req.evidence,
        Place::Store {
            location: store.location,
            fence: &store.fence,
        },
        state.clock.now(),
    )?;
    PICKUP.complete(&state, &order).await?;
    tracing::info!(order_id = %order.order_id, "picked up");
    Ok(Json(PickupResponse {
        message: format!("Pickup has been recorded for order [{}].", order.order_id),
        delivery_steps: order.delivery_steps,
    }))
}

#[utoipa::path(post, path = "/order/delivered", tag = "driver", request_body = DeliveredRequest,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = DeliveredResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delivered(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<DeliveredRequest>,
) -> Result<Json<DeliveredResponse>, ApiError> {
    let driver_id = caller.require_driver()?.to_string();
    let order = assigned_order(&state, &req.order_id, &driver_id)?;
    DELIVERY.check_status(&order)?;
    evidence::check(
        &req.evidence,
        Place::Customer {
            location: order.delivery_address.coordinates,
        },
        state.clock.now(),
    )?;
    DELIVERY.complete(&state, &order).await?;
    let order = load_order(&state, &order.order_id)?;
    let store = load_store(&state, &order.store_id)?;
    tracing::info!(order_id = %order.order_id, "delivered");
    Ok(Json(DeliveredResponse {
        message: format!("Delivery has been recorded for order [{}].", order.order_id),
        order: order.driver_view(&store),
    }))
}
