//! The workflow contract: what the HTTP layer asks of an engine that runs the order state machine.
//! It is Step Functions' task-token API (start an execution, send task success/failure/heartbeat) plus
//! token look-ups, so an AWS Step Functions engine can implement it beside the embedded one.

pub mod dispatch;
pub mod embedded;
pub mod machine;
pub mod outcome;
pub mod stepfunctions;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::clock::{from_ms, Clock};
use crate::db::{Db, Repository, TaskRow};
use crate::error::Error;
use crate::feed::Feed;

/// The waits of the order state machine (each a `.waitForTaskToken` in Step Functions terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Token A: the store's accept/decline.
    StoreDecision,
    /// Token B: one driver's answer to a dispatch offer.
    Offer,
    /// Token C: the pickup at the store (heartbeats: the driver's location reports).
    Pickup,
    /// Token D: the delivery.
    Delivery,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StoreDecision => "decision",
            Self::Offer => "offer",
            Self::Pickup => "pickup",
            Self::Delivery => "delivery",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::StoreDecision,
            Self::Offer,
            Self::Pickup,
            Self::Delivery,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// What a caller may know about a task. `open` is false once it succeeded, failed or timed out.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskInfo {
    pub token: String,
    pub order_id: String,
    pub kind: TaskKind,
    pub driver_id: Option<String>,
    pub offer_id: Option<String>,
    pub open: bool,
    pub timeout_at: Option<DateTime<Utc>>,
}

impl TaskInfo {
    /// What may be told about a stored task (both engines keep their tasks in the same table).
    pub fn of(task: &TaskRow) -> Result<Self, EngineError> {
        Ok(Self {
            token: task.token.clone(),
            order_id: task.order_id.clone(),
            kind: TaskKind::parse(&task.kind)
                .ok_or_else(|| Error::Corrupt(format!("unknown task kind {}", task.kind)))?,
            driver_id: task.driver_id.clone(),
            offer_id: task.offer_id.clone(),
            open: task.state == "open",
            timeout_at: task.timeout_at_ms.map(from_ms),
        })
    }
}

/// One workflow step, as both engines run it: `work` gets the store and the clock's time inside one write
/// transaction; once it committed, the feeds' doorbell rings so event streams send what it wrote.
pub fn run_step<T, E: From<Error>>(
    db: &Db,
    clock: &Clock,
    feed: &Feed,
    work: impl FnOnce(&dyn Repository, i64) -> Result<T, E>,
) -> Result<T, E> {
    let now_ms = clock.now_ms();
    let out = db.write(|repo| work(repo, now_ms))?;
    feed.ring();
    Ok(out)
}

/// Step Functions' error semantics for task tokens.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Malformed or unknown token (`InvalidToken`).
    #[error("the task token is invalid")]
    InvalidToken,
    /// The task already succeeded, failed or timed out (`TaskTimedOut`).
    #[error("the task is no longer open (already used or timed out)")]
    TaskTimedOut,
    #[error(transparent)]
    Storage(#[from] Error),
    #[error("workflow engine unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait WorkflowEngine: Send + Sync {
    /// Starts the order's execution (execution name = orderId). The order row exists already.
    async fn start_execution(&self, order_id: &str) -> Result<(), EngineError>;
    /// `SendTaskSuccess`: closes the task and moves the workflow on.
    async fn send_task_success(
        &self,
        token: &str,
        output: serde_json::Value,
    ) -> Result<TaskInfo, EngineError>;
    /// `SendTaskFailure` with an error name (e.g. `OrderDeclined`, `OfferDeclined`) and a cause.
    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<TaskInfo, EngineError>;
    /// `SendTaskHeartbeat`: resets the task's heartbeat timeout.
    async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError>;
    /// Looks a token up without using it (InvalidToken when unknown).
    async fn describe_task(&self, token: &str) -> Result<TaskInfo, EngineError>;
    /// The open task of `kind` for an order, if the workflow is waiting on one.
    async fn open_task(
        &self,
        order_id: &str,
        kind: TaskKind,
    ) -> Result<Option<TaskInfo>, EngineError>;
    /// The offer task behind a driver-facing offer id (offers never expose their token).
    async fn offer_task(&self, offer_id: &str) -> Result<Option<TaskInfo>, EngineError>;
    /// Runs timers and task timeouts that are due now; returns how many fired. Engines whose timers run
    /// elsewhere (Step Functions) return 0.
    async fn run_due(&self) -> Result<usize, EngineError>;
}
