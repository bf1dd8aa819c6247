//! `--engine stepfunctions`: the order workflow runs as an AWS Step Functions execution of
//! `order.asl.json`. The execution sends every wait's task token over SQS; a background consumer files
//! each one in the store (so the HTTP layer finds tokens exactly as with the embedded engine), and the
//! engine's token calls become `SendTaskSuccess`/`SendTaskFailure`/`SendTaskHeartbeat`. On AWS Lambda
//! the consumer is the worker function instead (`QueueConsumer::External`): it calls `apply_message`, the
//! same per-message step the background consumer runs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::sync::{Notify, OnceCell};

use crate::clock::Clock;
use crate::db::{Db, Repository, TaskRow};
use crate::error::Error;
use crate::feed::Feed;
use crate::workflow::machine::Timing;
use crate::workflow::stepfunctions::aws::{Aws, Settings};
use crate::workflow::stepfunctions::projector::{Followup, Projector, WorkflowMessage};
use crate::workflow::stepfunctions::timing::AslTiming;
use crate::workflow::stepfunctions::QueueConsumer;
use crate::workflow::{run_step, EngineError, TaskInfo, TaskKind, WorkflowEngine};

/// Long-poll wait of one ReceiveMessage (seconds): short, so a stopped server stops polling soon.
const POLL_WAIT_S: i32 = 1;
/// How long `open_task` waits for a token the execution is about to send (the next wait after a
/// successful pickup or offer), so a driver's next call does not race the queue.
const TOKEN_WAIT: Duration = Duration::from_secs(5);
/// With an external consumer the token arrives through the shared database, written by another process,
/// so no in-process signal announces it: `open_task` re-reads the database this often.
const TOKEN_RECHECK: Duration = Duration::from_millis(100);

struct Inner {
    db: Arc<Db>,
    clock: Arc<Clock>,
    feed: Arc<Feed>,
    timing: Timing,
    asl_timing: AslTiming,
    settings: Settings,
    aws: OnceCell<Aws>,
    /// Tokens with a Send* call in flight: a concurrent second use is refused at once.
    claims: Mutex<HashSet<String>>,
    /// Waits the execution will send next, by order (set when a task succeeds, cleared on arrival).
    expected: Mutex<HashMap<String, TaskKind>>,
    arrived: Notify,
    consumer: QueueConsumer,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked (single inserts/removes).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct StepFunctionsEngine {
    inner: Arc<Inner>,
    /// The background queue consumer, when this process runs one.
    consumer: Option<tokio::task::AbortHandle>,
}

impl StepFunctionsEngine {
    /// Creates the engine and, with `QueueConsumer::InProcess`, starts its queue consumer (must be called
    /// inside a tokio runtime). AWS is contacted lazily: the clients and resources are set up on first use.
    pub fn start(
        db: Arc<Db>,
        clock: Arc<Clock>,
        feed: Arc<Feed>,
        timing: Timing,
        settings: Settings,
        consumer: QueueConsumer,
    ) -> Result<Self, Error> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Config("the Step Functions engine needs a tokio runtime".into()))?;
        let asl_timing = AslTiming::from_env(&timing)?;
        let timing = asl_timing.apply_to(&timing);
        let inner = Arc::new(Inner {
            db,
            clock,
            feed,
            timing,
            asl_timing,
            settings,
            aws: OnceCell::new(),
            claims: Mutex::new(HashSet::new()),
            expected: Mutex::new(HashMap::new()),
            arrived: Notify::new(),
            consumer,
        });
        let consumer = (consumer == QueueConsumer::InProcess)
            .then(|| handle.spawn(consume(inner.clone())).abort_handle());
        Ok(Self { inner, consumer })
    }

    /// Applies one task-queue message body: files its token or notification in the store and answers the
    /// waits the middleware decides itself. The background consumer and the worker Lambda both call this.
    /// `Err` means the message must be redelivered (or, if `is_unreadable`, that it never can apply).
    pub async fn apply_message(&self, body: &str) -> Result<(), EngineError> {
        self.inner.handle(body).await
    }
}

/// A message body that is not a workflow message at all: applying it again cannot succeed.
pub fn is_unreadable(e: &EngineError) -> bool {
    matches!(e, EngineError::Storage(Error::Json(_)))
}

impl Drop for StepFunctionsEngine {
    fn drop(&mut self) {
        if let Some(consumer) = &self.consumer {
            consumer.abort();
        }
    }
}

impl Inner {
    async fn aws(&self) -> Result<&Aws, EngineError> {
        self.aws
            .get_or_try_init(|| Aws::connect(&self.settings))
            .await
    }

    fn project<T>(
        &self,
        work: impl FnOnce(&Projector<'_>) -> Result<T, Error>,
    ) -> Result<T, EngineError> {
        run_step(&self.db, &self.clock, &self.feed, |repo, now_ms| {
            work(&Projector {
                repo,
                now_ms,
                timing: &self.timing,
            })
            .map_err(EngineError::from)
        })
    }

    fn task(&self, token: &str) -> Result<Option<TaskRow>, EngineError> {
        self.db
            .write(|repo| Ok::<_, EngineError>(repo.task(token)?))
    }

    /// The token's task, if it is one we were given and it is still open. Unknown tokens never reach AWS.
    /// A closed one is refused here: moto accepts a reused token silently while the execution runs, and
    /// asking AWS would cost a call for an answer we already know.
    fn open_task_for(&self, token: &str) -> Result<TaskRow, EngineError> {
        let task = self.task(token)?.ok_or(EngineError::InvalidToken)?;
        if task.state != "open" {
            return Err(EngineError::TaskTimedOut);
        }
        Ok(task)
    }

    fn claim(&self, token: &str) -> Result<Claim<'_>, EngineError> {
        if !lock(&self.claims).insert(token.to_string()) {
            return Err(EngineError::TaskTimedOut);
        }
        Ok(Claim {
            inner: self,
            token: token.to_string(),
        })
    }

    /// Applies one queue message and answers the execution when the message asks for it. AWS is only
    /// contacted when there is an answer to send.
    async fn handle(&self, body: &str) -> Result<(), EngineError> {
        let msg: WorkflowMessage = serde_json::from_str(body).map_err(Error::from)?;
        let followup = self.project(|p| p.on_message(&msg))?;
        if let Some(k) = TaskKind::parse(&msg.kind) {
            let mut expected = lock(&self.expected);
            if expected.get(&msg.order_id) == Some(&k) {
                expected.remove(&msg.order_id);
            }
        }
        self.arrived.notify_waiters();
        let sent = match followup {
            Followup::Nothing => Ok(()),
            Followup::Succeed { token, output } => {
                self.aws()
                    .await?
                    .send_task_success(&token, &output.to_string())
                    .await
            }
            Followup::Fail {
                token,
                error,
                cause,
            } => {
                self.aws()
                    .await?
                    .send_task_failure(&token, error, &cause)
                    .await
            }
        };
        match sent {
            // A redelivered message answers a wait that was already answered.
            Err(EngineError::TaskTimedOut | EngineError::InvalidToken) => Ok(()),
            other => other,
        }
    }
}

/// Releases a token claim when the call that held it ends, however it ends.
struct Claim<'a> {
    inner: &'a Inner,
    token: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        lock(&self.inner.claims).remove(&self.token);
    }
}

/// Polls the task queue for the life of the engine. Messages that fail to apply are left on the queue (it
/// redelivers them after its visibility timeout); unreadable ones are dropped with an error log.
async fn consume(inner: Arc<Inner>) {
    let aws = loop {
        match inner.aws().await {
            Ok(aws) => break aws,
            Err(e) => {
                tracing::error!(error = %e, "Step Functions engine cannot reach AWS; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    loop {
        let batch = match aws.receive(POLL_WAIT_S).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e, "task queue poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut done = Vec::with_capacity(batch.len());
        for (receipt, body) in batch {
            match inner.handle(&body).await {
                Ok(()) => done.push(receipt),
                // This queue has no dead-letter queue when the server provisions it: keeping an unreadable
                // message would only redeliver it forever.
                Err(e) if is_unreadable(&e) => {
                    tracing::error!(error = %e, "unreadable workflow message dropped");
                    done.push(receipt);
                }
                Err(e) => {
                    tracing::error!(error = %e, "workflow message not applied; SQS will redeliver it")
                }
            }
        }
        if let Err(e) = aws.delete(&done).await {
            tracing::error!(error = %e, "deleting handled messages failed; they will be applied again (harmless)");
        }
    }
}

/// Step Functions' `InvalidToken` for a token it gave us means the task is gone (moto answers so once the
/// execution has ended): to the caller that is a closed task.
fn closed(e: EngineError) -> EngineError {
    match e {
        EngineError::InvalidToken => EngineError::TaskTimedOut,
        other => other,
    }
}

#[async_trait]
impl WorkflowEngine for StepFunctionsEngine {
    async fn start_execution(&self, order_id: &str) -> Result<(), EngineError> {
        let inner = &self.inner;
        let refused = inner.project(|p| p.pos_check(order_id))?;
        let input = json!({
            "orderId": order_id,
            "pos": {"open": refused.is_none(), "reason": refused},
            "timing": inner.asl_timing.to_input(),
        });
        let started = match inner.aws().await {
            Ok(aws) => aws.start_execution(order_id, &input.to_string()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            inner.project(|p| p.start_failed(order_id))?;
            return Err(e);
        }
        Ok(())
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<TaskInfo, EngineError> {
        let inner = &self.inner;
        let task = inner.open_task_for(token)?;
        let _claim = inner.claim(token)?;
        let kind = TaskKind::parse(&task.kind);
        let output = match kind {
            // Dispatch starts now: the execution carries its deadline (see OfferToDriver).
            Some(TaskKind::StoreDecision) => {
                let mut out = inner.project(|p| Ok(p.dispatch_deadline()))?;
                if let (Some(o), Some(extra)) = (out.as_object_mut(), output.as_object()) {
                    o.extend(extra.clone());
                }
                out
            }
            _ => output,
        };
        // Expect the next wait's token before resuming the execution, so its message cannot arrive first.
        let next = match kind {
            Some(TaskKind::Offer) => Some(TaskKind::Pickup),
            Some(TaskKind::Pickup) => Some(TaskKind::Delivery),
            _ => None,
        };
        if let Some(next) = next {
            lock(&inner.expected).insert(task.order_id.clone(), next);
        }
        let sent = match inner.aws().await {
            Ok(aws) => aws
                .send_task_success(token, &output.to_string())
                .await
                .map_err(closed),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            if next.is_some() {
                lock(&inner.expected).remove(&task.order_id);
            }
            if matches!(e, EngineError::TaskTimedOut) {
                inner.project(|p| p.on_refused(&task))?;
            }
            return Err(e);
        }
        inner.project(|p| p.on_success(&task))?;
        TaskInfo::of(&TaskRow {
            state: "succeeded".into(),
            ..task
        })
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<TaskInfo, EngineError> {
        let inner = &self.inner;
        let task = inner.open_task_for(token)?;
        let _claim = inner.claim(token)?;
        match inner
            .aws()
            .await?
            .send_task_failure(token, error, cause)
            .await
            .map_err(closed)
        {
            Ok(()) => {}
            Err(EngineError::TaskTimedOut) => {
                inner.project(|p| p.on_refused(&task))?;
                return Err(EngineError::TaskTimedOut);
            }
            Err(e) => return Err(e),
        }
        inner.project(|p| p.on_failure(&task, cause))?;
        TaskInfo::of(&TaskRow {
            state: "failed".into(),
            ..task
        })
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        let inner = &self.inner;
        let task = inner.open_task_for(token)?;
        let now_ms = inner.clock.now_ms();
        // Location reports come every few seconds; Step Functions only needs one per heartbeat period.
        // Skipping those within the first third of the period saves most SendTaskHeartbeat calls while
        // leaving two thirds of it for the next report to get through.
        if let (Some(seconds), Some(due)) = (task.heartbeat_seconds, task.heartbeat_due_at_ms) {
            if due - now_ms > seconds * 1000 * 2 / 3 {
                return Ok(());
            }
        }
        match inner
            .aws()
            .await?
            .send_task_heartbeat(token)
            .await
            .map_err(closed)
        {
            Ok(()) => {}
            Err(EngineError::TaskTimedOut) => {
                inner.project(|p| p.on_refused(&task))?;
                return Err(EngineError::TaskTimedOut);
            }
            Err(e) => return Err(e),
        }
        if let Some(seconds) = task.heartbeat_seconds {
            inner
                .db
                .write(|repo| repo.set_heartbeat_due(token, now_ms + seconds * 1000))?;
        }
        Ok(())
    }

    async fn describe_task(&self, token: &str) -> Result<TaskInfo, EngineError> {
        TaskInfo::of(&self.inner.task(token)?.ok_or(EngineError::InvalidToken)?)
    }

    async fn open_task(
        &self,
        order_id: &str,
        kind: TaskKind,
    ) -> Result<Option<TaskInfo>, EngineError> {
        let inner = &self.inner;
        let deadline = tokio::time::Instant::now() + TOKEN_WAIT;
        loop {
            let arrived = inner.arrived.notified();
            let task = inner
                .db
                .write(|repo| Ok::<_, EngineError>(repo.open_task(order_id, kind.as_str())?))?;
            let waiting = {
                let mut expected = lock(&inner.expected);
                let waiting = expected.get(order_id) == Some(&kind);
                // An external consumer cannot clear the expectation: whoever sees the token does.
                if waiting && task.is_some() {
                    expected.remove(order_id);
                }
                waiting
            };
            if task.is_some() || !waiting {
                return task.as_ref().map(TaskInfo::of).transpose();
            }
            // The execution has moved on and its next token is on the queue: wait for the consumer.
            let until = match inner.consumer {
                QueueConsumer::InProcess => deadline,
                QueueConsumer::External => {
                    deadline.min(tokio::time::Instant::now() + TOKEN_RECHECK)
                }
            };
            let signalled = tokio::time::timeout_at(until, arrived).await.is_ok();
            if !signalled && tokio::time::Instant::now() >= deadline {
                lock(&inner.expected).remove(order_id);
                return Ok(None);
            }
        }
    }

    async fn offer_task(&self, offer_id: &str) -> Result<Option<TaskInfo>, EngineError> {
        let task = self
            .inner
            .db
            .write(|repo| Ok::<_, EngineError>(repo.task_by_offer(offer_id)?))?;
        task.as_ref().map(TaskInfo::of).transpose()
    }

    /// Timers and task timeouts run in Step Functions.
    async fn run_due(&self) -> Result<usize, EngineError> {
        Ok(0)
    }
}
