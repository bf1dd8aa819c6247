//! The embedded engine: the order state machine (`machine.rs`) run in-process, its tasks and timers kept in
//! SQLite. Task tokens are single-use: a second use, or a use after the timeout, answers `TaskTimedOut`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::Clock;
use crate::db::{Db, Repository, TaskRow};
use crate::feed::Feed;
use crate::workflow::machine::{Machine, Timing};
use crate::workflow::{run_step, EngineError, TaskInfo, TaskKind, WorkflowEngine};

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

    /// Runs one state-machine step (see `run_step`).
    fn step<T>(
        &self,
        work: impl FnOnce(&Machine<'_>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        run_step(&self.db, &self.clock, &self.feed, |repo, now_ms| {
            work(&Machine {
                repo,
                now_ms,
                timing: &self.timing,
            })
        })
    }

    /// The task behind `token` if it is open. The outer error rolls back (nothing happened); the inner one
    /// is an answer to commit: a task already closed, or one past its deadline that the timer loop has not
    /// reached yet — that one times out here and now, so its `Catch` still runs.
    fn still_open(
        m: &Machine<'_>,
        token: &str,
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
        Ok(Ok(task))
    }

    /// Closes the open task behind `token` with `state` (see `still_open` for the two kinds of error).
    fn take_open(
        m: &Machine<'_>,
        token: &str,
        state: &str,
    ) -> Result<Result<TaskRow, EngineError>, EngineError> {
        let task = match Self::still_open(m, token)? {
            Ok(task) => task,
            Err(refusal) => return Ok(Err(refusal)),
        };
        m.repo.close_task(token, state, m.now_ms)?;
        Ok(Ok(task))
    }

    /// `SendTaskSuccess`/`SendTaskFailure`: closes the task with `state` and applies its outcome.
    fn answer(
        &self,
        token: &str,
        state: &str,
        outcome: impl FnOnce(&Machine<'_>, &TaskRow) -> crate::error::Result<()>,
    ) -> Result<TaskInfo, EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let answered = self.step(|m| {
            let task = match Self::take_open(m, token, state)? {
                Ok(task) => task,
                Err(refusal) => return Ok(Err(refusal)),
            };
            outcome(m, &task)?;
            Ok(Ok(task))
        });
        TaskInfo::of(&answered??)
    }
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
        self.answer(token, "succeeded", |m, task| m.on_success(task))
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<TaskInfo, EngineError> {
        self.answer(token, "failed", |m, task| m.on_failure(task, error, cause))
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken);
        }
        let outcome = self.step(|m| {
            let task = match Self::still_open(m, token)? {
                Ok(task) => task,
                Err(refusal) => return Ok(Err(refusal)),
            };
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
        TaskInfo::of(&task.ok_or(EngineError::InvalidToken)?)
    }

    async fn open_task(
        &self,
        order_id: &str,
        kind: TaskKind,
    ) -> Result<Option<TaskInfo>, EngineError> {
        let task = self
            .db
            .write(|repo| Ok::<_, EngineError>(repo.open_task(order_id, kind.as_str())?))?;
        task.as_ref().map(TaskInfo::of).transpose()
    }

    async fn offer_task(&self, offer_id: &str) -> Result<Option<TaskInfo>, EngineError> {
        let task = self
            .db
            .write(|repo| Ok::<_, EngineError>(repo.task_by_offer(offer_id)?))?;
        task.as_ref().map(TaskInfo::of).transpose()
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
