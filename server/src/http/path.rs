//! The path extractor whose rejection is an `ApiError` (400 `invalid_path`, JSON like every other error)
//! instead of axum's plain-text rejection. Like `json.rs`, it never echoes the rejected text back.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;

use crate::error::ApiError;

/// The one id a path names (`/order/{orderId}`, `/driver/offers/{offerId}/accept`, ...).
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                "The id in the path is not valid (it must be percent-encoded UTF-8).",
            )),
        }
    }
}
