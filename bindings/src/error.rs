//! The public error of every exported call, and the one place the core's errors are converted to it.
//!
//! Variants are what a caller can act on (fix the input, wait for the network, show a refusal to the
//! driver, report a bug), not a mirror of the internal error types. Reasons never carry coordinates or
//! tokens.

use fencepost_core::companion::CompanionError;
use fencepost_core::{Error as CoreError, FixError};

use crate::pickup::PickupRefusal;

/// An error from the Fencepost core, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// A value passed in was rejected (for example a GPS fix with NaN or out-of-range coordinates, or
    /// time running backwards). Fix the value; retrying the same call will fail again.
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    /// The call is not allowed in the current delivery phase (for example confirming a pickup with no
    /// active dispatch). Refresh the UI from `state()`.
    #[error("not allowed now: {reason}")]
    InvalidState { reason: String },
    /// The pickup scan was refused; `refusal` says why, for the driver (wrong order, stale or
    /// inaccurate fix, outside the store's fence, mocked location).
    #[error("pickup refused: {refusal:?}")]
    PickupRefused { refusal: PickupRefusal },
    /// The companion was shut down; create a new one to continue.
    #[error("the companion has been shut down")]
    ShutDown,
    /// The backend could not be reached or answered with an error. Messages stay in the durable outbox
    /// and are retried; nothing needs to be resent by the caller.
    #[error("network: {reason}")]
    Network { reason: String },
    /// Local storage (the outbox database) failed, for example because the disk is full.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// Code supplied by the app (the event listener or the token provider) threw an exception.
    #[error("platform callback failed: {reason}")]
    Platform { reason: String },
    /// A bug in the core; the call was contained and the app can keep running. Please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<FixError> for ApiError {
    fn from(e: FixError) -> Self {
        ApiError::InvalidInput {
            reason: format!("invalid fix: {e}"),
        }
    }
}

impl From<CompanionError> for ApiError {
    fn from(e: CompanionError) -> Self {
        match e {
            CompanionError::InvalidInput { reason } => ApiError::InvalidInput { reason },
            CompanionError::InvalidState { reason } => ApiError::InvalidState { reason },
            CompanionError::PickupRefused { refusal } => ApiError::PickupRefused {
                refusal: refusal.into(),
            },
            CompanionError::Storage { reason } => ApiError::Storage { reason },
            CompanionError::ShutDown => ApiError::ShutDown,
            // The core's catch-all covers transport, server and token failures: all of them are
            // "could not talk to the backend" for the app.
            #[allow(unreachable_patterns)]
            other => ApiError::Network {
                reason: other.to_string(),
            },
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Fix(fix) => fix.into(),
            // Fence and parse errors come from data the app passed in (fence GeoJSON, files).
            CoreError::Fence { .. } | CoreError::Parse { .. } => ApiError::InvalidInput {
                reason: e.to_string(),
            },
            CoreError::Io { .. } => ApiError::Storage {
                reason: e.to_string(),
            },
            // The core gains variants as other modules land; until they get their own arm here they
            // are reported as internal rather than breaking the build of this crate.
            #[allow(unreachable_patterns)]
            _ => ApiError::Internal {
                reason: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_errors_are_invalid_input_with_the_field_named() {
        let e: ApiError = FixError::NotFinite { field: "lat" }.into();
        assert_eq!(
            e,
            ApiError::InvalidInput {
                reason: "invalid fix: lat is not a finite number".into()
            }
        );
    }

    #[test]
    fn core_io_errors_are_storage() {
        let e: ApiError = CoreError::Io {
            path: "outbox.sqlite".into(),
            source: std::io::Error::other("disk full"),
        }
        .into();
        assert!(matches!(e, ApiError::Storage { .. }), "{e:?}");
    }
}
