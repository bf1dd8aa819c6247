//! Two error types, as in application-services: the internal [`Error`] the companion's modules pass
//! around with `?`, and the small public [`CompanionError`] a platform shell can act on, converted in one
//! place ([`From<Error> for CompanionError`]). Neither ever carries a coordinate or a token.

use super::evidence::PickupRefusal;
use crate::fix::FixError;

/// Internal error of the companion's modules.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    #[error("invalid fix: {0}")]
    Fix(#[from] FixError),
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("storage directory: {0}")]
    StorageDir(#[source] std::io::Error),
    /// A stored record could not be read back. Serde's own messages can quote values (and so
    /// coordinates), so only the record's name is kept.
    #[error("stored {what} is unreadable")]
    Corrupt { what: &'static str },
    #[error("could not start the background runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("network: {0}")]
    Transport(String),
    #[error("server answered {status} {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the token provider failed: {0}")]
    Token(String),
    #[error("invalid offer: {0}")]
    InvalidOffer(&'static str),
    #[error("no offer with that id is open")]
    UnknownOffer,
    #[error("{action} is not possible while {phase}")]
    InvalidPhase {
        action: &'static str,
        phase: &'static str,
    },
    #[error("pickup refused: {0}")]
    Pickup(PickupRefusal),
    #[error("the companion has been shut down")]
    ShutDown,
}

/// What a platform shell sees. Few variants, each one a caller can act on; `reason` is for humans and
/// never contains personal data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompanionError {
    /// The caller passed something unusable (a bad fix, an unknown offer id, a bad config).
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    /// The action does not fit the delivery's current phase (e.g. pickup before accepting).
    #[error("invalid state: {reason}")]
    InvalidState { reason: String },
    /// The pickup scan was refused; `refusal` says why, for the UI.
    #[error("pickup refused: {refusal}")]
    PickupRefused { refusal: PickupRefusal },
    /// Local storage failed (disk full, permissions). Messages are still queued where possible.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// The companion was shut down; create a new one.
    #[error("shut down")]
    ShutDown,
    #[error("{reason}")]
    Other { reason: String },
}

impl From<Error> for CompanionError {
    fn from(err: Error) -> Self {
        let reason = err.to_string();
        match err {
            Error::Config(_) | Error::Fix(_) | Error::UnknownOffer | Error::InvalidOffer(_) => {
                CompanionError::InvalidInput { reason }
            }
            Error::InvalidPhase { .. } => CompanionError::InvalidState { reason },
            Error::Pickup(refusal) => CompanionError::PickupRefused { refusal },
            Error::Storage(_) | Error::StorageDir(_) | Error::Corrupt { .. } => {
                CompanionError::Storage { reason }
            }
            Error::ShutDown => CompanionError::ShutDown,
            Error::Runtime(_) | Error::Transport(_) | Error::Server { .. } | Error::Token(_) => {
                CompanionError::Other { reason }
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
