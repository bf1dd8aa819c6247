//! Shared helpers for end-to-end tests that run the real `fencepost` binary (compiled as `fencepost-cli`
//! integration tests, so `CARGO_BIN_EXE_fencepost` is set). Include with `mod support;`.
//!
//! - `server`: spawn `fencepost serve` on a free 127.0.0.1 port with a temporary database, wait for /healthz,
//!   kill on drop; restart on the same database.
//! - `api`: a small blocking HTTP client (JSON in, status + JSON out), concurrent posts, feed reading.
//! - `sse`: the one reader of the server's event feeds (server-sent events).

#![allow(dead_code)] // each test file uses a different subset

pub mod api;
pub mod server;
pub mod sse;
