//! The UniFFI surface of `fencepost-core`, one file per exported concern.
//!
//! - [`error`]: the public [`ApiError`] every exported call returns, converted from the core's errors in
//!   one place.
//! - [`companion`]: the `Companion` object the apps hold, configured by [`config`], reporting
//!   [`companion_event`]s to the app's [`listener`] (which, with the token provider, is a foreign trait).
//! - Records and enums it exchanges: [`fix`] (the GPS fix the platform builds from `Location` /
//!   `CLLocation`), [`dispatch`] (offers), [`state`] (phase and UI snapshot), [`tracking`] (what to ask
//!   the location client for), [`pickup`] (refusal reasons), [`event`] (geofence events).
//! - [`guard`]: keeps Rust panics from crossing into Kotlin/Swift.
//!
//! Kotlin and Swift are generated from this crate's metadata by the in-workspace `uniffi-bindgen`
//! (see docs/mobile.md); the doc comments here become their KDoc/DocC.

uniffi::setup_scaffolding!();

pub mod companion;
pub mod companion_event;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod fix;
pub mod guard;
pub mod listener;
pub mod pickup;
pub mod state;
pub mod tracking;

pub use error::ApiError;
