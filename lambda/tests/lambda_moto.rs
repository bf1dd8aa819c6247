//! End to end: the REAL `bootstrap` binary, twice — `FENCEPOST_MODE=api` and `FENCEPOST_MODE=worker` —
//! sharing one SQLite file on disk (as both functions share the EFS mount), each polling a fake Lambda
//! Runtime API this test serves, against moto (Step Functions with execution on, SQS, Secrets Manager).
//! The test plays API Gateway (every HTTP call is an HTTP API v2 event to the api function) and the SQS
//! event source mapping (receives from the task queue, invokes the worker with the batch, deletes what the
//! worker did not report failed), and provisions what deploy/template.yaml would: the state machine and
//! FIFO queue (through the server's own provisioning), and the admin token secret.
//!
//! Needs `FENCEPOST_AWS_ENDPOINT` (a moto server with `execute_state_machine` on): scripts/ci/21-lambda.sh.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use common::*;
use fencepost_server::workflow::stepfunctions::aws::{sdk_config, Aws, Settings};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

/// The store every order of the test is placed at.
const STORE_ID: &str = "lambda-store";
/// How long one invocation may take before the test gives up on it (the template's function timeout).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(29);
/// How long the test waits for the workflow to reach a state.
const STATE_WAIT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------------------------------------------
// A fake Lambda Runtime API: the endpoints a custom runtime polls and answers.

type Outcome = Result<Value, Value>;

struct Runtime {
    queue: tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>,
    submit: mpsc::Sender<(String, Value)>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
    counter: AtomicU64,
    function: String,
}

async fn next(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    let mut queue = rt.queue.lock().await;
    let Some((id, payload)) = queue.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let deadline = std::time::SystemTime::now() + INVOKE_TIMEOUT;
    let deadline_ms = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", id);
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            rt.function
        ),
    );
    put(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    put("content-type", "application/json".into());
    (StatusCode::OK, headers, payload.to_string())
}

fn answer(rt: &Runtime, id: &str, outcome: Outcome) -> StatusCode {
    match rt.pending.lock().ok().and_then(|mut p| p.remove(id)) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(rt): State<Arc<Runtime>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    answer(
        &rt,
        &id,
        Ok(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    )
}

async fn error(
    State(rt): State<Arc<Runtime>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    answer(
        &rt,
        &id,
        Err(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    )
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: String) -> StatusCode {
    if let Ok(mut slot) = rt.init_error.lock() {
        *slot = Some(serde_json::from_str(&body).unwrap_or(Value::String(body)));
    }
    StatusCode::ACCEPTED
}

/// One function: its fake Runtime API and the `bootstrap` process polling it.
struct Function {
    runtime: Arc<Runtime>,
    child: Child,
    log: std::path::PathBuf,
}

impl Function {
    async fn start(name: &str, dir: &Path, env: &[(&str, String)]) -> Self {
        let (submit, queue) = mpsc::channel(16);
        let runtime = Arc::new(Runtime {
            queue: tokio::sync::Mutex::new(queue),
            submit,
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            counter: AtomicU64::new(0),
            function: name.to_string(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime API");
        let addr: SocketAddr = listener.local_addr().expect("runtime API address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let log = dir.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start bootstrap");
        Self {
            runtime,
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One invocation, as the Lambda service makes it: queue the event, wait for the runtime's answer.
    async fn invoke(&self, payload: Value) -> Outcome {
        let id = format!(
            "req-{}",
            self.runtime.counter.fetch_add(1, Ordering::SeqCst)
        );
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.runtime.pending.lock() {
            p.insert(id.clone(), tx);
        }
        self.runtime
            .submit
            .send((id, payload))
            .await
            .expect("the runtime API is up");
        match tokio::time::timeout(INVOKE_TIMEOUT, rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "{}: no answer within {INVOKE_TIMEOUT:?} (init error: {:?})\n--- log ---\n{}",
                self.runtime.function,
                self.runtime.init_error.lock().ok().and_then(|e| e.clone()),
                self.log()
            ),
        }
    }

    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------------------------
// API Gateway: HTTP calls as v2 events to the api function.

struct Gateway {
    api: Function,
    requests: AtomicU64,
}

struct Resp {
    status: u16,
    body: Value,
    text: String,
}

impl Gateway {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let event = api_event(method, path, token, body.as_ref(), &format!("gw-{n}"));
        let out = match self.api.invoke(event).await {
            Ok(out) => out,
            Err(e) => panic!(
                "{method} {path}: the function failed: {e}\n--- log ---\n{}",
                self.api.log()
            ),
        };
        let status = out["statusCode"].as_u64().unwrap_or(0) as u16;
        let text = out["body"].as_str().unwrap_or_default().to_string();
        assert_ne!(
            out["isBase64Encoded"], true,
            "{method} {path}: a JSON API answered in base64: {out}"
        );
        Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call("GET", path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call("POST", path, token, Some(body)).await
    }

    /// Polls the order's customer view until `pred` holds (bounded).
    async fn wait_order(
        &self,
        customer: &str,
        order_id: &str,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + STATE_WAIT;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            let r = self
                .get(&format!("/order/{order_id}?party=customer"), Some(customer))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            last = r.body["order"].clone();
            if pred(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "order never became {what}: last view {last}\n--- api log ---\n{}",
            self.api.log()
        );
    }

    /// Reads the store's feed (bounded answers, resumed with `after`) until the order's decision token.
    async fn decision_token(&self, store: &str, order_id: &str) -> String {
        let deadline = Instant::now() + STATE_WAIT;
        let mut after = 0;
        while Instant::now() < deadline {
            let r = self
                .get(&format!("/store/events?after={after}"), Some(store))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            for line in r.text.lines() {
                if let Some(id) = line.strip_prefix("id:") {
                    after = after.max(id.trim().parse().unwrap_or(0));
                }
            }
            for (name, data) in sse_events(&r.text) {
                if name == "order_placed" && data["orderId"] == order_id {
                    return data["taskToken"].as_str().unwrap_or_default().to_string();
                }
            }
        }
        panic!(
            "no order_placed for {order_id}\n--- api log ---\n{}",
            self.api.log()
        );
    }

    /// Places an order at `STORE_ID` and returns its id and the decision token the store's feed carries.
    async fn place_order(&self, customer: &str, store: &str) -> (String, String) {
        let r = self
            .post("/order", Some(customer), order_body(STORE_ID))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["order"]["status"], "initiated");
        let order_id = r.body["order"]["orderId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let token = self.decision_token(store, &order_id).await;
        (order_id, token)
    }

    /// The store's decision on an order.
    async fn decide(&self, store: &str, order_id: &str, token: &str, accepted: bool) -> Resp {
        let mut body = json!({"orderId": order_id, "storeId": STORE_ID, "accepted": accepted, "taskToken": token});
        if !accepted {
            body["declinedReason"] = json!("no_capacity");
        }
        self.post("/order/decision", Some(store), body).await
    }

    async fn wait_offer(&self, driver: &str, order_id: &str) -> String {
        let deadline = Instant::now() + STATE_WAIT;
        while Instant::now() < deadline {
            let r = self.get("/driver/offers", Some(driver)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if let Some(offer) = r.body["offers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["orderId"] == order_id)
            {
                return offer["offerId"].as_str().unwrap_or_default().to_string();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "no offer for {order_id}\n--- api log ---\n{}",
            self.api.log()
        );
    }
}

// ------------------------------------------------------------------------------------------------------
// The SQS event source mapping: task queue → worker function, batches of 10, ReportBatchItemFailures.

struct EventSource {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Result<u64, String>>,
}

impl EventSource {
    fn start(worker: Arc<Function>, aws: Arc<Aws>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut delivered = 0;
            while !flag.load(Ordering::SeqCst) {
                let received = aws
                    .sqs
                    .receive_message()
                    .queue_url(&aws.resources.queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "ReceiveMessage: {}",
                            aws_sdk_sqs::error::DisplayErrorContext(&e)
                        )
                    })?;
                let messages = received.messages();
                if messages.is_empty() {
                    continue;
                }
                let records = messages
                    .iter()
                    .map(|m| {
                        let group = m
                            .attributes()
                            .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                            .cloned()
                            .unwrap_or_default();
                        sqs_record(
                            m.message_id().unwrap_or_default(),
                            &group,
                            m.body().unwrap_or_default(),
                        )
                    })
                    .collect();
                let out = worker
                    .invoke(sqs_event(records))
                    .await
                    .map_err(|e| format!("worker failed: {e}"))?;
                let failed: Vec<&str> = out["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str())
                    .collect();
                let mut delete = aws
                    .sqs
                    .delete_message_batch()
                    .queue_url(&aws.resources.queue_url);
                let mut any = false;
                for (i, m) in messages.iter().enumerate() {
                    if failed.contains(&m.message_id().unwrap_or_default()) {
                        continue;
                    }
                    let entry = DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{i}"))
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .map_err(|e| e.to_string())?;
                    delete = delete.entries(entry);
                    any = true;
                    delivered += 1;
                }
                if any {
                    delete.send().await.map_err(|e| {
                        format!(
                            "DeleteMessageBatch: {}",
                            aws_sdk_sqs::error::DisplayErrorContext(&e)
                        )
                    })?;
                }
            }
            Ok(delivered)
        });
        Self { stop, task }
    }

    /// Stops polling; returns how many messages the worker applied.
    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        match tokio::time::timeout(Duration::from_secs(35), self.task).await {
            Ok(Ok(Ok(n))) => n,
            Ok(Ok(Err(e))) => panic!("event source mapping: {e}"),
            other => panic!("event source mapping did not stop: {other:?}"),
        }
    }
}

// ------------------------------------------------------------------------------------------------------

fn endpoint() -> String {
    std::env::var("FENCEPOST_AWS_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("FENCEPOST_AWS_ENDPOINT must name a moto server with Step Functions execution on (scripts/ci/21-lambda.sh starts one)")
}

/// What the deploy template provisions: state machine + FIFO queue (the server's own provisioning, under a
/// name unique to this test run) and the admin token secret.
async fn provision(endpoint: &str, prefix: &str) -> (Aws, String) {
    let settings = Settings {
        endpoint: Some(endpoint.to_string()),
        region: "us-east-1".into(),
        state_machine_arn: None,
        queue_url: None,
        name_prefix: prefix.to_string(),
    };
    let aws = Aws::connect(&settings)
        .await
        .expect("state machine and queue on moto");
    let sdk = sdk_config(Some(endpoint), "us-east-1").await;
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(format!("{prefix}-admin-token"))
        .secret_string(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin token secret on moto");
    (aws, secret.arn().unwrap_or_default().to_string())
}

async fn execution_status(aws: &Aws, order_id: &str) -> (String, Value) {
    let arn = format!(
        "{}:{order_id}",
        aws.resources
            .state_machine_arn
            .replacen(":stateMachine:", ":execution:", 1)
    );
    let out = aws
        .sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("DescribeExecution");
    let output = out
        .output()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null);
    (out.status().as_str().to_string(), output)
}

async fn wait_execution(aws: &Aws, order_id: &str) -> Value {
    let deadline = Instant::now() + STATE_WAIT;
    let mut last = String::new();
    while Instant::now() < deadline {
        let (status, output) = execution_status(aws, order_id).await;
        if status == "SUCCEEDED" {
            return output;
        }
        assert_eq!(
            status, "RUNNING",
            "execution of {order_id} ended as {status}"
        );
        last = status;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("execution of {order_id} still {last} after {STATE_WAIT:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bootstrap_binaries_run_the_order_workflow_on_moto() {
    let endpoint = endpoint();
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = format!(
        "lambda-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let (aws, secret_arn) = provision(&endpoint, &prefix).await;
    let aws = Arc::new(aws);
    // The template's environment: the same for both functions but the mode.
    let shared = |mode: &str| {
        vec![
            ("FENCEPOST_MODE", mode.to_string()),
            (
                "FENCEPOST_DB",
                dir.path().join("fencepost.db").display().to_string(),
            ),
            ("FENCEPOST_AWS_ENDPOINT", endpoint.clone()),
            (
                "FENCEPOST_STATE_MACHINE_ARN",
                aws.resources.state_machine_arn.clone(),
            ),
            ("FENCEPOST_TASK_QUEUE_URL", aws.resources.queue_url.clone()),
            ("FENCEPOST_ADMIN_TOKEN_SECRET_ARN", secret_arn.clone()),
            ("FENCEPOST_FEED_WAIT_S", "5".into()),
        ]
    };
    let gw = Gateway {
        api: Function::start("ApiFunction", dir.path(), &shared("api")).await,
        requests: AtomicU64::new(0),
    };
    let worker = Arc::new(Function::start("WorkerFunction", dir.path(), &shared("worker")).await);
    let source = EventSource::start(worker.clone(), aws.clone());

    // The admin token came from Secrets Manager: the admin calls work with it.
    let admin = ADMIN_TOKEN;
    let r = gw
        .post("/admin/stores", Some(admin), store_body(STORE_ID))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let store = r.body["token"].as_str().unwrap_or_default().to_string();
    let r = gw.post("/admin/customers", Some(admin), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let customer = r.body["token"].as_str().unwrap_or_default().to_string();
    let r = gw
        .post(
            "/admin/drivers",
            Some(admin),
            json!({"name": "lambda driver"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let driver = r.body["token"].as_str().unwrap_or_default().to_string();
    let r = gw
        .post(
            "/driver/locations",
            Some(&driver),
            location(STORE_LAT + 300.0 / 111_000.0, STORE_LON),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // --- full lifecycle ---
    let (order_id, token) = gw.place_order(&customer, &store).await;
    let r = gw.decide(&store, &order_id, &token, true).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A reused token and a forged one: the documented errors, through the Lambda path.
    let r = gw.decide(&store, &order_id, &token, true).await;
    let code = (r.status, r.body["code"].as_str());
    assert_eq!(code, (409, Some("task_timed_out")), "{}", r.text);
    let r = gw
        .decide(&store, &order_id, "forged-token-0123456789", true)
        .await;
    let code = (r.status, r.body["code"].as_str());
    assert_eq!(code, (400, Some("invalid_token")), "{}", r.text);

    let offer_id = gw.wait_offer(&driver, &order_id).await;
    let r = gw
        .post(
            &format!("/driver/offers/{offer_id}/accept"),
            Some(&driver),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    gw.wait_order(&customer, &order_id, "driver_assigned", |o| {
        o["status"] == "driver_assigned"
    })
    .await;
    let r = gw
        .post(
            "/order/arrival",
            Some(&driver),
            json!({"orderId": order_id, "event": "arrived_at_store", "time": chrono_now()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = gw
        .get(&format!("/order/{order_id}/pickup-code"), Some(&store))
        .await;
    assert_eq!(code.status, 200, "{}", code.text);
    // The pickup task's token reaches the api function only through the shared database (the worker
    // filed it): the api's short wait for it re-reads the store.
    let r = gw
        .post("/order/pickup", Some(&driver), json!({"orderId": order_id, "code": code.body["qr"], "evidence": evidence(STORE_LAT, STORE_LON)}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    gw.wait_order(&customer, &order_id, "out_for_delivery", |o| {
        o["status"] == "out_for_delivery"
    })
    .await;
    let r = gw
        .post(
            "/order/delivered",
            Some(&driver),
            json!({"orderId": order_id, "evidence": evidence(HOME_LAT, HOME_LON)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let done = gw
        .wait_order(&customer, &order_id, "delivered", |o| {
            o["status"] == "delivered"
        })
        .await;
    assert!(done["deliveredAt"].is_string(), "{done}");
    let output = wait_execution(&aws, &order_id).await;
    assert!(
        output.get("declined").is_none(),
        "the delivered execution took the decline path: {output}"
    );

    // --- decline path ---
    let (declined_id, token) = gw.place_order(&customer, &store).await;
    let r = gw.decide(&store, &declined_id, &token, false).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let view = gw
        .wait_order(&customer, &declined_id, "declined_by_store", |o| {
            o["status"] == "declined_by_store"
        })
        .await;
    assert_eq!(view["declinedReason"], "no_capacity");
    let output = wait_execution(&aws, &declined_id).await;
    assert!(
        output.get("declined").is_some(),
        "the declined execution did not go through the decline Catch: {output}"
    );

    let applied = source.stop().await;
    // decision, offer, pickup, delivery for the first order; decision and `declined` for the second.
    assert!(
        applied >= 6,
        "the worker applied only {applied} messages\n--- worker log ---\n{}",
        worker.log()
    );
}

// Multi-threaded: the fake Runtime API must keep serving while the test waits for the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_function_reports_its_init_error_and_exits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut f = Function::start(
        "BadFunction",
        dir.path(),
        &[
            ("FENCEPOST_MODE", "apii".into()),
            (
                "FENCEPOST_DB",
                dir.path().join("x.db").display().to_string(),
            ),
        ],
    )
    .await;
    let status = f
        .wait_exit(Duration::from_secs(10))
        .expect("bootstrap exits on a bad configuration");
    assert!(!status.success());
    let reported = f
        .runtime
        .init_error
        .lock()
        .ok()
        .and_then(|e| e.clone())
        .expect("an init error was reported");
    let message = reported["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("FENCEPOST_MODE") && message.contains("apii"),
        "{reported}"
    );
    assert!(f.log().contains("FENCEPOST_MODE"), "{}", f.log());
}
