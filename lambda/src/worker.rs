//! `FENCEPOST_MODE=worker`: the Step Functions task queue's consumer as a Lambda function. The SQS event
//! source invokes it with up to 10 messages of the FIFO queue; each is applied by the engine's own
//! per-message step (`StepFunctionsEngine::apply_message`, the one `fencepost serve`'s consumer runs), and
//! the answer lists the messages to redeliver (`ReportBatchItemFailures`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fencepost_server::clock::Clock;
use fencepost_server::db::Db;
use fencepost_server::http::idempotency::purge_if_due;
use fencepost_server::server::open_storage;
use fencepost_server::workflow::stepfunctions::engine::{is_unreadable, StepFunctionsEngine};
use fencepost_server::workflow::stepfunctions::{settings_from_env, QueueConsumer};
use fencepost_server::Timing;
use lambda_runtime::{service_fn, LambdaEvent};

use crate::config::{Config, Error};

/// The worker function's state: the engine it feeds, and the store's day-old idempotency answers to purge
/// (no timer loop runs on Lambda, so the worker, which runs whenever orders move, does it).
pub struct Worker {
    pub engine: Arc<StepFunctionsEngine>,
    db: Arc<Db>,
    clock: Arc<Clock>,
    /// When this instance last asked whether a purge is due (the answer is shared through the store).
    last_purge_check: Mutex<Option<Instant>>,
}

/// How often one instance asks the store whether a purge is due.
const PURGE_CHECK_EVERY: Duration = Duration::from_secs(600);

impl Worker {
    /// Opens the store and the engine (without a queue consumer: this function is the consumer).
    pub fn open(config: &Config) -> Result<Self, Error> {
        // The worker needs no admin token: it serves no requests.
        let serve = config.serve_config(String::new());
        let storage = open_storage(&serve)?;
        let engine = StepFunctionsEngine::start(
            storage.db.clone(),
            storage.clock.clone(),
            storage.feed,
            Timing::default(),
            settings_from_env(&config.db_path, config.aws_endpoint.clone()),
            QueueConsumer::External,
        )?;
        Ok(Self {
            engine: Arc::new(engine),
            db: storage.db,
            clock: storage.clock,
            last_purge_check: Mutex::new(None),
        })
    }

    /// Purges day-old idempotency answers when due; a failure is logged and retried on a later batch.
    fn purge_if_due(&self) {
        {
            let mut last = self
                .last_purge_check
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < PURGE_CHECK_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        match purge_if_due(&self.db, self.clock.now_ms()) {
            Ok(Some(purged)) => tracing::info!(purged, "day-old idempotency answers purged"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "idempotency purge failed"),
        }
    }
}

/// Opens the store and the engine (without a queue consumer: this function is the consumer).
pub fn engine(config: &Config) -> Result<Arc<StepFunctionsEngine>, Error> {
    Ok(Worker::open(config)?.engine)
}

/// Applies one batch in order and returns the messages to redeliver.
///
/// FIFO order per order (message group): once a message of a group fails, every later message of that
/// group in the batch is reported failed too, unapplied, so the group is redelivered from the failure on.
///
/// A malformed body (not a workflow message) is reported failed, not dropped: the queue's redrive policy
/// moves it to the dead-letter queue after 5 receives, where an operator can read what the state machine
/// sent. Dropping it would lose that evidence, and the order it belongs to cannot progress anyway. (The
/// in-process consumer of `fencepost serve` drops such messages because the queue it provisions locally has
/// no dead-letter queue.) Only the message id and the parse error are logged, never the body.
pub async fn handle_batch(engine: &StepFunctionsEngine, event: SqsEvent) -> SqsBatchResponse {
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record.attributes.get("MessageGroupId").cloned();
        let blocked = group.as_ref().is_some_and(|g| failed_groups.contains(g));
        let failed = if blocked {
            tracing::warn!(message_id = %id, "held back: an earlier message of its group failed");
            true
        } else {
            match record.body.as_deref() {
                None => {
                    tracing::error!(message_id = %id, "workflow message without a body");
                    true
                }
                Some(body) => match engine.apply_message(body).await {
                    Ok(()) => false,
                    Err(e) if is_unreadable(&e) => {
                        tracing::error!(message_id = %id, error = %e, "unreadable workflow message: left for the dead-letter queue");
                        true
                    }
                    Err(e) => {
                        tracing::error!(message_id = %id, error = %e, "workflow message not applied: SQS will redeliver it");
                        true
                    }
                },
            }
        };
        if failed {
            if let Some(g) = group {
                failed_groups.insert(g);
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Serves invocations until the runtime stops.
pub async fn run(worker: Arc<Worker>) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            let response = handle_batch(&worker.engine, event.payload).await;
            worker.purge_if_due();
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}
