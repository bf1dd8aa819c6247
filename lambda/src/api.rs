//! `FENCEPOST_MODE=api`: the HTTP API as a Lambda function. The application is the one
//! `fencepost serve --engine stepfunctions` runs (`fencepost_server::server::build_with`), except that it
//! does not consume the task queue (the worker function does) and runs no timer loop (the Step Functions
//! engine has no timers of its own: Step Functions runs them).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Response;
use axum::Router;
use fencepost_server::feed::Feed;
use fencepost_server::http::AppState;
use fencepost_server::workflow::stepfunctions::QueueConsumer;
use tower::ServiceExt;

use crate::config::{Config, Error};

/// Builds the application at init (admin token, store, engine, router).
pub async fn app(config: &Config) -> Result<(Arc<AppState>, Router), Error> {
    let admin_token = crate::admin_token::load(config).await?;
    Ok(fencepost_server::server::build_with(
        &config.serve_config(admin_token),
        QueueConsumer::External,
    )?)
}

/// One invocation: the API Gateway request through the router; a feed waits up to `feed_wait` for its
/// first event.
pub async fn handle(
    router: Router,
    feed_wait: Duration,
    req: lambda_http::Request,
) -> Result<Response<Body>, Infallible> {
    let resp = router.oneshot(req).await?;
    Ok(crate::sse::bounded(resp, feed_wait).await)
}

/// How often open feed requests re-read the store for events another process wrote.
pub const FEED_RECHECK: Duration = Duration::from_millis(250);

/// The feeds wake on the in-process doorbell, but here most events (a new order's token, offers) are
/// written by the worker function, another process: ring the bell on a timer so an open feed request
/// re-reads the store instead of waiting out its whole first-event wait. (Lambda freezes the process
/// between invocations, so this only runs while requests are being served.)
pub fn watch_other_writers(feed: Arc<Feed>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FEED_RECHECK);
        loop {
            tick.tick().await;
            feed.ring();
        }
    })
}

/// Serves invocations until the runtime stops.
pub async fn run(
    state: Arc<AppState>,
    router: Router,
    feed_wait: Duration,
) -> Result<(), lambda_http::Error> {
    let _watch = watch_other_writers(state.feed.clone());
    lambda_http::run(lambda_http::service_fn(move |req| {
        handle(router.clone(), feed_wait, req)
    }))
    .await
}
