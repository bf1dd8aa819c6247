//! Server-sent event feeds behind API Gateway. An HTTP API buffers the whole Lambda response and the
//! feeds (`/store/events`, `/driver/events`) never end on their own, so an unbounded stream would hold the
//! invocation until its timeout and deliver nothing. Here an event-stream body is cut short: it answers
//! with the events available now (waiting up to `first_wait`, `FENCEPOST_FEED_WAIT_S`, for the first),
//! and closes. SSE clients
//! reconnect with `Last-Event-ID` (or `?after=`), which the feeds resume from, so the feed becomes a
//! long poll with no event lost.

use std::time::Duration;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::Response;
use http_body_util::BodyExt;

/// Once events flow, how long a pause ends the answer (events written together arrive together).
pub const PAUSE: Duration = Duration::from_millis(200);

fn is_event_stream(resp: &Response<Body>) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Leaves other responses alone; cuts an event stream short as described above.
pub async fn bounded(resp: Response<Body>, first_wait: Duration) -> Response<Body> {
    if !is_event_stream(&resp) {
        return resp;
    }
    let (parts, mut body) = resp.into_parts();
    let mut collected = Vec::new();
    let mut wait = first_wait;
    // Ends when the stream ends or fails, or nothing comes within the wait: answer with what we have.
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(wait, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            // Keep-alive comments (": ...") are not events: they must not end the first wait.
            if !data.starts_with(b":") {
                wait = PAUSE;
            }
            collected.extend_from_slice(&data);
        }
    }
    Response::from_parts(parts, Body::from(collected))
}
