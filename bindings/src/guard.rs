//! The one place that keeps a Rust panic from reaching Kotlin or Swift as anything but a typed error.
//!
//! UniFFI's scaffolding already catches panics, but turns them into a generic `InternalException` /
//! `UniffiInternalError` that callers rarely handle. Every exported function runs its body through
//! [`guarded`] so a bug in the core becomes `ApiError.Internal`, which the shells do handle.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ApiError;

/// Runs `body`, turning a panic into [`ApiError::Internal`]. The panic message is not forwarded: it could
/// carry input values (coordinates), which must not reach logs or UI.
pub fn guarded<T>(body: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    // AssertUnwindSafe: after a panic the only thing we touch is the returned error; state shared with
    // the interrupted body (the companion's mutexes) is poisoned and reported as Internal on next use.
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(ApiError::Internal {
            reason: "an internal error stopped this call; it has been contained".to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let result: Result<(), ApiError> = guarded(|| panic!("lat=60.17 must not leak"));
        match result {
            Err(ApiError::Internal { reason }) => assert!(!reason.contains("60.17"), "{reason}"),
            other => panic!("expected Internal, got {other:?}"),
        }
    }

    #[test]
    fn values_and_errors_pass_through() {
        assert_eq!(guarded(|| Ok(7)).ok(), Some(7));
        let err = guarded::<()>(|| Err(ApiError::InvalidInput { reason: "x".into() }));
        assert!(matches!(err, Err(ApiError::InvalidInput { .. })));
    }
}
