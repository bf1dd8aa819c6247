//! The HTTP layer: shared state, routes, and the helpers handlers share. One module per party.

pub mod admin;
pub mod auth;
pub mod deadline;
pub mod driver;
pub mod feeds;
pub mod handoff;
pub mod idempotency;
pub mod json;
pub mod key_locks;
pub mod openapi;
pub mod orders;
pub mod path;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::clock::Clock;
use crate::db::{Db, Repository};
use crate::error::ApiError;
use crate::feed::Feed;
use crate::http::idempotency::Idempotency;
use crate::model::{HealthResponse, OrderRecord, Store};
use crate::pickup_code::PickupCodes;
use crate::workflow::{EngineError, WorkflowEngine};

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 256 * 1024;

pub struct AppState {
    pub db: Arc<Db>,
    pub clock: Arc<Clock>,
    pub engine: Arc<dyn WorkflowEngine>,
    pub feed: Arc<Feed>,
    pub codes: PickupCodes,
    pub admin_token_hash: String,
}

pub fn router(state: Arc<AppState>) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi::document))
        .route("/order", post(orders::place_order))
        .route("/order/decision", post(orders::decision))
        .route("/order/pickup", post(driver::pickup))
        .route("/order/arrival", post(driver::arrival))
        .route("/order/delivered", post(driver::delivered))
        .route("/order/{orderId}", get(orders::get_order))
        .route("/order/{orderId}/pickup-code", get(orders::pickup_code))
        .route("/store/events", get(feeds::store_events))
        .route("/driver/events", get(feeds::driver_events))
        .route("/driver/offers", get(driver::offers))
        .route(
            "/driver/offers/{offerId}/accept",
            post(driver::accept_offer),
        )
        .route(
            "/driver/offers/{offerId}/decline",
            post(driver::decline_offer),
        )
        .route("/driver/assignments", get(driver::assignments))
        .route("/driver/locations", post(driver::locations))
        .route("/admin/stores", post(admin::create_store))
        .route("/admin/stores/{storeId}/token", post(admin::store_token))
        .route("/admin/drivers", post(admin::create_driver))
        .route("/admin/customers", post(admin::create_customer));
    if state.clock.is_adjustable() {
        app = app.route("/admin/clock/advance", post(admin::advance_clock));
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Idempotency::new(state.db.clone(), state.clock.clone()),
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            deadline::REQUEST_DEADLINE,
            deadline::layer,
        ))
        // A bug must answer 500 with a JSON body rather than drop the connection.
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    internal_error()
}

/// The answer when a request handler panicked.
pub fn internal_error() -> axum::response::Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error: the request handler failed.",
    )
    .into_response()
}

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse)))]
pub async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
    })
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed on this endpoint.",
    )
}

pub fn load_order(state: &AppState, order_id: &str) -> Result<OrderRecord, ApiError> {
    state
        .db
        .write(|repo| -> Result<_, ApiError> { Ok(repo.order(order_id)?) })?
        .ok_or_else(|| ApiError::order_not_found(order_id))
}

pub fn load_store(state: &AppState, store_id: &str) -> Result<Store, ApiError> {
    state
        .db
        .write(|repo| -> Result<_, ApiError> { Ok(repo.store(store_id)?) })?
        .ok_or_else(|| ApiError::store_not_found(store_id))
}

/// 409 `task_timed_out`: the task (or offer) behind the call was already used, answered or timed out.
pub fn timed_out(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "task_timed_out", message)
}

/// 409 `invalid_state`: the order's status does not allow the call.
pub fn not_now(order: &OrderRecord) -> ApiError {
    ApiError::invalid_state(format!(
        "Order [{}] is {}.",
        order.order_id,
        order.status.as_str()
    ))
}

/// Engine errors a handler did not map to something more specific.
pub fn engine_error(err: EngineError, subject: &str) -> ApiError {
    let subject = crate::error::printable(subject);
    match err {
        EngineError::InvalidToken => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            format!("The task token for [{subject}] is invalid."),
        ),
        EngineError::TaskTimedOut => ApiError::new(
            StatusCode::CONFLICT,
            "task_timed_out",
            format!("The task for [{subject}] was already completed or timed out."),
        ),
        EngineError::Storage(e) => e.into(),
        EngineError::Unavailable(reason) => {
            tracing::error!(%reason, "workflow engine unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "engine_unavailable",
                "The workflow engine is unavailable.",
            )
        }
    }
}
