//! `fencepost replay`: read a trace and fences, run every fix through the engine, print events as JSON
//! lines. The loop itself is `fencepost_core::io::replay`; this file handles arguments, files and
//! where output goes.

use anyhow::Context;
use fencepost_core::engine::{EngineConfig, GeofenceEngine};
use fencepost_core::io;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(after_help = "\
Output: one JSON object per line on stdout, in time order:
  {\"event\":\"entered|arrived|exited|approaching|eta\",\"fence_id\":\"...\",\"time\":\"RFC 3339 UTC\"}
  plus \"distance_m\" and \"eta_s\" on approaching/eta events (for --target).

Errors: a file that cannot be read (malformed GPX/CSV/GeoJSON, a missing column, an unknown extension,
bad fences or config) is reported on stderr as FILE:LINE: REASON and the exit status is 1.
A fix that is bad on its own inside an otherwise valid trace (NaN or out-of-range coordinates,
negative accuracy, time running backwards) is skipped with a warning on stderr naming its line,
and the replay continues.")]
pub struct ReplayArgs {
    /// GPS trace: .gpx (trkpt with time), .csv (header naming time,lat,lon [,accuracy_m,speed_mps,
    /// bearing_deg]) or .geojson (Point features with `time`, or a LineString with `coordTimes`).
    #[arg(long)]
    pub trace: PathBuf,
    /// Geofences as GeoJSON (Point + radius_m, Polygon, MultiPolygon; properties id, dwell_s,
    /// approach_m).
    #[arg(long)]
    pub fences: PathBuf,
    /// Fence to compute distance, ETA and `approaching` for.
    #[arg(long)]
    pub target: Option<String>,
    /// Engine thresholds as JSON (any subset of EngineConfig's fields; the rest keep their defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let fences = io::read_fences(&args.fences)?;
    let config = match &args.config {
        Some(path) => read_config(path)?,
        None => EngineConfig::default(),
    };
    let points = io::read_trace_points(&args.trace)?;
    let mut engine = GeofenceEngine::new(fences, config)
        .with_context(|| format!("{}: cannot build the engine", args.fences.display()))?;
    engine
        .set_target(args.target.as_deref())
        .with_context(|| format!("--target is not a fence in {}", args.fences.display()))?;

    let trace = args.trace.display().to_string();
    let stdout = std::io::stdout();
    // One buffer for all lines, flushed once at the end: replay output can be large.
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = io::replay(&points, &mut engine, &mut out, |warning| {
        eprintln!(
            "{trace}:{}: warning: fix skipped: {}",
            warning.line, warning.reason
        );
    })
    .and_then(|_| out.flush());
    match written {
        // The reader went away (e.g. `| head`): nothing left to do, and not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing events to stdout"),
    }
}

/// Reads an `EngineConfig` from JSON; errors name the file and line.
fn read_config(path: &Path) -> anyhow::Result<EngineConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the config", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: invalid engine config: {}",
            path.display(),
            e.line(),
            config_reason(&e)
        )
    })
}

/// serde_json's message without its " at line L column C" suffix (the line is already in front).
fn config_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}
