//! What the Lambda tests share: API Gateway HTTP API (payload v2) events, SQS events, and request bodies.
#![allow(dead_code)] // each test binary uses part of it

use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "lambda-test-admin-token-0123456789";
pub const STORE_LAT: f64 = 60.1699;
pub const STORE_LON: f64 = 24.9384;
pub const HOME_LAT: f64 = 60.1799;
pub const HOME_LON: f64 = 24.9384;

/// The event API Gateway sends for one HTTP API request (payload format 2.0), as the service documents it.
/// `path` may carry a query string.
pub fn api_event(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    request_id: &str,
) -> Value {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut headers = json!({
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "fencepost-lambda-test",
        "x-forwarded-proto": "https",
    });
    if let Some(t) = token {
        headers["authorization"] = json!(format!("Bearer {t}"));
    }
    if body.is_some() {
        headers["content-type"] = json!("application/json");
        headers["idempotency-key"] = json!(format!("key-{request_id}"));
    }
    let mut query_params = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.insert(k.to_string(), json!(v));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "fencepost-lambda-test"},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_327_200_000_i64
        },
        "isBase64Encoded": false
    });
    if !query_params.is_empty() {
        event["queryStringParameters"] = Value::Object(query_params);
    }
    if let Some(b) = body {
        event["body"] = json!(b.to_string());
    }
    event
}

/// One record of the SQS event the event source mapping sends (FIFO: the group id is an attribute).
pub fn sqs_record(message_id: &str, group: &str, body: &str) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": format!("receipt-{message_id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795327200000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795327200001",
            "SequenceNumber": "18849496460467696128",
            "MessageGroupId": group,
            "MessageDeduplicationId": message_id
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fencepost-tasks.fifo",
        "awsRegion": "us-east-1"
    })
}

pub fn sqs_event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

pub fn store_body(store_id: &str) -> Value {
    json!({"storeId": store_id, "name": "Lambda Pizza", "location": {"latitude": STORE_LAT, "longitude": STORE_LON},
           "fence": {"radiusM": 40}, "capacity": 20})
}

pub fn order_body(store_id: &str) -> Value {
    json!({
        "storeId": store_id, "paymentId": "pay-1",
        "pies": [{"size": "large", "cheese": "medium", "toppings": ["basil", "tomato"]}],
        "deliveryAddress": {"coordinates": {"latitude": HOME_LAT, "longitude": HOME_LON},
            "streetAddress": "Mannerheimintie 1", "city": "Helsinki", "postalCode": "00100", "province": "Uusimaa"}
    })
}

/// Handoff evidence at a place, stamped now.
pub fn evidence(lat: f64, lon: f64) -> Value {
    json!({"time": chrono_now(), "latitude": lat, "longitude": lon, "accuracyM": 8.0, "insideFence": true, "mock": false})
}

/// A location report of one fix, optionally naming the order being driven to.
pub fn location(lat: f64, lon: f64) -> Value {
    json!({"fixes": [{"time": chrono_now(), "latitude": lat, "longitude": lon, "accuracyM": 8.0}]})
}

pub fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// The events of a (bounded) SSE answer: (event name, data).
pub fn sse_events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
        if !name.is_empty() {
            out.push((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
        }
    }
    out
}
