//! What the app supplies to the companion, as foreign traits Kotlin and Swift implement: the event
//! listener and the bearer-token provider. Each method returns a `Result`, so an exception thrown in
//! the app's code comes back to Rust as a value (never an abort), and is then reported to the caller
//! as `ApiError.Platform` (see [`crate::companion`]).

use std::sync::{Arc, Mutex};

use fencepost_core::companion as core;

use crate::companion_event::CompanionEvent;

/// The error an app's listener or token provider may throw. Any other exception is converted to
/// `Unexpected` by the generated code.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The app's code failed; `reason` is shown in `ApiError.Platform`.
    #[error("{reason}")]
    Failed { reason: String },
    /// An exception of another type was thrown.
    #[error("unexpected exception: {reason}")]
    Unexpected { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Unexpected { reason: e.reason }
    }
}

/// Receives the companion's events. Called on the companion's own threads: return quickly (post to the
/// UI thread). Throwing does not stop the companion; the failure is reported by the next call.
#[uniffi::export(foreign)]
pub trait CompanionListener: Send + Sync {
    /// One event.
    fn on_event(&self, event: CompanionEvent) -> Result<(), CallbackError>;
}

/// Supplies the driver's bearer token (from the app's sign-in).
#[uniffi::export(foreign)]
pub trait TokenProvider: Send + Sync {
    /// The token to send now.
    fn current_token(&self) -> Result<String, CallbackError>;
    /// Called after the server answered 401: return a new token.
    fn refresh_token(&self) -> Result<String, CallbackError>;
}

/// Listener failures not yet reported to the app. Bounded: a listener that throws on every event must
/// not grow memory; the count of dropped failures is kept instead.
#[derive(Default)]
pub(crate) struct ListenerFailures {
    inner: Mutex<(Vec<String>, u64)>,
}

const MAX_KEPT_FAILURES: usize = 16;

impl ListenerFailures {
    fn push(&self, reason: String) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0.len() < MAX_KEPT_FAILURES {
            guard.0.push(reason);
        } else {
            guard.1 += 1;
        }
    }

    /// Takes the failures recorded so far, as one human-readable reason.
    pub(crate) fn take(&self) -> Option<String> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (reasons, dropped) = std::mem::take(&mut *guard);
        let first = reasons.first()?;
        let more = reasons.len() as u64 - 1 + dropped;
        Some(if more == 0 {
            format!("the event listener threw: {first}")
        } else {
            format!("the event listener threw: {first} (and {more} more)")
        })
    }
}

/// Adapts the app's listener to the core's trait, converting each event and recording failures.
pub(crate) struct ListenerAdapter {
    pub(crate) app: Arc<dyn CompanionListener>,
    pub(crate) failures: Arc<ListenerFailures>,
}

impl core::CompanionListener for ListenerAdapter {
    fn on_event(&self, event: core::CompanionEvent) {
        // The core calls this on its worker thread too, where a panic would kill the worker: contain it.
        let app = &self.app;
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| app.on_event(event.into())));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.failures.push(e.to_string()),
            Err(_) => self.failures.push("panic while delivering an event".into()),
        }
    }
}

/// Adapts the app's token provider to the core's trait.
pub(crate) struct TokenAdapter(pub(crate) Arc<dyn TokenProvider>);

impl core::TokenProvider for TokenAdapter {
    fn current_token(&self) -> Result<String, core::TokenError> {
        self.0.current_token().map_err(|e| core::TokenError {
            reason: e.to_string(),
        })
    }

    fn refresh_token(&self) -> Result<String, core::TokenError> {
        self.0.refresh_token().map_err(|e| core::TokenError {
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_reported_once_and_bounded() {
        let f = ListenerFailures::default();
        assert_eq!(f.take(), None);
        for i in 0..20 {
            f.push(format!("boom {i}"));
        }
        assert_eq!(
            f.take().as_deref(),
            Some("the event listener threw: boom 0 (and 19 more)")
        );
        assert_eq!(f.take(), None);
    }
}
