//! Server-sent event feeds for stores and drivers. Events are rows, replayed after `Last-Event-ID`
//! (or `?after=N`), so a reconnecting client misses nothing; the doorbell wakes streams on new rows.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};

use crate::db::{EventRow, Repository};
use crate::error::{ApiError, ErrorBody};
use crate::feed::{DRIVER, STORE};
use crate::http::auth::Caller;
use crate::http::AppState;

const PAGE: usize = 200;

fn resume_point(headers: &HeaderMap, query: &HashMap<String, String>) -> Result<i64, ApiError> {
    let raw = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query.get("after").cloned());
    match raw {
        None => Ok(0),
        Some(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_event_id",
                    "Last-Event-ID (or ?after=) must be a non-negative event id.",
                )
            }),
    }
}

struct Cursor {
    state: Arc<AppState>,
    audience: &'static str,
    party: String,
    after: i64,
    buffer: VecDeque<EventRow>,
    bell: tokio::sync::watch::Receiver<u64>,
}

fn event_stream(cursor: Cursor) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(row) = c.buffer.pop_front() {
                c.after = row.id;
                let event = Event::default()
                    .id(row.id.to_string())
                    .event(row.kind)
                    .data(row.data_json);
                return Some((Ok(event), c));
            }
            c.bell.borrow_and_update();
            let page = c.state.db.write(|repo| -> Result<_, ApiError> {
                Ok(repo.events_after(c.audience, &c.party, c.after, PAGE)?)
            });
            match page {
                Ok(rows) if !rows.is_empty() => c.buffer.extend(rows),
                Ok(_) => {
                    // Nothing new: sleep until the doorbell rings (or the server shuts down).
                    if c.bell.changed().await.is_err() {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
    })
}

fn feed(
    state: Arc<AppState>,
    audience: &'static str,
    party: String,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let bell = state.feed.subscribe();
    let cursor = Cursor {
        state,
        audience,
        party,
        after,
        buffer: VecDeque::new(),
        bell,
    };
    Sse::new(event_stream(cursor)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[utoipa::path(get, path = "/store/events", tag = "store",
    params(("Last-Event-ID" = Option<String>, Header), ("after" = Option<i64>, Query)),
    responses((status = 200, description = "Server-sent events", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn store_events(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let party = caller.require_store()?.to_string();
    Ok(feed(state, STORE, party, resume_point(&headers, &query)?))
}

#[utoipa::path(get, path = "/driver/events", tag = "driver",
    params(("Last-Event-ID" = Option<String>, Header), ("after" = Option<i64>, Query)),
    responses((status = 200, description = "Server-sent events", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn driver_events(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let party = caller.require_driver()?.to_string();
    Ok(feed(state, DRIVER, party, resume_point(&headers, &query)?))
}
