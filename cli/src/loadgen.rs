//! `fencepost loadgen`: load figures for the order middleware, as ratios measured in one run.
//!
//! 1. Location load: N simulated drivers each send a batch of `--batch-seconds` fixes (1 fix/s) every
//!    `--batch-seconds`, staggered; beside each driver a probe calls `/healthz` at the same rate, so both
//!    latencies are measured under the same load and concurrency. Reports p50/p99 of each, the ratio
//!    p99(locations) / p99(healthz) (target ≤ 5), fixes/s sustained, server CPU (cores) and RSS.
//! 2. Order placement: `--orders` orders with `--concurrency` in flight; throughput beside Step Functions
//!    Standard's StartExecution quota (300/s in the largest regions).
//!
//! By default it starts its own `fencepost serve` (this binary) on a temporary database, so it can read the
//! server's CPU and memory from /proc; `--backend URL` targets a running server instead (no CPU/RSS then).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// Step Functions Standard StartExecution sustained quota (largest regions, published figure).
const SFN_START_EXECUTION_PER_S: f64 = 300.0;
const ADMIN_TOKEN: &str = "loadgen-admin-token-0123456789";

#[derive(Debug, Args)]
pub struct LoadgenArgs {
    /// Simulated drivers, each reporting 1 fix per second.
    #[arg(long, default_value_t = 1000)]
    drivers: usize,
    /// Fixes per batch = seconds between a driver's reports.
    #[arg(long, default_value_t = 5)]
    batch_seconds: u64,
    /// How long the location phase runs, in seconds.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Orders placed in the throughput phase.
    #[arg(long, default_value_t = 2000)]
    orders: usize,
    /// Orders in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Target a running server (its admin token from FENCEPOST_ADMIN_TOKEN) instead of starting one.
    #[arg(long)]
    backend: Option<String>,
    /// Write the figures as JSON here too.
    #[arg(long)]
    report: Option<PathBuf>,
}

struct OwnServer {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> anyhow::Result<(OwnServer, String)> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe().context("locating the fencepost binary")?;
    let mut child = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("load.db"))
        .env("FENCEPOST_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting fencepost serve")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(addr) = line.strip_prefix("fencepost: listening on ") {
                    break addr.trim().to_string();
                }
            }
            _ => {
                let _ = child.kill();
                bail!("the server exited before listening");
            }
        }
    };
    Ok((OwnServer { child, _dir: dir }, base))
}

/// CPU seconds (user + system) and RSS / peak RSS in MiB of a process, from /proc (Linux only).
fn proc_usage(pid: u32) -> Option<(f64, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    // USER_HZ is 100 on every Linux platform Rust targets.
    Some((
        ticks / 100.0,
        kib("VmRSS:")? / 1024.0,
        kib("VmHWM:")? / 1024.0,
    ))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    key: Option<&str>,
) -> anyhow::Result<(u16, Value)> {
    let mut req = client.post(url).bearer_auth(token).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, value))
}

#[derive(Default)]
struct Samples {
    location_us: Vec<u64>,
    health_us: Vec<u64>,
    /// Fixes delivered in the steady window (after every driver has started, before the end).
    steady_fixes: u64,
    errors: u64,
}

pub fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: LoadgenArgs) -> anyhow::Result<()> {
    let (own, base, admin) = match &args.backend {
        Some(url) => (
            None,
            url.trim_end_matches('/').to_string(),
            std::env::var("FENCEPOST_ADMIN_TOKEN").context("FENCEPOST_ADMIN_TOKEN")?,
        ),
        None => {
            let (server, base) = start_server()?;
            (Some(server), base, ADMIN_TOKEN.to_string())
        }
    };
    let pid = own.as_ref().map(|s| s.child.id());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()?;
    wait_healthy(&client, &base).await?;

    // Provisioning: drivers, one always-open store with room for every order, one customer.
    eprintln!("loadgen: provisioning {} drivers", args.drivers);
    let mut drivers = Vec::with_capacity(args.drivers);
    for _ in 0..args.drivers {
        let (status, body) = post(
            &client,
            &format!("{base}/admin/drivers"),
            &admin,
            &json!({}),
            None,
        )
        .await?;
        if status != 201 {
            bail!("creating a driver answered {status}: {body}");
        }
        drivers.push(body["token"].as_str().unwrap_or_default().to_string());
    }
    let store_id = format!("load-{}", std::process::id());
    let store = json!({"storeId": store_id, "name": "Load", "location": {"latitude": 60.17, "longitude": 24.94},
                       "capacity": 100000});
    let (status, body) = post(
        &client,
        &format!("{base}/admin/stores"),
        &admin,
        &store,
        None,
    )
    .await?;
    if status != 201 {
        bail!("creating the store answered {status}: {body}");
    }
    let (_, body) = post(
        &client,
        &format!("{base}/admin/customers"),
        &admin,
        &json!({}),
        None,
    )
    .await?;
    let customer = body["token"].as_str().unwrap_or_default().to_string();

    // Phase 1: location batches + /healthz probes at the same rate, staggered over one period.
    let period = Duration::from_secs(args.batch_seconds.max(1));
    let run_for = Duration::from_secs(args.duration.max(period.as_secs()));
    eprintln!(
        "loadgen: {} drivers × 1 fix/s in {}-fix batches for {} s",
        args.drivers,
        period.as_secs(),
        run_for.as_secs()
    );
    let samples = Arc::new(Mutex::new(Samples::default()));
    let cpu_before = pid.and_then(proc_usage);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, token) in drivers.iter().enumerate() {
        let (client, base, token, samples) =
            (client.clone(), base.clone(), token.clone(), samples.clone());
        let offset = period.mul_f64(i as f64 / args.drivers.max(1) as f64);
        let n = args.batch_seconds.max(1) as usize;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(period);
            let lat = 60.16 + (i % 100) as f64 * 0.0002;
            let lon = 24.93 + (i / 100) as f64 * 0.0004;
            let mut seq = 0u64;
            while started.elapsed() < run_for {
                tick.tick().await;
                let now = chrono::Utc::now();
                let fixes: Vec<Value> = (0..n)
                    .map(|k| {
                        let t = now - chrono::Duration::seconds((n - 1 - k) as i64);
                        json!({"time": t.to_rfc3339(), "latitude": lat + k as f64 * 1e-5, "longitude": lon, "accuracyM": 8.0})
                    })
                    .collect();
                seq += 1;
                let key = format!("load-{i}-{seq}");
                let t0 = Instant::now();
                let steady = (period..run_for).contains(&started.elapsed());
                let ok = matches!(post(&client, &format!("{base}/driver/locations"), &token, &json!({"fixes": fixes}), Some(&key)).await, Ok((200, _)));
                let loc_us = t0.elapsed().as_micros() as u64;
                // The /healthz probe half a period later, so the two interleave evenly.
                tokio::time::sleep(period / 2).await;
                let t1 = Instant::now();
                let health_ok = matches!(client.get(format!("{base}/healthz")).send().await, Ok(r) if r.status().is_success());
                let health_us = t1.elapsed().as_micros() as u64;
                let mut s = samples.lock().await;
                if ok {
                    s.location_us.push(loc_us);
                    if steady {
                        s.steady_fixes += n as u64;
                    }
                } else {
                    s.errors += 1;
                }
                if health_ok {
                    s.health_us.push(health_us);
                } else {
                    s.errors += 1;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Staggered starts fill the first period; rates are taken over the steady window after it.
    let steady_s = (run_for - period).as_secs_f64().max(1.0);
    let cpu_after = pid.and_then(proc_usage);
    let mut s = std::mem::take(&mut *samples.lock().await);
    s.location_us.sort_unstable();
    s.health_us.sort_unstable();
    let loc_p99 = percentile(&s.location_us, 99.0);
    let health_p99 = percentile(&s.health_us, 99.0);
    let cpu_cores = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some((b.0 - a.0) / elapsed),
        _ => None,
    };

    // Phase 2: order placement throughput.
    eprintln!(
        "loadgen: placing {} orders, {} in flight",
        args.orders, args.concurrency
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let placed_ok = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let order_lat = Arc::new(Mutex::new(Vec::<u64>::with_capacity(args.orders)));
    let order_started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, base, customer, store_id) = (
            client.clone(),
            base.clone(),
            customer.clone(),
            store_id.clone(),
        );
        let (next, placed_ok, order_lat, total) = (
            next.clone(),
            placed_ok.clone(),
            order_lat.clone(),
            args.orders,
        );
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < total {
                let body = json!({"storeId": store_id, "paymentId": "load", "pies": [{"size": "small", "cheese": "small", "toppings": []}],
                    "deliveryAddress": {"coordinates": {"latitude": 60.171, "longitude": 24.941}, "streetAddress": "x",
                    "city": "Helsinki", "postalCode": "00100", "province": "Uusimaa"}});
                let t0 = Instant::now();
                if let Ok((201, _)) = post(&client, &format!("{base}/order"), &customer, &body, None).await {
                    placed_ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    order_lat.lock().await.push(t0.elapsed().as_micros() as u64);
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let order_elapsed = order_started.elapsed().as_secs_f64();
    let placed = placed_ok.load(std::sync::atomic::Ordering::SeqCst);
    let orders_per_s = placed as f64 / order_elapsed;
    let mut ol = std::mem::take(&mut *order_lat.lock().await);
    ol.sort_unstable();
    let final_usage = pid.and_then(proc_usage);

    let figures = json!({
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "locations": {
            "drivers": args.drivers, "batchFixes": args.batch_seconds, "seconds": elapsed,
            "fixesPerSecond": s.steady_fixes as f64 / steady_s, "targetFixesPerSecond": args.drivers as f64,
            "sustainedRatio": (s.steady_fixes as f64 / steady_s) / args.drivers as f64,
            "requests": s.location_us.len(), "errors": s.errors,
            "p50Ms": percentile(&s.location_us, 50.0), "p99Ms": loc_p99,
            "healthzP50Ms": percentile(&s.health_us, 50.0), "healthzP99Ms": health_p99,
            "p99RatioVsHealthz": loc_p99 / health_p99,
            "serverCpuCores": cpu_cores,
            "serverRssMiB": cpu_after.map(|u| u.1), "serverPeakRssMiB": cpu_after.map(|u| u.2),
        },
        "orders": {
            "placed": placed, "requested": args.orders, "concurrency": args.concurrency, "seconds": order_elapsed,
            "perSecond": orders_per_s, "p50Ms": percentile(&ol, 50.0), "p99Ms": percentile(&ol, 99.0),
            "stepFunctionsStartExecutionQuotaPerSecond": SFN_START_EXECUTION_PER_S,
            "ratioVsStepFunctionsQuota": orders_per_s / SFN_START_EXECUTION_PER_S,
            "serverPeakRssMiB": final_usage.map(|u| u.2),
        }
    });
    let text = serde_json::to_string_pretty(&figures)?;
    println!("{text}");
    if let Some(path) = &args.report {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    drop(own);
    Ok(())
}

async fn wait_healthy(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{base}/healthz never answered")
}
