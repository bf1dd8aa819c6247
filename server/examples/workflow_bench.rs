//! Orders per second through a workflow engine, and (for Step Functions) the AWS API calls each delivered
//! order costs. Runs the real router on 127.0.0.1 in-process and drives every order through the HTTP API
//! from placement to delivery; task tokens and offer ids, which stores and drivers read from their feeds,
//! are read from the store directly to keep the client simple.
//!
//! ```text
//! cargo run --release -p fencepost-server --example workflow_bench -- --orders 200 --concurrency 16
//! cargo run --release -p fencepost-server --features stepfunctions --example workflow_bench -- \
//!     --engine stepfunctions --aws-endpoint http://127.0.0.1:PORT --orders 100 --concurrency 8
//! ```
//! With moto the figure measures the emulator (Python, one process), not AWS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fencepost_server::db::Repository;
use fencepost_server::http::AppState;
use fencepost_server::server::build;
use fencepost_server::{EngineChoice, ServeConfig, Timing};
use serde_json::{json, Value};

const ADMIN: &str = "bench-admin-token-0123456789";
const STORE_LAT: f64 = 60.1699;
const STORE_LON: f64 = 24.9384;

struct Args {
    engine: EngineChoice,
    endpoint: Option<String>,
    orders: usize,
    concurrency: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        engine: EngineChoice::Embedded,
        endpoint: None,
        orders: 100,
        concurrency: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--engine" => {
                a.engine = match value()?.as_str() {
                    "embedded" => EngineChoice::Embedded,
                    "stepfunctions" => EngineChoice::StepFunctions,
                    other => return Err(format!("unknown engine {other}")),
                }
            }
            "--aws-endpoint" => a.endpoint = Some(value()?),
            "--orders" => a.orders = value()?.parse().map_err(|e| format!("--orders: {e}"))?,
            "--concurrency" => {
                a.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.orders == 0 || a.concurrency == 0 {
        return Err("--orders and --concurrency must be positive".into());
    }
    Ok(a)
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: std::sync::atomic::AtomicU64,
}

impl Client {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut req = if method == "GET" {
            self.http.get(url)
        } else {
            self.http.post(url)
        };
        req = req.bearer_auth(token);
        if let Some(body) = body {
            let key = self.key.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            req = req
                .header("idempotency-key", format!("bench-{key}"))
                .json(&body);
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {body}"));
        }
        Ok(body)
    }
}

/// Polls the store until `f` finds something (the Step Functions engine files tokens asynchronously).
async fn await_row<T>(
    state: &AppState,
    what: &str,
    f: impl Fn(&dyn Repository) -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = state
            .db
            .write(|repo| Ok::<_, fencepost_server::error::Error>(f(repo)))
            .map_err(|e| e.to_string())?;
        if let Some(v) = found {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn evidence(lat: f64, lon: f64) -> Value {
    json!({"time": chrono::Utc::now().to_rfc3339(), "latitude": lat, "longitude": lon, "accuracyM": 5.0,
           "insideFence": true, "mock": false})
}

async fn one_order(
    c: &Client,
    state: &AppState,
    store: &str,
    customer: &str,
    drivers: &std::collections::HashMap<String, String>,
) -> Result<(), String> {
    let (home_lat, home_lon) = (STORE_LAT + 0.01, STORE_LON);
    let placed = c
        .call(
            "POST",
            "/order",
            customer,
            Some(json!({
            "storeId": "bench", "paymentId": "p",
            "pies": [{"size": "large", "cheese": "medium", "toppings": []}],
            "deliveryAddress": {"coordinates": {"latitude": home_lat, "longitude": home_lon},
                "streetAddress": "s", "city": "c", "postalCode": "p", "province": "p"}})),
        )
        .await?;
    let order_id = placed["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = await_row(state, "decision token", |r| {
        r.open_task(&order_id, "decision")
            .ok()
            .flatten()
            .map(|t| t.token)
    })
    .await?;
    c.call(
        "POST",
        "/order/decision",
        store,
        Some(
            json!({"orderId": order_id, "storeId": "bench", "accepted": true, "taskToken": token}),
        ),
    )
    .await?;
    let (offer_id, driver_id) = await_row(state, "offer", |r| {
        r.open_task(&order_id, "offer")
            .ok()
            .flatten()
            .and_then(|t| Some((t.offer_id?, t.driver_id?)))
    })
    .await?;
    let driver = drivers
        .get(&driver_id)
        .ok_or("offer to an unknown driver")?;
    c.call(
        "POST",
        &format!("/driver/offers/{offer_id}/accept"),
        driver,
        Some(json!({})),
    )
    .await?;
    let fix = json!({"time": chrono::Utc::now().to_rfc3339(), "latitude": STORE_LAT, "longitude": STORE_LON, "accuracyM": 5.0});
    c.call(
        "POST",
        "/driver/locations",
        driver,
        Some(json!({"fixes": [fix], "orderId": order_id, "distanceM": 10.0, "etaS": 2.0})),
    )
    .await?;
    let code = c
        .call(
            "GET",
            &format!("/order/{order_id}/pickup-code"),
            store,
            None,
        )
        .await?;
    c.call("POST", "/order/pickup", driver, Some(json!({"orderId": order_id, "code": code["qr"], "evidence": evidence(STORE_LAT, STORE_LON)}))).await?;
    c.call(
        "POST",
        "/order/delivered",
        driver,
        Some(json!({"orderId": order_id, "evidence": evidence(home_lat, home_lon)})),
    )
    .await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let a = args()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        db_path: dir.path().join("bench.db"),
        engine: a.engine,
        aws_endpoint: a.endpoint.clone(),
        seed_stores: None,
        admin_token: ADMIN.into(),
        test_clock: false,
        timing: Timing::default(),
        journal: Default::default(),
    };
    let (state, router) = build(&config).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let c = Arc::new(Client {
        http: reqwest::Client::new(),
        base,
        key: Default::default(),
    });

    let store_body = json!({"storeId": "bench", "name": "Bench", "location": {"latitude": STORE_LAT, "longitude": STORE_LON},
                            "capacity": 100_000});
    let store = c
        .call("POST", "/admin/stores", ADMIN, Some(store_body))
        .await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let customer = c
        .call("POST", "/admin/customers", ADMIN, Some(json!({})))
        .await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut drivers = std::collections::HashMap::new();
    for i in 0..a.concurrency {
        let d = c
            .call("POST", "/admin/drivers", ADMIN, Some(json!({})))
            .await?;
        let token = d["token"].as_str().unwrap_or_default().to_string();
        let fix = json!({"time": chrono::Utc::now().to_rfc3339(), "latitude": STORE_LAT + 0.001 * i as f64, "longitude": STORE_LON});
        c.call(
            "POST",
            "/driver/locations",
            &token,
            Some(json!({"fixes": [fix]})),
        )
        .await?;
        drivers.insert(
            d["driverId"].as_str().unwrap_or_default().to_string(),
            token,
        );
    }
    let drivers = Arc::new(drivers);
    let before = calls();
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..a.concurrency {
        let (c, state, store, customer, drivers, next) = (
            c.clone(),
            state.clone(),
            store.clone(),
            customer.clone(),
            drivers.clone(),
            next.clone(),
        );
        let orders = a.orders;
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < orders {
                // Each worker's driver becomes free again once its order is delivered; offers may go to any.
                one_order(&c, &state, &store, &customer, &drivers).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let engine = match a.engine {
        EngineChoice::Embedded => "embedded",
        EngineChoice::StepFunctions => "stepfunctions",
    };
    println!(
        "{{\"engine\": \"{engine}\", \"orders\": {}, \"concurrency\": {}, \"seconds\": {elapsed:.2}, \"orders_per_s\": {:.2}}}",
        a.orders,
        a.concurrency,
        a.orders as f64 / elapsed
    );
    let after = calls();
    for (op, n) in &after {
        let used = n - before.get(op).copied().unwrap_or(0);
        if used > 0 {
            println!(
                "  {op}: {used} calls, {:.2} per delivered order",
                used as f64 / a.orders as f64
            );
        }
    }
    Ok(())
}

#[cfg(feature = "stepfunctions")]
fn calls() -> std::collections::BTreeMap<&'static str, u64> {
    fencepost_server::workflow::stepfunctions::aws::api_calls()
}

#[cfg(not(feature = "stepfunctions"))]
fn calls() -> std::collections::BTreeMap<&'static str, u64> {
    std::collections::BTreeMap::new()
}
