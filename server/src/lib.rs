//! Fencepost's order middleware: the HTTP API (axum) over SQLite, with the order workflow run by an
//! embedded engine behind the `WorkflowEngine` contract. See docs/http-api.md for the API.

pub mod clock;
pub mod db;
pub mod error;
pub mod evidence;
pub mod feed;
pub mod geometry;
pub mod http;
pub mod ids;
pub mod model;
pub mod pickup_code;
pub mod pos;
pub mod seed_stores;
pub mod server;
pub mod validate;
pub mod workflow;

pub use db::JournalMode;
pub use server::{serve, EngineChoice, ServeConfig};
pub use workflow::machine::Timing;
