//! `fencepost simulate`: being written.
// Until the run loop lands, parts of the pipeline are only exercised by their unit tests.
#![allow(dead_code)]

mod error;
mod fleet;
mod geo;
mod metrics;
mod movement;
mod routing;
mod stores;
mod streets;

#[derive(clap::Args)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("simulate is being written")
}
