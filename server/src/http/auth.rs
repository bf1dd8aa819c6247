//! Who is calling: the bearer token names exactly one party. Tokens are looked up by their SHA-256;
//! the admin token is compared in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::db::Repository;
use crate::error::ApiError;
use crate::http::AppState;
use crate::ids::hash_token;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Store(String),
    Driver(String),
    Customer(String),
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            _ => Err(ApiError::wrong_party("admin")),
        }
    }
    pub fn require_store(&self) -> Result<&str, ApiError> {
        match self {
            Caller::Store(id) => Ok(id),
            _ => Err(ApiError::wrong_party("store")),
        }
    }
    pub fn require_driver(&self) -> Result<&str, ApiError> {
        match self {
            Caller::Driver(id) => Ok(id),
            _ => Err(ApiError::wrong_party("driver")),
        }
    }
    pub fn require_customer(&self) -> Result<&str, ApiError> {
        match self {
            Caller::Customer(id) => Ok(id),
            _ => Err(ApiError::wrong_party("customer")),
        }
    }
}

pub const STORE_PREFIX: &str = "fps_";
pub const DRIVER_PREFIX: &str = "fpd_";
pub const CUSTOMER_PREFIX: &str = "fpc_";

/// The bearer token of a request, if it has a well-formed `Authorization: Bearer` header.
pub fn bearer(parts: &axum::http::HeaderMap) -> Option<&str> {
    let value = parts
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        if token.len() > 256 {
            return Err(ApiError::unauthorized());
        }
        let hash = hash_token(token);
        if bool::from(hash.as_bytes().ct_eq(state.admin_token_hash.as_bytes())) {
            return Ok(Caller::Admin);
        }
        let found = state.db.write(|repo| -> Result<Option<Caller>, ApiError> {
            Ok(if token.starts_with(STORE_PREFIX) {
                repo.store_by_token(&hash)?.map(Caller::Store)
            } else if token.starts_with(DRIVER_PREFIX) {
                repo.driver_by_token(&hash)?.map(Caller::Driver)
            } else if token.starts_with(CUSTOMER_PREFIX) {
                repo.customer_by_token(&hash)?.map(Caller::Customer)
            } else {
                None
            })
        })?;
        found.ok_or_else(ApiError::unauthorized)
    }
}
