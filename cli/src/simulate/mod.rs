//! `fencepost simulate`: the whole system end to end. A fleet of simulated drivers — each a real
//! `Companion` with its own outbox — drives real Helsinki streets (OpenStreetMap) through accept,
//! approach, arrival, pickup scan and delivery against the middleware (in-process by default, or
//! `--backend URL`), with the documented GPS noise model, phones going offline, and optionally injected
//! network faults. Ends with a summary measured against the simulation's ground truth.
//!
//! Pipeline: [`streets`] (OSM graph) → [`stores`] (snapped POIs) → [`fleet`] (who, where, when) →
//! [`world`] (the tick loop: [`routing`], [`movement`], [`driver`], [`api`], [`proxy`] + [`faults`]) →
//! [`tally`] ([`metrics`]) → [`summary`] (table / JSON) and [`report`] (HTML).
//!
//! Time: the server runs with its test clock and the companions with a `ManualClock`; each tick
//! advances both by one simulated second (`POST /admin/clock/advance`, which also fires due workflow
//! timers). A tick takes 5 ms of real time (20 ms while any phone has messages waiting, so the
//! companions' real-time retry loops keep up), so simulated time runs ~50–200× faster than real time.
//! `FENCEPOST_SIM_PROFILE=1` prints where the time went and each leg's truth/detection times (order ids
//! and seconds only, no coordinates) to stderr.

mod api;
mod driver;
mod error;
mod faults;
mod fleet;
mod geo;
mod inprocess;
mod metrics;
mod movement;
mod proxy;
mod record;
mod report;
mod routing;
mod stores;
mod streets;
mod summary;
mod tally;
mod world;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fencepost_core::companion::ManualClock;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use error::Error;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Number of drivers (each a real companion with its own outbox).
    #[arg(long, default_value_t = 6)]
    pub drivers: usize,
    /// Number of orders customers place.
    #[arg(long, default_value_t = 12)]
    pub orders: usize,
    /// Seed for everything random: the same seed builds the same world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Drive an already running `fencepost serve --test-clock` instead of the in-process server
    /// (its admin token from FENCEPOST_ADMIN_TOKEN).
    #[arg(long)]
    pub backend: Option<String>,
    /// Share of the phones' requests (0..=1) answered with 5xx, timeouts or dropped connections.
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Write a self-contained HTML report (maps per delivery, charts) to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Street network (OpenStreetMap PBF).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/osm/Helsinki.osm.pbf"))]
    pub streets: PathBuf,
    /// Stores (CSV of OpenStreetMap food POIs).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/stores/helsinki_osm_food_pois.csv"))]
    pub stores: PathBuf,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    validate(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary_ok = runtime.block_on(run_async(args))?;
    // Sockets of the in-process server and the proxy close with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(2));
    if !summary_ok {
        anyhow::bail!(
            "invariants violated: messages lost, side effects duplicated or orders left open"
        );
    }
    Ok(())
}

fn validate(args: &SimulateArgs) -> Result<(), Error> {
    if !(0.0..=1.0).contains(&args.faults) || !args.faults.is_finite() {
        return Err(Error::InvalidOption(
            "--faults must be between 0 and 1".into(),
        ));
    }
    if args.drivers == 0 || args.drivers > 200 {
        return Err(Error::InvalidOption(
            "--drivers must be between 1 and 200".into(),
        ));
    }
    if args.orders == 0 || args.orders > 1000 {
        return Err(Error::InvalidOption(
            "--orders must be between 1 and 1000".into(),
        ));
    }
    Ok(())
}

/// A temporary directory on a RAM disk when the machine has one: the companions' outboxes and the
/// server's database commit with `synchronous=FULL`, and dozens of simulated phones fsyncing to one real
/// disk would make the run crawl. Durability across crashes is not what the simulation measures.
pub fn fast_tempdir() -> std::io::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("fencepost-sim-")
            .tempdir_in(shm)
        {
            return Ok(dir);
        }
    }
    tempfile::Builder::new().prefix("fencepost-sim-").tempdir()
}

async fn run_async(args: SimulateArgs) -> anyhow::Result<bool> {
    let wall = Instant::now();
    let graph = streets::StreetGraph::from_pbf(&args.streets)?;
    let all_stores = stores::load(&args.stores, &graph)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let fleet = fleet::build(&graph, &all_stores, args.drivers, args.orders, &mut rng);
    if std::env::var_os("FENCEPOST_SIM_PROFILE").is_some() {
        eprintln!(
            "setup: {:?} ({} street nodes, {} stores near streets)",
            wall.elapsed(),
            graph.nodes.len(),
            all_stores.len()
        );
    }

    // The backend: ours in-process, or the one named.
    let (server, base, admin_token) = match &args.backend {
        None => {
            let token = format!("sim-admin-{:016x}", rand::random::<u64>());
            let server = inprocess::InProcessServer::start(token.clone()).await?;
            let base = server.base.clone();
            (Some(server), base, token)
        }
        Some(url) => {
            let token = std::env::var("FENCEPOST_ADMIN_TOKEN").map_err(|_| {
                Error::InvalidOption(
                    "--backend needs FENCEPOST_ADMIN_TOKEN (the server's admin token)".into(),
                )
            })?;
            (None, url.trim_end_matches('/').to_owned(), token)
        }
    };
    let backend_name = if server.is_some() {
        "in-process".to_owned()
    } else {
        base.clone()
    };
    let api = api::Api::new(&base, &admin_token)?;
    api.health().await?;
    // The clock must be the server's test clock: advancing it is how simulated time passes.
    let start_ms = api.advance_clock(1).await.map_err(|_| {
        Error::Backend(
            "the backend must run with --test-clock so simulated time can run fast".into(),
        )
    })?;

    // A timeout fault holds the answer past the companions' 200 ms request timeout.
    let proxy = proxy::Proxy::new(
        &base,
        faults::FaultPlan::new(args.faults, args.seed),
        Duration::from_millis(600),
    )?;
    let proxy_addr = proxy.start().await?;
    let clock = Arc::new(ManualClock::new(start_ms));
    let outboxes = fast_tempdir()?;
    let mut drivers = Vec::new();
    for plan in &fleet.drivers {
        let (_driver_id, token) = api.create_driver(&plan.name).await?;
        let storage = outboxes.path().join(&plan.name);
        std::fs::create_dir_all(&storage)?;
        let start = (plan.start_node, graph.nodes[plan.start_node].pos);
        drivers.push(driver::Driver::new(
            plan.clone(),
            token,
            &format!("http://{proxy_addr}"),
            storage,
            clock.clone(),
            start,
        )?);
    }

    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        // indicatif hides itself when stderr is not a terminal.
        let bar = ProgressBar::with_draw_target(Some(3600), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} simulated {pos} s  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    };
    let world = world::World {
        graph: &graph,
        fleet: &fleet,
        api,
        proxy: proxy.clone(),
        clock,
        drivers,
        rng,
        progress: progress.clone(),
    };
    let tokens: Vec<String> = world.drivers.iter().map(|d| d.token.clone()).collect();
    let outcome = world.run(start_ms).await?;
    progress.finish_and_clear();

    let facts = tally::RunFacts {
        seed: args.seed,
        world: fleet.fingerprint(),
        drivers: args.drivers,
        backend: backend_name,
        fault_rate: args.faults,
        wall_s: wall.elapsed().as_secs_f64(),
        traffic: tokens.iter().map(|t| proxy.traffic(t)).collect(),
        drivers_offline: fleet.drivers.iter().filter(|d| d.offline.is_some()).count(),
    };
    let summary = tally::summarise(&outcome, facts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.table());
    }
    if let Some(path) = &args.report {
        report::write(path, &summary, &outcome.deliveries)?;
        if !args.json {
            println!("report written to {}", path.display());
        }
    }
    drop(server);
    Ok(summary.invariants_hold())
}
