//! `Idempotency-Key` on mutating calls: the first answer (status and body) is stored per caller and key,
//! and a replay gets it back without the work being done again. Same key with a different request → 422.
//!
//! Requests with the same key take turns: one that arrives while another with its key is still running
//! waits for it, then is answered as any later replay would be (the stored answer, or 422). The work runs
//! in a task of its own, so a client that disconnects mid-way does not cancel it halfway: the answer is
//! still stored, and the turn is released when the work ends, however it ends.

use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::clock::Clock;
use crate::db::{repo::IdempotentAnswer, Db, Repository};
use crate::error::ApiError;
use crate::http::auth::bearer;
use crate::http::json::payload_too_large;
use crate::http::key_locks::{KeyLocks, Turn};
use crate::http::{internal_error, BODY_LIMIT};
use crate::ids::{hash_bytes, hash_token};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Answers are kept this long.
pub const RETENTION_MS: i64 = 24 * 3600 * 1000;

/// What the middleware needs: where answers are kept, the clock that dates them, and the keys in use.
pub struct Idempotency {
    db: Arc<Db>,
    clock: Arc<Clock>,
    /// (caller scope, key) of requests running or waiting.
    in_flight: KeyLocks<(String, String)>,
}

impl Idempotency {
    pub fn new(db: Arc<Db>, clock: Arc<Clock>) -> Arc<Self> {
        Arc::new(Self {
            db,
            clock,
            in_flight: KeyLocks::default(),
        })
    }

    /// How many requests of the caller with this bearer token (None: no token) hold or wait for `key`.
    pub fn in_flight_tickets(&self, bearer: Option<&str>, key: &str) -> usize {
        let slot = (hash_token(bearer.unwrap_or("")), key.to_string());
        self.in_flight.tickets(&slot)
    }
}

/// One keyed request: who sent it, under which key, and the fingerprint of what was asked.
struct Keyed {
    scope: String,
    key: String,
    request_hash: String,
}

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

/// The request's key: Ok(None) when it has none and needs none.
fn key_of(req: &Request) -> Result<Option<String>, ApiError> {
    match req.headers().get(HEADER) {
        None if key_required(req.uri().path()) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "This call requires an Idempotency-Key header.",
        )),
        None => Ok(None),
        Some(value) => match value.to_str().ok().filter(|k| valid_key(k)) {
            Some(k) => Ok(Some(k.to_string())),
            None => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–128 printable ASCII characters.",
            )),
        },
    }
}

pub async fn layer(State(idem): State<Arc<Idempotency>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let key = match key_of(&req) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    // Scoped to the caller's credential, so two parties cannot collide or read each other's answers.
    let scope = hash_token(bearer(req.headers()).unwrap_or(""));
    let (parts, body) = req.into_parts();
    // Read before taking the turn: a slow upload does not hold up the key.
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return payload_too_large().into_response();
    };
    let mut fingerprint = format!("{} {}\n", parts.method, parts.uri).into_bytes();
    fingerprint.extend_from_slice(&bytes);
    let keyed = Keyed {
        scope,
        key,
        request_hash: hash_bytes(&fingerprint),
    };

    let turn = idem
        .in_flight
        .turn((keyed.scope.clone(), keyed.key.clone()))
        .await;
    match stored_answer(&idem, &keyed) {
        Err(e) => return e.into_response(),
        Ok(Some(answer)) => return answer,
        Ok(None) => {}
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let work = tokio::spawn(run_and_remember(idem, turn, keyed, next, request));
    // A failed join is a panic in the handler: its turn was released as the task unwound.
    work.await.unwrap_or_else(|_| internal_error())
}

/// The answer a replay of `keyed` gets, if the key was used before.
fn stored_answer(idem: &Idempotency, keyed: &Keyed) -> Result<Option<Response>, ApiError> {
    let stored = idem.db.write(|repo| -> Result<_, ApiError> {
        Ok(repo.idempotent_answer(&keyed.scope, &keyed.key)?)
    })?;
    Ok(stored.map(|answer| {
        if answer.request_hash == keyed.request_hash {
            replay(answer)
        } else {
            ApiError::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )
            .into_response()
        }
    }))
}

/// Runs the request and stores its answer; the turn is held until the answer is stored.
async fn run_and_remember(
    idem: Arc<Idempotency>,
    _turn: Turn<(String, String)>,
    keyed: Keyed,
    next: Next,
    request: Request,
) -> Response {
    let (parts, body) = next.run(request).await.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Response could not be buffered.",
        )
        .into_response();
    };
    if let Err(e) = remember(&idem, &keyed, parts.status, &bytes) {
        return e.into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn remember(
    idem: &Idempotency,
    keyed: &Keyed,
    status: StatusCode,
    body: &Bytes,
) -> Result<(), ApiError> {
    // 5xx may succeed on retry and 401 was never the caller's answer to keep: neither is remembered.
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        return Ok(());
    }
    let answer = IdempotentAnswer {
        request_hash: keyed.request_hash.clone(),
        status: status.as_u16(),
        body: body.to_vec(),
    };
    let now_ms = idem.clock.now_ms();
    idem.db.write(|repo| -> Result<(), ApiError> {
        Ok(repo.save_idempotent_answer(&keyed.scope, &keyed.key, &answer, now_ms)?)
    })
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

/// How often stored answers older than `RETENTION_MS` are purged.
pub const PURGE_EVERY_MS: i64 = 3600 * 1000;
/// When the last purge ran, kept in the store so every process of a deployment (`serve`, or the Lambda
/// functions that come and go) shares one schedule.
const PURGED_AT_KEY: &str = "idempotency_purged_at_ms";

/// Purges day-old answers if the last purge is more than `PURGE_EVERY_MS` old: the number removed, or
/// None when it was not due. Cheap enough to call often (one small transaction).
pub fn purge_if_due(db: &Db, now_ms: i64) -> crate::error::Result<Option<usize>> {
    db.write(|repo| {
        let last = repo
            .meta(PURGED_AT_KEY)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map(i64::from_le_bytes);
        if last.is_some_and(|at| now_ms - at < PURGE_EVERY_MS && now_ms >= at) {
            return Ok(None);
        }
        let purged = repo.purge_idempotency(now_ms - RETENTION_MS)?;
        repo.put_meta(PURGED_AT_KEY, &now_ms.to_le_bytes())?;
        Ok(Some(purged))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3600 * 1000;

    fn save(db: &Db, key: &str, at_ms: i64) {
        let answer = IdempotentAnswer {
            request_hash: "h".into(),
            status: 200,
            body: b"{}".to_vec(),
        };
        db.write(|repo| repo.save_idempotent_answer("scope", key, &answer, at_ms))
            .expect("save an answer");
    }

    fn kept(db: &Db, key: &str) -> bool {
        db.write(|repo| repo.idempotent_answer("scope", key))
            .expect("read an answer")
            .is_some()
    }

    #[test]
    fn day_old_answers_are_purged_at_most_once_an_hour() {
        let db = Db::open_in_memory().expect("database");
        let now = 10 * 24 * HOUR_MS;
        save(&db, "old", now - RETENTION_MS - 1);
        save(&db, "fresh", now - HOUR_MS);
        assert_eq!(purge_if_due(&db, now).ok(), Some(Some(1)));
        assert!(!kept(&db, "old") && kept(&db, "fresh"));

        // Within the hour nothing runs, even with something to purge...
        save(&db, "old-again", now - RETENTION_MS - 1);
        assert_eq!(purge_if_due(&db, now + HOUR_MS - 1).ok(), Some(None));
        assert!(kept(&db, "old-again"));
        // ...and after it, the purge runs again.
        assert_eq!(purge_if_due(&db, now + HOUR_MS).ok(), Some(Some(1)));
        assert!(!kept(&db, "old-again") && kept(&db, "fresh"));
    }

    #[test]
    fn a_clock_set_back_does_not_stop_purging() {
        let db = Db::open_in_memory().expect("database");
        let now = 10 * 24 * HOUR_MS;
        assert_eq!(purge_if_due(&db, now).ok(), Some(Some(0)));
        // The last purge appears to be in the future: purge rather than wait for the clock to catch up.
        assert_eq!(purge_if_due(&db, now - HOUR_MS).ok(), Some(Some(0)));
    }
}
