//! Reports a start-up failure to the Lambda Runtime API (`/runtime/init/error`), so the failure shows as
//! the function's init error with our message. lambda_runtime only reports its own init failures; ours
//! (configuration, the store, the admin token) happen before it runs.

use lambda_runtime_api_client::{body::Body, build_request, PooledClient};

/// Best effort: if the Runtime API cannot be reached the message still goes to the log (stderr).
pub async fn report(message: &str) {
    eprintln!("fencepost-lambda: init failed: {message}");
    let diagnostic =
        serde_json::json!({"errorType": "Fencepost.InitError", "errorMessage": message});
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Fencepost.InitError")
        .body(Body::from(diagnostic.to_string()));
    let Ok(request) = request else { return };
    if let Err(e) = PooledClient::builder().build().call(request).await {
        eprintln!("fencepost-lambda: could not report the init error: {e}");
    }
}
