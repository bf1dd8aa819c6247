//! The two error types: an internal `Error` for storage and plumbing failures, and the public `ApiError`
//! (status + machine code + human message) every HTTP answer uses. They meet in one `From` impl below.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Internal failures. Messages never carry tokens or coordinates (rusqlite errors do not include bound values).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("stored JSON could not be read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database schema: {0}")]
    Schema(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The JSON body of every error answer: `{"message": ..., "code": ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable; never contains tokens or coordinates.
    pub message: String,
    /// Machine-readable code (see docs/http-api.md).
    pub code: String,
}

/// A public error: what the caller did wrong (or that we failed), as an HTTP status and a body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid_body(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("Invalid request body: {detail}"),
        )
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or unknown bearer token (Authorization: Bearer <token>).",
        )
    }
    pub fn wrong_party(expected: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "wrong_party",
            format!("This endpoint is for the {expected} party."),
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn order_not_found(order_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "order_not_found",
            format!("Order with id [{}] does not exist.", printable(order_id)),
        )
    }
    pub fn store_not_found(store_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "store_not_found",
            format!("Store with id [{}] does not exist.", printable(store_id)),
        )
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_state", message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            message: self.message.clone(),
            code: self.code.to_string(),
        }
    }
}

/// Ids echoed in messages are caller input: cut them short and drop control characters so a message
/// cannot be used to smuggle arbitrary text into logs or UIs.
pub fn printable(id: &str) -> String {
    id.chars().filter(|c| !c.is_control()).take(64).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        tracing::error!(error = %err, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("Internal error: {err}"),
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        Error::from(err).into()
    }
}
