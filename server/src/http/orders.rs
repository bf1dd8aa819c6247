//! The seed's order endpoints: place an order, read a party's view, the store's decision, and the store's
//! pickup code.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Duration;
use serde_json::json;

use crate::db::Repository;
use crate::error::{ApiError, ErrorBody};
use crate::geometry::haversine_m;
use crate::http::auth::Caller;
use crate::http::json::JsonBody;
use crate::http::path::PathId;
use crate::http::{engine_error, load_order, load_store, AppState};
use crate::ids;
use crate::model::{
    DecisionRequest, DeliveryStep, MessageResponse, OrderRecord, OrderStatus, OrderView,
    OrderViewResponse, PickupCodeResponse, PlaceOrderRequest, PlaceOrderResponse,
};
use crate::validate;
use crate::workflow::TaskKind;

/// Seed: dispatch is estimated 15 minutes after the order.
const DISPATCH_AFTER_S: i64 = 900;
/// Without a routing service, delivery time is the straight-line distance at this speed.
const DELIVERY_SPEED_MPS: f64 = 8.0;

#[utoipa::path(post, path = "/order", tag = "customer", request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses(
        (status = 201, description = "Order initiated (or cancelled at once by the POS check)", body = PlaceOrderResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown store", body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn place_order(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<PlaceOrderRequest>,
) -> Result<(StatusCode, Json<PlaceOrderResponse>), ApiError> {
    let customer_id = caller.require_customer()?.to_string();
    validate::order(&req).map_err(ApiError::invalid_body)?;
    let store = load_store(&state, &req.store_id)?;
    let now = state.clock.now();
    let distance_m = haversine_m(store.location, req.delivery_address.coordinates);
    let dispatch_estimated_at = now + Duration::seconds(DISPATCH_AFTER_S);
    let order = OrderRecord {
        order_id: ids::nanoid(),
        store_id: store.store_id.clone(),
        customer_id,
        status: OrderStatus::Initiated,
        payment_id: req.payment_id,
        pies: req.pies,
        delivery_address: req.delivery_address,
        delivery_steps: vec![DeliveryStep {
            instruction: "Drive from the store to the delivery address (straight-line estimate)."
                .into(),
            distance_m: distance_m.round(),
        }],
        driver_id: None,
        created_at: now,
        dispatch_estimated_at,
        delivery_estimated_at: dispatch_estimated_at
            + Duration::seconds((distance_m / DELIVERY_SPEED_MPS).round() as i64),
        delivered_at: None,
        cancel_reason: None,
        declined_reason: None,
        driver_eta: None,
    };
    state
        .db
        .write(|repo| -> Result<(), ApiError> { Ok(repo.insert_order(&order)?) })?;
    state
        .engine
        .start_execution(&order.order_id)
        .await
        .map_err(|e| engine_error(e, &order.order_id))?;
    let order = load_order(&state, &order.order_id)?;
    tracing::info!(order_id = %order.order_id, status = order.status.as_str(), "order placed");
    Ok((
        StatusCode::CREATED,
        Json(PlaceOrderResponse {
            message: format!(
                "Order of [{}] pizza(s) has been initiated!",
                order.pies.len()
            ),
            order: order.customer_view(),
        }),
    ))
}

#[utoipa::path(get, path = "/order/{orderId}", tag = "customer",
    params(("orderId" = String, Path), ("party" = Option<String>, Query, description = "customer, store or driver")),
    responses((status = 200, body = OrderViewResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_order(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    PathId(order_id): PathId,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<OrderViewResponse>, ApiError> {
    let party = query.get("party").ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_party",
            "Must specify a party 'customer', 'store' or 'driver' as a query string parameter.",
        )
    })?;
    if !matches!(party.as_str(), "customer" | "store" | "driver") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_party",
            "Party must be 'customer', 'store' or 'driver'.",
        ));
    }
    let order = load_order(&state, &order_id)?;
    let admin = caller == Caller::Admin;
    let view = match party.as_str() {
        "customer" => {
            if !admin && caller.require_customer()? != order.customer_id {
                return Err(ApiError::forbidden(
                    "This order belongs to another customer.",
                ));
            }
            OrderView::Customer(order.customer_view())
        }
        "store" => {
            if !admin && caller.require_store()? != order.store_id {
                return Err(ApiError::forbidden("This order belongs to another store."));
            }
            let deadline = if order.status == OrderStatus::Initiated {
                let task = state
                    .engine
                    .open_task(&order.order_id, TaskKind::StoreDecision)
                    .await;
                task.map_err(|e| engine_error(e, &order.order_id))?
                    .and_then(|t| t.timeout_at)
            } else {
                None
            };
            OrderView::Store(order.store_view(deadline))
        }
        _ => {
            if !admin && Some(caller.require_driver()?) != order.driver_id.as_deref() {
                return Err(ApiError::forbidden("This order is not assigned to you."));
            }
            let store = load_store(&state, &order.store_id)?;
            OrderView::Driver(order.driver_view(&store))
        }
    };
    Ok(Json(OrderViewResponse { order: view }))
}

#[utoipa::path(post, path = "/order/decision", tag = "store", request_body = DecisionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Token already used or timed out (TaskTimedOut)", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decision(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<DecisionRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let store_id = caller.require_store()?.to_string();
    if !req.accepted && req.declined_reason.is_none() {
        return Err(ApiError::invalid_body(
            "declinedReason is required when accepted is false",
        ));
    }
    let order = load_order(&state, &req.order_id)?;
    if order.store_id != store_id || req.store_id != store_id {
        return Err(ApiError::forbidden("This order belongs to another store."));
    }
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "The task token is not a decision token of this order.",
        )
    };
    let task = state
        .engine
        .describe_task(&req.task_token)
        .await
        .map_err(|e| match e {
            crate::workflow::EngineError::InvalidToken => invalid(),
            other => engine_error(other, &order.order_id),
        })?;
    if task.order_id != order.order_id || task.kind != TaskKind::StoreDecision {
        return Err(invalid());
    }
    let outcome = if req.accepted {
        state
            .engine
            .send_task_success(
                &req.task_token,
                json!({"orderId": order.order_id, "storeId": store_id}),
            )
            .await
    } else {
        let reason = req
            .declined_reason
            .and_then(|r| serde_json::to_value(r).ok());
        let cause = reason
            .as_ref()
            .and_then(|v| v.as_str())
            .unwrap_or("unspecified")
            .to_string();
        state
            .engine
            .send_task_failure(&req.task_token, "OrderDeclined", &cause)
            .await
    };
    outcome.map_err(|e| match e {
        crate::workflow::EngineError::TaskTimedOut => ApiError::new(
            StatusCode::CONFLICT,
            "task_timed_out",
            format!(
                "The decision for order [{}] was already received or its time ran out (TaskTimedOut).",
                order.order_id
            ),
        ),
        other => engine_error(other, &order.order_id),
    })?;
    let verb = if req.accepted { "accept" } else { "decline" };
    Ok(Json(MessageResponse {
        message: format!(
            "Decision to {verb} order [{}] has been received.",
            order.order_id
        ),
    }))
}

#[utoipa::path(get, path = "/order/{orderId}/pickup-code", tag = "store",
    params(("orderId" = String, Path)),
    responses((status = 200, body = PickupCodeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pickup_code(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    PathId(order_id): PathId,
) -> Result<Json<PickupCodeResponse>, ApiError> {
    let store_id = caller.require_store()?.to_string();
    let order = load_order(&state, &order_id)?;
    if order.store_id != store_id {
        return Err(ApiError::forbidden("This order belongs to another store."));
    }
    if !matches!(
        order.status,
        OrderStatus::AcceptedByStore | OrderStatus::DriverAssigned | OrderStatus::DriverArrived
    ) {
        return Err(ApiError::invalid_state(format!(
            "Order [{}] is {}: a pickup code exists only between acceptance and pickup.",
            order.order_id,
            order.status.as_str()
        )));
    }
    Ok(Json(PickupCodeResponse {
        code: state.codes.code_for(&order.order_id),
        qr: state.codes.qr_for(&order.order_id),
        order_id: order.order_id,
    }))
}
