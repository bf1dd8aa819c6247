//! The delivery companion: the object a phone holds during a shift.
pub mod backend;
pub mod config;
pub mod error;
pub mod evidence;
pub mod lifecycle;
pub mod listener;
pub mod outbox;
pub mod schema;
pub mod tracking;
pub mod wire;
