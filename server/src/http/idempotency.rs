//! `Idempotency-Key` on mutating calls: the first answer (status and body) is stored per caller and key,
//! and a replay gets it back without the work being done again. Same key with a different request → 422.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::db::{repo::IdempotentAnswer, Repository};
use crate::error::ApiError;
use crate::http::auth::bearer;
use crate::http::json::payload_too_large;
use crate::http::{AppState, BODY_LIMIT};
use crate::ids::{hash_bytes, hash_token};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Answers are kept this long.
pub const RETENTION_MS: i64 = 24 * 3600 * 1000;

/// Driver calls must carry a key (the companion's outbox retries them); elsewhere it is optional.
fn key_required(path: &str) -> bool {
    path.starts_with("/driver/")
        || matches!(
            path,
            "/order/pickup" | "/order/arrival" | "/order/delivered"
        )
}

fn valid_key(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let key = match req.headers().get(HEADER) {
        None if key_required(req.uri().path()) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                "This call requires an Idempotency-Key header.",
            )
            .into_response()
        }
        None => return next.run(req).await,
        Some(value) => match value.to_str().ok().filter(|k| valid_key(k)) {
            Some(k) => k.to_string(),
            None => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1–128 printable ASCII characters.",
                )
                .into_response()
            }
        },
    };
    // Scoped to the caller's credential, so two parties cannot collide or read each other's answers.
    let scope = hash_token(bearer(req.headers()).unwrap_or(""));
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return payload_too_large().into_response();
    };
    let mut fingerprint = format!("{} {}\n", parts.method, parts.uri).into_bytes();
    fingerprint.extend_from_slice(&bytes);
    let request_hash = hash_bytes(&fingerprint);

    let stored = state
        .db
        .write(|repo| -> Result<_, ApiError> { Ok(repo.idempotent_answer(&scope, &key)?) });
    match stored {
        Err(e) => return e.into_response(),
        Ok(Some(answer)) if answer.request_hash != request_hash => {
            return ApiError::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )
            .into_response()
        }
        Ok(Some(answer)) => return replay(answer),
        Ok(None) => {}
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (resp_parts, resp_body) = response.into_parts();
    let Ok(resp_bytes) = to_bytes(resp_body, usize::MAX).await else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Response could not be buffered.",
        )
        .into_response();
    };
    let status = resp_parts.status;
    // 5xx may succeed on retry and 401 was never the caller's answer to keep: neither is remembered.
    if !status.is_server_error() && status != StatusCode::UNAUTHORIZED {
        let answer = IdempotentAnswer {
            request_hash,
            status: status.as_u16(),
            body: resp_bytes.to_vec(),
        };
        let now_ms = state.clock.now_ms();
        if let Err(e) = state.db.write(|repo| -> Result<(), ApiError> {
            Ok(repo.save_idempotent_answer(&scope, &key, &answer, now_ms)?)
        }) {
            return e.into_response();
        }
    }
    Response::from_parts(resp_parts, Body::from(resp_bytes))
}

fn replay(answer: IdempotentAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
