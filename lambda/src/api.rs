//! `FENCEPOST_MODE=api`: the HTTP API as a Lambda function. The application is the one
//! `fencepost serve --engine stepfunctions` runs (`fencepost_server::server::build_with`), except that it
//! does not consume the task queue (the worker function does) and runs no timer loop (the Step Functions
//! engine has no timers of its own: Step Functions runs them).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Response;
use axum::Router;
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

/// One invocation: the API Gateway request through the router.
pub async fn handle(
    router: Router,
    req: lambda_http::Request,
) -> Result<Response<Body>, Infallible> {
    let resp = router.oneshot(req).await?;
    Ok(crate::sse::bounded(resp).await)
}

/// Serves invocations until the runtime stops.
pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |req| {
        handle(router.clone(), req)
    }))
    .await
}
