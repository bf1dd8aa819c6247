//! The UniFFI surface of `fencepost-core`, one file per exported concern.
//!
//! - [`error`]: the public [`ApiError`] every exported call returns, converted from the core's errors in
//!   one place.
//! - [`fix`]: the GPS fix record the platform builds from `Location` / `CLLocation`, and its validation.
//! - [`event`]: geofence events as records.
//! - [`guard`]: keeps Rust panics from crossing into Kotlin/Swift.
//!
//! Kotlin and Swift are generated from this crate's metadata by the in-workspace `uniffi-bindgen`
//! (see docs/mobile.md); the doc comments here become their KDoc/DocC.

uniffi::setup_scaffolding!();

pub mod error;
pub mod event;
pub mod fix;
pub mod guard;

pub use error::ApiError;
