//! Provisioning (stores, drivers, customers) and, only under `--test-clock`, moving the clock.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::db::Repository;
use crate::error::{ApiError, ErrorBody};
use crate::http::auth::{Caller, CUSTOMER_PREFIX, DRIVER_PREFIX, STORE_PREFIX};
use crate::http::json::{JsonBody, OptionalJsonBody};
use crate::http::path::PathId;
use crate::http::{engine_error, AppState};
use crate::ids;
use crate::model::{
    AdvanceClockRequest, ClockResponse, CreateCustomerResponse, CreateDriverResponse,
    CreatePartyRequest, CreateStoreRequest, CreateStoreResponse, StoreTokenResponse,
};
use crate::validate;

/// The parties provisioned with just a name: an id and a bearer token each.
#[derive(Clone, Copy)]
enum Party {
    Driver,
    Customer,
}

/// Stores a new driver or customer; returns its id and its token (only the token's hash is kept).
fn create_party(
    state: &AppState,
    caller: &Caller,
    req: &CreatePartyRequest,
    party: Party,
) -> Result<(String, String), ApiError> {
    caller.require_admin()?;
    if req.name.as_ref().is_some_and(|n| n.chars().count() > 128) {
        return Err(ApiError::invalid_body(
            "name must be at most 128 characters",
        ));
    }
    let name = req.name.as_deref();
    let (id, token) = match party {
        Party::Driver => (format!("drv_{}", ids::nanoid()), ids::secret(DRIVER_PREFIX)),
        Party::Customer => (
            format!("cus_{}", ids::nanoid()),
            ids::secret(CUSTOMER_PREFIX),
        ),
    };
    let hash = ids::hash_token(&token);
    let now_ms = state.clock.now_ms();
    state.db.write(|repo| -> Result<(), ApiError> {
        match party {
            Party::Driver => repo.insert_driver(&id, name, &hash, now_ms)?,
            Party::Customer => repo.insert_customer(&id, name, &hash, now_ms)?,
        }
        Ok(())
    })?;
    Ok((id, token))
}

#[utoipa::path(post, path = "/admin/stores", tag = "admin", request_body = CreateStoreRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CreateStoreResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_store(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<CreateStoreRequest>,
) -> Result<(StatusCode, Json<CreateStoreResponse>), ApiError> {
    caller.require_admin()?;
    let store =
        validate::store(req, format!("store_{}", ids::nanoid())).map_err(ApiError::invalid_body)?;
    let token = ids::secret(STORE_PREFIX);
    let now_ms = state.clock.now_ms();
    let created = state.db.write(|repo| -> Result<bool, ApiError> {
        Ok(repo.insert_store(&store, Some(&ids::hash_token(&token)), now_ms)?)
    })?;
    if !created {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "store_exists",
            format!("Store with id [{}] already exists.", store.store_id),
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(CreateStoreResponse { store, token }),
    ))
}

#[utoipa::path(post, path = "/admin/stores/{storeId}/token", tag = "admin",
    params(("storeId" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StoreTokenResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn store_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    PathId(store_id): PathId,
) -> Result<Json<StoreTokenResponse>, ApiError> {
    caller.require_admin()?;
    let token = ids::secret(STORE_PREFIX);
    let updated = state.db.write(|repo| -> Result<bool, ApiError> {
        Ok(repo.set_store_token(&store_id, &ids::hash_token(&token))?)
    })?;
    if !updated {
        return Err(ApiError::store_not_found(&store_id));
    }
    Ok(Json(StoreTokenResponse { store_id, token }))
}

#[utoipa::path(post, path = "/admin/drivers", tag = "admin", request_body = Option<CreatePartyRequest>,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CreateDriverResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_driver(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    OptionalJsonBody(req): OptionalJsonBody<CreatePartyRequest>,
) -> Result<(StatusCode, Json<CreateDriverResponse>), ApiError> {
    let (driver_id, token) = create_party(&state, &caller, &req, Party::Driver)?;
    Ok((
        StatusCode::CREATED,
        Json(CreateDriverResponse { driver_id, token }),
    ))
}

#[utoipa::path(post, path = "/admin/customers", tag = "admin", request_body = Option<CreatePartyRequest>,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CreateCustomerResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_customer(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    OptionalJsonBody(req): OptionalJsonBody<CreatePartyRequest>,
) -> Result<(StatusCode, Json<CreateCustomerResponse>), ApiError> {
    let (customer_id, token) = create_party(&state, &caller, &req, Party::Customer)?;
    Ok((
        StatusCode::CREATED,
        Json(CreateCustomerResponse { customer_id, token }),
    ))
}

/// Only routed under `--test-clock`: moves the clock forward, then fires every timer that fell due.
pub async fn advance_clock(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    JsonBody(req): JsonBody<AdvanceClockRequest>,
) -> Result<Json<ClockResponse>, ApiError> {
    caller.require_admin()?;
    if !(1..=604_800).contains(&req.seconds) {
        return Err(ApiError::invalid_body("seconds must be within 1..604800"));
    }
    if !state.clock.advance(req.seconds) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The test clock is not enabled.",
        ));
    }
    // Bounded: each pass fires a batch; a few hundred passes cover any test.
    for _ in 0..500 {
        if state
            .engine
            .run_due()
            .await
            .map_err(|e| engine_error(e, "clock"))?
            == 0
        {
            break;
        }
    }
    Ok(Json(ClockResponse {
        now: state.clock.now(),
    }))
}
