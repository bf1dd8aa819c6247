//! The AWS side of the Step Functions engine: SDK clients (with an endpoint override and dummy credentials
//! for a local emulator, normal credential loading otherwise), provisioning of the queue and state machine
//! for local runs, the calls the engine makes, their error mapping, and a count of every call made (the
//! figure that prices a delivered order).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::StateMachineType;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};

use crate::workflow::stepfunctions::definition;
use crate::workflow::EngineError;

/// Where the engine finds (or, against a local emulator, creates) its state machine and task queue.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--aws-endpoint`: a local emulator (moto). Dummy credentials; resources are created on first use.
    pub endpoint: Option<String>,
    pub region: String,
    /// `FENCEPOST_STATE_MACHINE_ARN` / `FENCEPOST_TASK_QUEUE_URL`: deployed resources (the SAM template's
    /// outputs). Required without an endpoint; with one they override provisioning.
    pub state_machine_arn: Option<String>,
    pub queue_url: Option<String>,
    /// Name prefix of provisioned resources: one queue and machine per server database, so several servers
    /// can share one emulator without reading each other's messages.
    pub name_prefix: String,
}

/// The resources in use, once provisioned or looked up.
#[derive(Debug, Clone)]
pub struct Resources {
    pub state_machine_arn: String,
    pub queue_url: String,
}

/// Step Functions and SQS API calls made by this process, by operation.
static CALLS: [AtomicU64; 12] = [const { AtomicU64::new(0) }; 12];
const OPS: [&str; 12] = [
    "StartExecution",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "ReceiveMessage",
    "DeleteMessageBatch",
    "CreateQueue",
    "CreateStateMachine",
    "UpdateStateMachine",
    "ListStateMachines",
    "DescribeExecution",
    // Not ours: the state machine's own SQS SendMessage calls, counted as their messages arrive.
    "SendMessage (by the state machine)",
];

fn count(op: &str) {
    if let Some(i) = OPS.iter().position(|o| *o == op) {
        CALLS[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Calls made so far in this process, by operation (for the bench's calls-per-order figure).
pub fn api_calls() -> BTreeMap<&'static str, u64> {
    OPS.iter()
        .zip(CALLS.iter())
        .map(|(op, n)| (*op, n.load(Ordering::Relaxed)))
        .collect()
}

/// Maps a token call's error: `InvalidToken` and closed tasks keep their Step Functions meaning; anything
/// else is the engine being unavailable. Only the error code is kept: AWS messages can echo the token.
fn token_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    op: &str,
    err: aws_sdk_sfn::error::SdkError<E>,
) -> EngineError {
    match err.code() {
        Some("InvalidToken") => EngineError::InvalidToken,
        // moto reports a token whose wait already ended in another way as TaskDoesNotExist.
        Some("TaskTimedOut" | "TaskDoesNotExist") => EngineError::TaskTimedOut,
        Some(code) => EngineError::Unavailable(format!("{op}: {code}")),
        None => EngineError::Unavailable(format!(
            "{op}: {}",
            aws_sdk_sfn::error::DisplayErrorContext(&err)
        )),
    }
}

fn other_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    op: &str,
    err: aws_sdk_sfn::error::SdkError<E>,
) -> EngineError {
    EngineError::Unavailable(format!(
        "{op}: {}",
        aws_sdk_sfn::error::DisplayErrorContext(&err)
    ))
}

/// The SDK configuration every client of this process shares: normal credential loading on AWS; with an
/// emulator endpoint, that endpoint and dummy credentials.
pub async fn sdk_config(endpoint: Option<&str>, region: &str) -> aws_config::SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
    if let Some(endpoint) = endpoint {
        // A local emulator accepts any credentials; never send real ones to it.
        let dummy =
            aws_sdk_sfn::config::Credentials::new("test", "test", None, None, "fencepost-local");
        loader = loader.endpoint_url(endpoint).credentials_provider(dummy);
    }
    loader.load().await
}

pub struct Aws {
    pub sfn: aws_sdk_sfn::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub resources: Resources,
}

impl Aws {
    /// Builds the clients and finds or provisions the resources.
    pub async fn connect(settings: &Settings) -> Result<Self, EngineError> {
        let config = sdk_config(settings.endpoint.as_deref(), &settings.region).await;
        let sfn = aws_sdk_sfn::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let resources = match (&settings.state_machine_arn, &settings.queue_url, &settings.endpoint) {
            (Some(arn), Some(url), _) => Resources { state_machine_arn: arn.clone(), queue_url: url.clone() },
            (_, _, Some(_)) => provision(&sfn, &sqs, &settings.name_prefix).await?,
            _ => {
                return Err(EngineError::Unavailable(
                    "set FENCEPOST_STATE_MACHINE_ARN and FENCEPOST_TASK_QUEUE_URL (the deploy template's outputs), \
                     or give --aws-endpoint for a local emulator"
                        .into(),
                ))
            }
        };
        Ok(Self {
            sfn,
            sqs,
            resources,
        })
    }

    /// `StartExecution` named by the order id. A retried start of the same order is idempotent: Step
    /// Functions returns the running execution for the same name and input, and `ExecutionAlreadyExists`
    /// (input differs, e.g. a later POS verdict) also means it was started.
    pub async fn start_execution(&self, order_id: &str, input: &str) -> Result<(), EngineError> {
        count("StartExecution");
        let out = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.resources.state_machine_arn)
            .name(order_id)
            .input(input)
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ExecutionAlreadyExists") => Ok(()),
            Err(e) => Err(other_error("StartExecution", e)),
        }
    }

    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), EngineError> {
        count("SendTaskSuccess");
        self.sfn
            .send_task_success()
            .task_token(token)
            .output(output)
            .send()
            .await
            .map_err(|e| token_error("SendTaskSuccess", e))?;
        Ok(())
    }

    pub async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), EngineError> {
        count("SendTaskFailure");
        self.sfn
            .send_task_failure()
            .task_token(token)
            .error(error)
            .cause(cause)
            .send()
            .await
            .map_err(|e| token_error("SendTaskFailure", e))?;
        Ok(())
    }

    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        count("SendTaskHeartbeat");
        self.sfn
            .send_task_heartbeat()
            .task_token(token)
            .send()
            .await
            .map_err(|e| token_error("SendTaskHeartbeat", e))?;
        Ok(())
    }

    /// One long poll of the task queue: up to 10 messages as (receipt handle, body).
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<(String, String)>, EngineError> {
        count("ReceiveMessage");
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.resources.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(|e| {
                EngineError::Unavailable(format!(
                    "ReceiveMessage: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                ))
            })?;
        for _ in out.messages() {
            count("SendMessage (by the state machine)");
        }
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| Some((m.receipt_handle()?.to_string(), m.body()?.to_string())))
            .collect())
    }

    /// Deletes handled messages in one call.
    pub async fn delete(&self, receipts: &[String]) -> Result<(), EngineError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let mut batch = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.resources.queue_url);
        for (i, receipt) in receipts.iter().enumerate() {
            let entry = DeleteMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .receipt_handle(receipt)
                .build()
                .map_err(|e| EngineError::Unavailable(format!("DeleteMessageBatch entry: {e}")))?;
            batch = batch.entries(entry);
        }
        count("DeleteMessageBatch");
        batch.send().await.map_err(|e| {
            EngineError::Unavailable(format!(
                "DeleteMessageBatch: {}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            ))
        })?;
        Ok(())
    }
}

/// Creates (or finds) the FIFO task queue and the state machine on a local emulator, and brings the
/// machine's definition up to date with this build's.
async fn provision(
    sfn: &aws_sdk_sfn::Client,
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
) -> Result<Resources, EngineError> {
    count("CreateQueue");
    let queue = sqs
        .create_queue()
        .queue_name(format!("{prefix}-tasks.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        // Every message body carries the state's entry time, so content-based de-duplication only drops
        // true duplicates.
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .map_err(|e| {
            EngineError::Unavailable(format!(
                "CreateQueue: {}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            ))
        })?;
    let queue_url = queue
        .queue_url()
        .ok_or_else(|| EngineError::Unavailable("CreateQueue returned no queue URL".into()))?
        .to_string();
    let definition = definition::render(&queue_url);
    let name = format!("{prefix}-order");
    count("ListStateMachines");
    let existing = sfn
        .list_state_machines()
        .send()
        .await
        .map_err(|e| other_error("ListStateMachines", e))?;
    let found = existing
        .state_machines()
        .iter()
        .find(|m| m.name() == name)
        .map(|m| m.state_machine_arn().to_string());
    let state_machine_arn = match found {
        Some(arn) => {
            count("UpdateStateMachine");
            sfn.update_state_machine()
                .state_machine_arn(&arn)
                .definition(&definition)
                .send()
                .await
                .map_err(|e| other_error("UpdateStateMachine", e))?;
            arn
        }
        None => {
            count("CreateStateMachine");
            let created = sfn
                .create_state_machine()
                .name(&name)
                .definition(&definition)
                // The emulator does not check roles; a deployment gets its role from the template.
                .role_arn("arn:aws:iam::123456789012:role/fencepost-local")
                .r#type(StateMachineType::Standard)
                .send()
                .await
                .map_err(|e| other_error("CreateStateMachine", e))?;
            created.state_machine_arn().to_string()
        }
    };
    Ok(Resources {
        state_machine_arn,
        queue_url,
    })
}
