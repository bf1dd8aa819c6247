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

/// Who consumes the task queue: this process (`fencepost serve`: a background task long-polls SQS), or
/// someone else (on AWS Lambda the SQS event source invokes the worker function with each batch, and the
/// API function must not poll).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueConsumer {
    InProcess,
    External,
}

/// The AWS region: `AWS_REGION` (set by Lambda), else `AWS_DEFAULT_REGION`, else us-east-1.
pub fn region_from_env() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "us-east-1".into())
}

/// Where the engine's AWS resources are, from the environment: the region, and the deployed state machine
/// and queue (`FENCEPOST_STATE_MACHINE_ARN`, `FENCEPOST_TASK_QUEUE_URL`) or, with an emulator endpoint,
/// the prefix of the ones to provision.
#[cfg(feature = "stepfunctions")]
pub fn settings_from_env(db_path: &Path, endpoint: Option<String>) -> aws::Settings {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    aws::Settings {
        endpoint,
        region: region_from_env(),
        state_machine_arn: env("FENCEPOST_STATE_MACHINE_ARN"),
        queue_url: env("FENCEPOST_TASK_QUEUE_URL"),
        name_prefix: name_prefix(db_path),
    }
}

/// Builds the engine for `--engine stepfunctions` (with `QueueConsumer::InProcess` it starts its queue
/// consumer; needs a tokio runtime).
#[cfg(feature = "stepfunctions")]
pub fn build(
    db: Arc<Db>,
    clock: Arc<Clock>,
    feed: Arc<Feed>,
    timing: Timing,
    db_path: &Path,
    endpoint: Option<String>,
    consumer: QueueConsumer,
) -> Result<Arc<dyn WorkflowEngine>, Error> {
    Ok(Arc::new(engine::StepFunctionsEngine::start(
        db,
        clock,
        feed,
        timing,
        settings_from_env(db_path, endpoint),
        consumer,
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
    _consumer: QueueConsumer,
) -> Result<Arc<dyn WorkflowEngine>, Error> {
    Err(Error::Config(
        "this build has no Step Functions engine: rebuild with `--features stepfunctions` \
         (cargo build -p fencepost-cli --features stepfunctions)"
            .into(),
    ))
}
