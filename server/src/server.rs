//! Starting and stopping `fencepost serve`: open storage, load seed stores, start the engine's timer loop,
//! bind, print the address, serve until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::db::{Db, JournalMode, Repository};
use crate::error::{Error, Result};
use crate::feed::Feed;
use crate::http::{self, AppState};
use crate::ids::hash_token;
use crate::pickup_code::PickupCodes;
use crate::workflow::embedded::EmbeddedEngine;
use crate::workflow::machine::Timing;
use crate::workflow::stepfunctions::QueueConsumer;
use crate::workflow::WorkflowEngine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    Embedded,
    StepFunctions,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub db_path: PathBuf,
    pub engine: EngineChoice,
    pub aws_endpoint: Option<String>,
    pub seed_stores: Option<PathBuf>,
    pub admin_token: String,
    pub test_clock: bool,
    pub timing: Timing,
    /// WAL unless several hosts share the database file (see `JournalMode`).
    pub journal: JournalMode,
}

/// How often the timer loop looks for due timers and task timeouts.
const TICK: Duration = Duration::from_millis(250);
const SECRET_KEY: &str = "pickup_code_secret";

/// What every process of one deployment opens the same way: the store, the clock, the feed doorbell.
pub struct Storage {
    pub db: Arc<Db>,
    pub clock: Arc<Clock>,
    pub feed: Arc<Feed>,
}

/// Opens the database (creating or migrating it), picks the clock and loads the seed stores.
pub fn open_storage(config: &ServeConfig) -> Result<Storage> {
    let db = Arc::new(Db::open_with(&config.db_path, config.journal)?);
    let clock = Arc::new(if config.test_clock {
        Clock::adjustable()
    } else {
        Clock::system()
    });
    if let Some(path) = &config.seed_stores {
        let added = crate::seed_stores::load(&db, path, clock.now_ms())?;
        tracing::info!(added, "seed stores loaded");
    }
    Ok(Storage {
        db,
        clock,
        feed: Arc::new(Feed::default()),
    })
}

/// Builds the application (storage, engine, router) without binding: tests and `serve` share it.
pub fn build(config: &ServeConfig) -> Result<(Arc<AppState>, axum::Router)> {
    build_with(config, QueueConsumer::InProcess)
}

/// `build`, choosing who consumes the Step Functions task queue: on AWS Lambda the API function leaves
/// it to the worker function (`QueueConsumer::External`).
pub fn build_with(
    config: &ServeConfig,
    consumer: QueueConsumer,
) -> Result<(Arc<AppState>, axum::Router)> {
    if config.admin_token.len() < 16 {
        return Err(Error::Config(
            "FENCEPOST_ADMIN_TOKEN must be set to at least 16 characters".into(),
        ));
    }
    let Storage { db, clock, feed } = open_storage(config)?;
    let secret = db.write(|repo| -> Result<Vec<u8>> {
        if let Some(secret) = repo.meta(SECRET_KEY)? {
            return Ok(secret);
        }
        let secret: [u8; 32] = rand::rng().random();
        repo.put_meta(SECRET_KEY, &secret)?;
        Ok(secret.to_vec())
    })?;
    let engine: Arc<dyn WorkflowEngine> = match config.engine {
        EngineChoice::Embedded => Arc::new(EmbeddedEngine::new(
            db.clone(),
            clock.clone(),
            feed.clone(),
            config.timing.clone(),
        )),
        EngineChoice::StepFunctions => crate::workflow::stepfunctions::build(
            db.clone(),
            clock.clone(),
            feed.clone(),
            config.timing.clone(),
            &config.db_path,
            config.aws_endpoint.clone(),
            consumer,
        )?,
    };
    let state = Arc::new(AppState {
        db,
        clock,
        engine,
        feed,
        codes: PickupCodes::new(secret),
        admin_token_hash: hash_token(&config.admin_token),
    });
    let router = http::router(state.clone());
    Ok((state, router))
}

pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let (state, router) = build(&config)?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to learn the port (with --listen 127.0.0.1:0).
    println!("fencepost: listening on http://{addr}");
    tracing::info!(%addr, "listening");

    let timers = tokio::spawn(timer_loop(state.clone()));
    let server = axum::serve(listener, router).with_graceful_shutdown(shutdown_signal());
    // SSE streams never end on their own: give open connections a moment after the signal, then stop.
    tokio::select! {
        result = server => result?,
        () = async { shutdown_signal().await; tokio::time::sleep(Duration::from_secs(3)).await } => {}
    }
    timers.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Fires due timers and task timeouts; purges day-old idempotency answers now and then.
async fn timer_loop(state: Arc<AppState>) {
    let mut ticks: u64 = 0;
    loop {
        tokio::time::sleep(TICK).await;
        if let Err(e) = state.engine.run_due().await {
            tracing::error!(error = %e, "timer pass failed");
        }
        ticks += 1;
        // Checked once a minute; the purge itself runs at most once an hour (see purge_if_due).
        if ticks % 240 == 0 {
            if let Err(e) = crate::http::idempotency::purge_if_due(&state.db, state.clock.now_ms())
            {
                tracing::error!(error = %e, "idempotency purge failed");
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
