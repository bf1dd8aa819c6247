//! A deadline on every request: a handler that has not answered within it gets 503 `timeout`, so a
//! stuck dependency (a slow workflow engine, a locked database) cannot hold connections, or the callers
//! waiting for an idempotency key's turn, forever. Work started under an `Idempotency-Key` runs on in
//! its own task and stores its answer: a retry with the same key gets it. Streams (the event feeds)
//! answer at once and are not cut: the deadline covers the time to the response head.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The deadline `fencepost serve` applies.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

pub async fn layer(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis() as u64,
                "request deadline passed"
            );
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "The request did not finish in time; retry it (with the same Idempotency-Key a \
                 retry gets the answer once the work is done).",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}
