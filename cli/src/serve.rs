//! `fencepost serve`: the order middleware (HTTP API + embedded workflow engine) on one SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use fencepost_server::{EngineChoice, ServeConfig, Timing};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Engine {
    /// In-process, persisted in SQLite (the default).
    Embedded,
    /// AWS Step Functions (or a local emulator via --aws-endpoint).
    Stepfunctions,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file, created on first run.
    #[arg(long, default_value = "fencepost.db")]
    db: PathBuf,
    /// Workflow engine.
    #[arg(long, value_enum, default_value = "embedded")]
    engine: Engine,
    /// Endpoint of the Step Functions API (e.g. a local moto server); only with --engine stepfunctions.
    #[arg(long)]
    aws_endpoint: Option<String>,
    /// GeoJSON FeatureCollection of stores to load at start (existing store ids are left unchanged).
    #[arg(long)]
    seed_stores: Option<PathBuf>,
    /// Enable POST /admin/clock/advance so tests can move time forward instead of sleeping.
    #[arg(long)]
    test_clock: bool,
    /// Bearer token of the admin party (at least 16 characters).
    #[arg(long, env = "FENCEPOST_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Logs go to stderr; RUST_LOG overrides the level. Handlers log ids and statuses, never tokens or places.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = ServeConfig {
        listen: args.listen,
        db_path: args.db,
        engine: match args.engine {
            Engine::Embedded => EngineChoice::Embedded,
            Engine::Stepfunctions => EngineChoice::StepFunctions,
        },
        aws_endpoint: args.aws_endpoint,
        seed_stores: args.seed_stores,
        admin_token: args.admin_token,
        test_clock: args.test_clock,
        timing: Timing::default(),
        journal: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(fencepost_server::serve(config))
}
