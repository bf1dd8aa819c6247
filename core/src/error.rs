//! The crate's internal error. Each module has its own typed error; this one gathers them with `From`
//! so callers can use `?` across modules. The FFI crate maps it to a small public `ApiError` in one place.

use crate::fix::FixError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid fix: {0}")]
    Fix(#[from] FixError),
    #[error("invalid fence {id}: {reason}")]
    Fence { id: String, reason: String },
    #[error("invalid engine configuration: {reason}")]
    Config { reason: String },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{path}: unsupported file type (expected {expected})")]
    UnsupportedFormat {
        path: String,
        expected: &'static str,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
