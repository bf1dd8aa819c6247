//! What can go wrong while setting up or running a simulation. Messages never carry coordinates.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the street network {path}: {reason}")]
    StreetNetwork { path: PathBuf, reason: String },
    #[error("the street network {path} has no drivable streets")]
    NoStreets { path: PathBuf },
    #[error("cannot read the stores file {path}: {reason}")]
    Stores { path: PathBuf, reason: String },
    #[error("no route between street nodes {from} and {to}")]
    NoRoute { from: usize, to: usize },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("backend: {0}")]
    Backend(String),
    #[error("report: {0}")]
    Report(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
