//! `fencepost`: replay a GPS trace against fences, serve the order middleware, simulate a fleet.
//! Each subcommand lives in its own module; this file only parses and dispatches.

mod companion_agent;
mod loadgen;
mod replay;
mod serve;
mod simulate;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fencepost", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a GPS trace against geofences and print events as JSON lines.
    Replay(replay::ReplayArgs),
    /// Run the order middleware (HTTP API + workflow engine) on a SQLite database.
    Serve(serve::ServeArgs),
    /// Load figures for `serve`: location batches from N drivers vs /healthz, order placement throughput.
    Loadgen(loadgen::LoadgenArgs),
    /// Drive a simulated fleet through the whole order lifecycle and report what happened.
    Simulate(simulate::SimulateArgs),
    /// Test helper: one companion in its own process, driven over stdin (see companion_agent.rs).
    #[command(hide = true)]
    CompanionAgent(companion_agent::AgentArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Loadgen(args) => loadgen::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::CompanionAgent(args) => companion_agent::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fencepost: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
