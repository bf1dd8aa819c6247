//! The AWS Step Functions engine (issue 5): the order workflow as Amazon States Language
//! (`server/statemachine/order.asl.json`), run by Step Functions or, locally and in CI, by moto.
//!
//! - `definition`: the ASL, its message kinds, and its structural check.
//! - `timing`: the timeouts passed to each execution.
//! - `projector`: what each workflow message and task outcome does to the store.
//! - `aws` + `engine` (feature `stepfunctions`): SDK calls, the queue consumer, `WorkflowEngine`.
//!
//! See docs/deploy-aws.md for deployment and what was verified where.

pub mod definition;
pub mod projector;
pub mod timing;

#[cfg(feature = "stepfunctions")]
pub mod aws;
#[cfg(feature = "stepfunctions")]
pub mod engine;

use std::path::Path;
use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;
use crate::error::Error;
use crate::feed::Feed;
use crate::workflow::machine::Timing;
use crate::workflow::WorkflowEngine;

/// Resource-name prefix for provisioning on an emulator: `FENCEPOST_AWS_PREFIX`, else derived from the
/// database path, so each server (and each test's server) gets its own queue and state machine.
pub fn name_prefix(db_path: &Path) -> String {
    if let Ok(prefix) = std::env::var("FENCEPOST_AWS_PREFIX") {
        if !prefix.is_empty() {
            return prefix;
        }
    }
    let canonical = std::fs::canonicalize(db_path).unwrap_or_else(|_| db_path.to_path_buf());
    let hash = crate::ids::hash_bytes(canonical.to_string_lossy().as_bytes());
    format!("fencepost-{}", hash.get(..12).unwrap_or("default"))
}

/// Builds the engine for `--engine stepfunctions` (starts its queue consumer; needs a tokio runtime).
#[cfg(feature = "stepfunctions")]
pub fn build(
    db: Arc<Db>,
    clock: Arc<Clock>,
    feed: Arc<Feed>,
    timing: Timing,
    db_path: &Path,
    endpoint: Option<String>,
) -> Result<Arc<dyn WorkflowEngine>, Error> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let settings = aws::Settings {
        endpoint,
        region: env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into()),
        state_machine_arn: env("FENCEPOST_STATE_MACHINE_ARN"),
        queue_url: env("FENCEPOST_TASK_QUEUE_URL"),
        name_prefix: name_prefix(db_path),
    };
    Ok(Arc::new(engine::StepFunctionsEngine::start(
        db, clock, feed, timing, settings,
    )?))
}

/// Without the `stepfunctions` feature the engine is not compiled in: say how to get it.
#[cfg(not(feature = "stepfunctions"))]
pub fn build(
    _db: Arc<Db>,
    _clock: Arc<Clock>,
    _feed: Arc<Feed>,
    _timing: Timing,
    _db_path: &Path,
    _endpoint: Option<String>,
) -> Result<Arc<dyn WorkflowEngine>, Error> {
    Err(Error::Config(
        "this build has no Step Functions engine: rebuild with `--features stepfunctions` \
         (cargo build -p fencepost-cli --features stepfunctions)"
            .into(),
    ))
}
