//! The embedded engine: the order state machine (`machine.rs`) run in-process, its tasks and timers kept in
//! SQLite. Task tokens are single-use: a second use, or a use after the timeout, answers `TaskTimedOut`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::{from_ms, Clock};
use crate::db::{Db, Repository, TaskRow};
use crate::error::Error;
use crate::feed::Feed;
use crate::workflow::machine::{Machine, Timing};
use crate::workflow::{EngineError, TaskInfo, TaskKind, WorkflowEngine};

/// How many due timers one pass handles before yielding to requests.
const DUE_BATCH: usize = 200;

pub struct EmbeddedEngine {
    db: Arc<Db>,
    clock: Arc<Clock>,
    feed: Arc<Feed>,
    timing: Timing,
    /// Set once orders whose execution never started (crash right after storing them) were started.
    recovered: AtomicBool,
}

impl EmbeddedEngine {
    pub fn new(db: Arc<Db>, clock: Arc<Clock>, feed: Arc<Feed>, timing: Timing) -> Self {
        Self {
            db,
            clock,
            feed,
            timing,
            recovered: AtomicBool::new(false),
        }
    }

    /// Runs one state-machine step in a transaction, then rings the event doorbell.
    fn step<T>(
        &self,
        work: impl FnOnce(&Machine<'_>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let now_ms = self.clock.now_ms();
        let out = self.db.write(|repo| {
            work(&Machine {
                repo,
                now_ms,
                timing: &self.timing,
            })
        })?;
        self.feed.ring();
        Ok(out)
    }

    /// Closes the open task behind `token` with `state`. The outer error rolls back (nothing happened);
    /// the inner one is an answer to commit: a task already closed, or one past its deadline that the timer
    /// loop has not reached yet — that one times out here and now, so its `Catch` still runs.
    fn take_open(
        m: &Machine<'_>,
        token: &str,
        state: &str,
    ) -> Result<Result<TaskRow, EngineError>, EngineError> {
        let task = m.repo.task(token)?.ok_or(EngineError::InvalidToken)?;
        if task.state != "open" {
            return Ok(Err(EngineError::TaskTimedOut));
        }
        let late = task.timeout_at_ms.is_some_and(|t| t <= m.now_ms)
            || task.heartbeat_due_at_ms.is_some_and(|t| t <= m.now_ms);
        if late {
            m.repo.close_task(token, "timed_out", m.now_ms)?;
            m.on_timeout(&task)?;
            return Ok(Err(EngineError::TaskTimedOut));
        }
        m.repo.close_task(token, state, m.now_ms)?;
        Ok(Ok(task))
    }
}

fn info(task: &TaskRow) -> Result<TaskInfo, EngineError> {
    Ok(TaskInfo {
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

/// Tokens are `fpt_` + 43 base64url characters; anything else is rejected before touching storage.
fn well_formed(token: &str) -> bool {
    token.len() == 47
        && token.starts_with("fpt_")
        && token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[async_trait]
impl WorkflowEngine for EmbeddedEngine {
    async fn start_execution(&self, order_id: &str) -> Result<(), EngineError> {
        self.step(|m| Ok(m.start(order_id)?))
    }

    async fn send_task_success(
        &self,
        token: &str,
        _output: serde_json::Value,
    ) -> Result<TaskInfo, EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let outcome = self.step(|m| {
            let task = match Self::take_open(m, token, "succeeded")? {
                Ok(task) => task,
                Err(answer) => return Ok(Err(answer)),
            };
            m.on_success(&task)?;
            Ok(Ok(task))
        });
        let task = outcome??;
        info(&task)
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<TaskInfo, EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let outcome = self.step(|m| {
            let task = match Self::take_open(m, token, "failed")? {
                Ok(task) => task,
                Err(answer) => return Ok(Err(answer)),
            };
            m.on_failure(&task, error, cause)?;
            Ok(Ok(task))
        });
        let task = outcome??;
        info(&task)
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let outcome = self.step(|m| {
            let task = m.repo.task(token)?.ok_or(EngineError::InvalidToken)?;
            if task.state != "open" {
                return Ok(Err(EngineError::TaskTimedOut));
            }
            if task.heartbeat_due_at_ms.is_some_and(|t| t <= m.now_ms)
                || task.timeout_at_ms.is_some_and(|t| t <= m.now_ms)
            {
                m.repo.close_task(token, "timed_out", m.now_ms)?;
                m.on_timeout(&task)?;
                return Ok(Err(EngineError::TaskTimedOut));
            }
            if let Some(seconds) = task.heartbeat_seconds {
                m.repo.set_heartbeat_due(token, m.now_ms + seconds * 1000)?;
            }
            Ok(Ok(()))
        });
        outcome?
    }

    async fn describe_task(&self, token: &str) -> Result<TaskInfo, EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let task = self
            .db
            .write(|repo| Ok::<_, EngineError>(repo.task(token)?))?;
        info(&task.ok_or(EngineError::InvalidToken)?)
    }

    async fn open_task(
        &self,
        order_id: &str,
        kind: TaskKind,
    ) -> Result<Option<TaskInfo>, EngineError> {
        let task = self
            .db
            .write(|repo| Ok::<_, EngineError>(repo.open_task(order_id, kind.as_str())?))?;
        task.as_ref().map(info).transpose()
    }

    async fn offer_task(&self, offer_id: &str) -> Result<Option<TaskInfo>, EngineError> {
        let task = self
            .db
            .write(|repo| Ok::<_, EngineError>(repo.task_by_offer(offer_id)?))?;
        task.as_ref().map(info).transpose()
    }

    async fn run_due(&self) -> Result<usize, EngineError> {
        let mut fired = 0;
        if !self.recovered.swap(true, Ordering::SeqCst) {
            let orphans = self
                .db
                .write(|repo| Ok::<_, EngineError>(repo.unstarted_orders()?))?;
            for order_id in orphans {
                tracing::warn!(%order_id, "starting an order whose execution never started");
                self.step(|m| Ok(m.start(&order_id)?))?;
                fired += 1;
            }
        }
        let now_ms = self.clock.now_ms();
        let (tasks, timers) = self.db.write(|repo| {
            Ok::<_, EngineError>((
                repo.due_tasks(now_ms, DUE_BATCH)?,
                repo.due_timers(now_ms, DUE_BATCH)?,
            ))
        })?;
        // Each firing is its own transaction and re-checks the task is still open, so a request that
        // used the token a moment earlier wins cleanly.
        for task in tasks {
            let done = self.step(|m| {
                if !m.repo.close_task(&task.token, "timed_out", m.now_ms)? {
                    return Ok(false);
                }
                m.on_timeout(&task)?;
                Ok(true)
            })?;
            fired += usize::from(done);
        }
        for timer in timers {
            self.step(|m| {
                m.repo.delete_timer(timer.id)?;
                Ok(m.on_timer(&timer.order_id, &timer.kind)?)
            })?;
            fired += 1;
        }
        Ok(fired)
    }
}
