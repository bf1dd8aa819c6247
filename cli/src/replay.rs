//! `fencepost replay`: being written (trace I/O + engine).

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// GPS trace: .gpx, .csv or .geojson (by extension).
    #[arg(long)]
    pub trace: PathBuf,
    /// Geofences as GeoJSON (Point + radius_m, Polygon, MultiPolygon).
    #[arg(long)]
    pub fences: PathBuf,
    /// Fence to compute distance, ETA and `approaching` for.
    #[arg(long)]
    pub target: Option<String>,
    /// Engine thresholds as JSON.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(_args: ReplayArgs) -> anyhow::Result<()> {
    anyhow::bail!("replay is not implemented yet")
}
