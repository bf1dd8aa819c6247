//! `fencepost simulate`: being written.
// Until the run loop lands, parts of the pipeline are only exercised by their unit tests.
#![allow(dead_code)]

mod error;
mod faults;
mod fleet;
mod geo;
mod metrics;
mod movement;
mod proxy;
mod record;
mod report;
mod routing;
mod stores;
mod streets;
mod summary;

#[derive(clap::Args)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("simulate is being written")
}
