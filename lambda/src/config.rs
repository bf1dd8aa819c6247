//! The functions' configuration, from the environment the deploy template sets. Everything is checked at
//! init so a misconfigured function fails there, with a message naming the variable, not on a request.

use std::path::PathBuf;
use std::time::Duration;

use fencepost_server::{EngineChoice, JournalMode, ServeConfig, Timing};

/// A configuration or start-up problem, reported as the function's init error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("FENCEPOST_MODE must be `api` or `worker`, not {0:?}")]
    Mode(String),
    #[error("FENCEPOST_FEED_WAIT_S must be a whole number of seconds from 0 to {max}, not {0:?}", max = MAX_FEED_WAIT_S)]
    FeedWait(String),
    #[error("FENCEPOST_SQLITE_JOURNAL: {0}")]
    Journal(fencepost_server::error::Error),
    #[error("reading the admin token from Secrets Manager failed: {0}")]
    Secret(String),
    #[error(transparent)]
    Server(#[from] fencepost_server::error::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Api,
    Worker,
}

/// What both modes read: where the store is and which AWS endpoint to talk to.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// `FENCEPOST_DB`: the SQLite file both functions share.
    pub db_path: PathBuf,
    /// `FENCEPOST_AWS_ENDPOINT`: a local emulator (moto); unset on AWS.
    pub aws_endpoint: Option<String>,
    /// `FENCEPOST_FEED_WAIT_S`: how long a feed request waits for its first event (see sse.rs).
    pub feed_wait: Duration,
    /// `FENCEPOST_SQLITE_JOURNAL` (`delete` or `wal`): `delete` by default, because both functions open
    /// one file on EFS from different hosts, where SQLite's WAL (shared memory) does not work.
    pub journal: JournalMode,
}

/// The default feed wait: long enough that an idle store polls rarely, well inside the 29 s timeout.
pub const DEFAULT_FEED_WAIT_S: u64 = 10;
/// Above this a feed request would run into the function's (and API Gateway's) timeout.
pub const MAX_FEED_WAIT_S: u64 = 25;

/// `FENCEPOST_FEED_WAIT_S`: whole seconds, 0 to `MAX_FEED_WAIT_S`; unset means the default.
fn feed_wait(raw: Option<String>) -> Result<Duration, Error> {
    match raw {
        None => Ok(Duration::from_secs(DEFAULT_FEED_WAIT_S)),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= MAX_FEED_WAIT_S)
            .map(Duration::from_secs)
            .ok_or(Error::FeedWait(raw)),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Config {
    /// A configuration with the defaults: no emulator, the default feed wait.
    pub fn new(mode: Mode, db_path: PathBuf) -> Self {
        Self {
            mode,
            db_path,
            aws_endpoint: None,
            feed_wait: Duration::from_secs(DEFAULT_FEED_WAIT_S),
            journal: JournalMode::Delete,
        }
    }

    pub fn from_env() -> Result<Self, Error> {
        let mode = match var("FENCEPOST_MODE").as_deref() {
            Some("api") => Mode::Api,
            Some("worker") => Mode::Worker,
            Some(other) => return Err(Error::Mode(other.to_string())),
            None => return Err(Error::Missing("FENCEPOST_MODE")),
        };
        Ok(Self {
            mode,
            db_path: var("FENCEPOST_DB")
                .map(PathBuf::from)
                .ok_or(Error::Missing("FENCEPOST_DB"))?,
            aws_endpoint: var("FENCEPOST_AWS_ENDPOINT"),
            feed_wait: feed_wait(var("FENCEPOST_FEED_WAIT_S"))?,
            journal: match var("FENCEPOST_SQLITE_JOURNAL") {
                None => JournalMode::Delete,
                Some(raw) => raw.parse().map_err(Error::Journal)?,
            },
        })
    }

    /// The `fencepost serve --engine stepfunctions` configuration this function runs (nothing listens:
    /// requests arrive as invocations). The engine reads the state machine, queue and timings from
    /// `FENCEPOST_STATE_MACHINE_ARN`, `FENCEPOST_TASK_QUEUE_URL` and `FENCEPOST_SFN_TIMING`.
    pub fn serve_config(&self, admin_token: String) -> ServeConfig {
        ServeConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            db_path: self.db_path.clone(),
            engine: EngineChoice::StepFunctions,
            aws_endpoint: self.aws_endpoint.clone(),
            seed_stores: var("FENCEPOST_SEED_STORES").map(PathBuf::from),
            admin_token,
            test_clock: false,
            timing: Timing::default(),
            journal: self.journal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_wait_is_whole_seconds_within_the_function_timeout() {
        assert_eq!(
            feed_wait(None).ok(),
            Some(Duration::from_secs(DEFAULT_FEED_WAIT_S))
        );
        assert_eq!(feed_wait(Some("0".into())).ok(), Some(Duration::ZERO));
        assert_eq!(
            feed_wait(Some("25".into())).ok(),
            Some(Duration::from_secs(25))
        );
        for bad in ["26", "-1", "2.5", "ten"] {
            let err = feed_wait(Some(bad.into())).expect_err(bad).to_string();
            assert!(
                err.contains("FENCEPOST_FEED_WAIT_S") && err.contains(bad),
                "{err}"
            );
        }
    }
}
