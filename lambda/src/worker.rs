//! `FENCEPOST_MODE=worker`: the Step Functions task queue's consumer as a Lambda function. The SQS event
//! source invokes it with up to 10 messages of the FIFO queue; each is applied by the engine's own
//! per-message step (`StepFunctionsEngine::apply_message`, the one `fencepost serve`'s consumer runs), and
//! the answer lists the messages to redeliver (`ReportBatchItemFailures`).

use std::collections::HashSet;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fencepost_server::server::open_storage;
use fencepost_server::workflow::stepfunctions::engine::{is_unreadable, StepFunctionsEngine};
use fencepost_server::workflow::stepfunctions::{settings_from_env, QueueConsumer};
use fencepost_server::Timing;
use lambda_runtime::{service_fn, LambdaEvent};

use crate::config::{Config, Error};

/// Opens the store and the engine (without a queue consumer: this function is the consumer).
pub fn engine(config: &Config) -> Result<Arc<StepFunctionsEngine>, Error> {
    // The worker needs no admin token: it serves no requests.
    let serve = config.serve_config(String::new());
    let storage = open_storage(&serve)?;
    let engine = StepFunctionsEngine::start(
        storage.db,
        storage.clock,
        storage.feed,
        Timing::default(),
        settings_from_env(&config.db_path, config.aws_endpoint.clone()),
        QueueConsumer::External,
    )?;
    Ok(Arc::new(engine))
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
pub async fn run(engine: Arc<StepFunctionsEngine>) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let engine = engine.clone();
        async move { Ok::<_, std::convert::Infallible>(handle_batch(&engine, event.payload).await) }
    }))
    .await
}
