//! `fencepost companion-agent` (hidden): one delivery companion in its own process, driven by JSON lines
//! on stdin, answering one JSON line per command on stdout. It exists so an end-to-end test can SIGKILL
//! a real process mid-delivery and start it again on the same storage directory.
//!
//! Commands: `{"op":"available"}`, `{"op":"fix","time_ms":…,"lat":…,"lon":…,"accuracy_m":…}` (the
//! agent's clock follows fix times), `{"op":"accept_first"}` (waits ≤ 15 s for an offer and accepts it),
//! `{"op":"pickup","code":…}`, `{"op":"deliver"}`, `{"op":"sync"}` (≤ 15 s until nothing is pending),
//! `{"op":"state"}`. Answers: `{"ok":true,…}` or `{"ok":false,"error":…}`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use fencepost_core::companion::{
    Companion, CompanionConfig, CompanionEvent, CompanionListener, ManualClock, TokenError,
    TokenProvider,
};
use fencepost_core::LocationFix;
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct AgentArgs {
    /// Middleware base URL.
    #[arg(long)]
    backend: String,
    /// Storage directory (the outbox database lives here).
    #[arg(long)]
    dir: PathBuf,
    /// The driver's bearer token (read from the environment in preference to the command line).
    #[arg(long, env = "FENCEPOST_DRIVER_TOKEN", hide_env_values = true)]
    token: String,
    /// Seconds of fix time between location batches.
    #[arg(long, default_value_t = 30)]
    batch_s: u64,
}

struct Offers(Mutex<Vec<String>>);

impl CompanionListener for Offers {
    fn on_event(&self, event: CompanionEvent) {
        if let CompanionEvent::DispatchOffered { offer } = event {
            if let Ok(mut offers) = self.0.lock() {
                offers.push(offer.offer_id);
            }
        }
    }
}

struct Token(String);

impl TokenProvider for Token {
    fn current_token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
    fn refresh_token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let mut config = CompanionConfig::new(args.backend);
    config.location_batch_interval_ms = args.batch_s * 1000;
    config.retry_base_ms = 50;
    config.retry_max_ms = 400;
    config.request_timeout_ms = 3_000;
    config.offer_poll_interval_ms = 200;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let clock = Arc::new(ManualClock::new(now));
    let offers = Arc::new(Offers(Mutex::new(Vec::new())));
    let companion = Companion::with_clock(
        config,
        &args.dir,
        offers.clone(),
        Arc::new(Token(args.token)),
        clock.clone(),
    )
    .context("opening the companion")?;
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.context("reading a command")?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(cmd) => execute(&companion, &clock, &offers, &cmd),
            Err(_) => json!({"ok": false, "error": "not JSON"}),
        };
        writeln!(stdout, "{answer}").context("writing an answer")?;
        stdout.flush().context("flushing")?;
    }
    companion.shutdown();
    Ok(())
}

fn wait(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn execute(companion: &Companion, clock: &ManualClock, offers: &Offers, cmd: &Value) -> Value {
    let result = match cmd["op"].as_str().unwrap_or_default() {
        "available" => companion.set_available(true).map(|_| json!({})),
        "fix" => {
            let (Some(t), Some(lat), Some(lon)) = (
                cmd["time_ms"].as_i64(),
                cmd["lat"].as_f64(),
                cmd["lon"].as_f64(),
            ) else {
                return json!({"ok": false, "error": "fix needs time_ms, lat, lon"});
            };
            clock.set(t);
            let fix = LocationFix {
                accuracy_m: cmd["accuracy_m"].as_f64(),
                ..LocationFix::new(t, lat, lon)
            };
            companion.on_location(fix).map(|_| json!({}))
        }
        "accept_first" => {
            let mut offer = None;
            wait(Duration::from_secs(15), || {
                let _ = companion.sync_now();
                offer = offers.0.lock().ok().and_then(|o| o.first().cloned());
                offer.is_some()
            });
            match offer {
                Some(id) => companion.accept_dispatch(id).map(|_| json!({})),
                None => return json!({"ok": false, "error": "no offer within 15 s"}),
            }
        }
        "pickup" => companion
            .confirm_pickup(cmd["code"].as_str().unwrap_or_default().to_owned())
            .map(|_| json!({})),
        "deliver" => companion.confirm_delivery().map(|_| json!({})),
        "sync" => {
            let synced = companion.sync_now().is_ok()
                && wait(Duration::from_secs(15), || {
                    companion.state().sync.pending_messages == 0
                });
            Ok(json!({ "synced": synced }))
        }
        "state" => {
            let s = companion.state();
            Ok(json!({
                "phase": format!("{:?}", s.phase),
                "order_id": s.order_id,
                "pending_messages": s.sync.pending_messages,
                "pending_fixes": s.sync.pending_fixes,
                "online": s.sync.online,
            }))
        }
        _ => return json!({"ok": false, "error": "unknown op"}),
    };
    match result {
        Ok(mut v) => {
            v["ok"] = json!(true);
            v
        }
        Err(e) => json!({"ok": false, "error": e.to_string()}),
    }
}
