//! The `bootstrap` binary of both Lambda functions (see lib.rs): reads `FENCEPOST_MODE`, builds the
//! application at init, then serves invocations from the Lambda Runtime API.

use fencepost_lambda::config::{Config, Error, Mode};
use fencepost_lambda::{api, init_error, worker};

enum Ready {
    Api(
        std::sync::Arc<fencepost_server::http::AppState>,
        axum::Router,
        std::time::Duration,
    ),
    Worker(std::sync::Arc<worker::Worker>),
}

async fn init() -> Result<Ready, Error> {
    let config = Config::from_env()?;
    Ok(match config.mode {
        Mode::Api => {
            let (state, router) = api::app(&config).await?;
            Ready::Api(state, router, config.feed_wait)
        }
        Mode::Worker => Ready::Worker(std::sync::Arc::new(worker::Worker::open(&config)?)),
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Logs go to stderr (CloudWatch); RUST_LOG overrides the level. No tokens or places are logged.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match init().await {
        Ok(Ready::Api(state, router, feed_wait)) => api::run(state, router, feed_wait).await,
        Ok(Ready::Worker(worker)) => worker::run(worker).await,
        Err(e) => {
            let message = e.to_string();
            init_error::report(&message).await;
            Err(message.into())
        }
    }
}
