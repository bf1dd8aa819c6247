//! The simulator's own calls to the middleware, in the roles that are not the phone: the admin (setting
//! up stores, drivers, customers, moving the test clock), customers placing orders and stores deciding.
//! Paths and bodies follow docs/http-api.md. These calls go straight to the backend, never through the
//! fault proxy: only the phones' network is unreliable.

use std::time::Duration;

use serde_json::{json, Value};

use super::error::{Error, Result};
use super::geo::LatLon;

#[derive(Clone)]
pub struct Api {
    base: String,
    admin_token: String,
    client: reqwest::Client,
}

/// One event from a store's server-sent event feed.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub id: u64,
    pub kind: String,
    pub data: Value,
}

impl Api {
    pub fn new(base: &str, admin_token: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Backend(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            admin_token: admin_token.to_owned(),
            client,
        })
    }

    /// Sends a request and returns the JSON answer of a 2xx; anything else is an error naming the call
    /// and the server's code (never a token or a coordinate).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let answer = req.send().await.map_err(|e| {
            Error::Backend(format!(
                "{method} {}: {}",
                route_name(path),
                e.without_url()
            ))
        })?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if !status.is_success() {
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(Error::Backend(format!(
                "{method} {} answered {status} {code}",
                route_name(path)
            )));
        }
        serde_json::from_str(&text).map_err(|_| {
            Error::Backend(format!(
                "{method} {} answered with invalid JSON",
                route_name(path)
            ))
        })
    }

    pub async fn health(&self) -> Result<()> {
        self.client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| Error::Backend(format!("health check: {}", e.without_url())))?;
        Ok(())
    }

    /// Creates a store (or, if it exists from an earlier run against the same backend, re-issues its
    /// token). Returns the store token.
    pub async fn ensure_store(
        &self,
        id: &str,
        name: &str,
        pos: LatLon,
        radius_m: f64,
        capacity: u32,
    ) -> Result<String> {
        let body = json!({
            "storeId": id, "name": name,
            "location": {"latitude": pos.lat, "longitude": pos.lon},
            "fence": {"radiusM": radius_m}, "capacity": capacity,
        });
        let admin = self.admin_token.clone();
        match self
            .call(reqwest::Method::POST, "/admin/stores", &admin, Some(body))
            .await
        {
            Ok(v) => string_field(&v, "token"),
            Err(Error::Backend(msg)) if msg.contains("store_exists") => {
                let v = self
                    .call(
                        reqwest::Method::POST,
                        &format!("/admin/stores/{id}/token"),
                        &admin,
                        None,
                    )
                    .await?;
                string_field(&v, "token")
            }
            Err(e) => Err(e),
        }
    }

    /// Returns (driverId, token).
    pub async fn create_driver(&self, name: &str) -> Result<(String, String)> {
        let admin = self.admin_token.clone();
        let v = self
            .call(
                reqwest::Method::POST,
                "/admin/drivers",
                &admin,
                Some(json!({"name": name})),
            )
            .await?;
        Ok((string_field(&v, "driverId")?, string_field(&v, "token")?))
    }

    pub async fn create_customer(&self, name: &str) -> Result<String> {
        let admin = self.admin_token.clone();
        let v = self
            .call(
                reqwest::Method::POST,
                "/admin/customers",
                &admin,
                Some(json!({"name": name})),
            )
            .await?;
        string_field(&v, "token")
    }

    /// Places an order; returns (orderId, status).
    pub async fn place_order(
        &self,
        customer_token: &str,
        store_id: &str,
        pies: usize,
        to: LatLon,
    ) -> Result<(String, String)> {
        let pies: Vec<Value> = (0..pies)
            .map(|i| {
                let size = ["small", "medium", "large"][i % 3];
                json!({"size": size, "cheese": "medium", "toppings": ["tomato"]})
            })
            .collect();
        let body = json!({
            "storeId": store_id, "paymentId": "sim-payment", "pies": pies,
            "deliveryAddress": {
                "coordinates": {"latitude": to.lat, "longitude": to.lon},
                "streetAddress": "Simulated street 1", "city": "Helsinki", "postalCode": "00100",
                "province": "Uusimaa",
            },
        });
        let v = self
            .call(reqwest::Method::POST, "/order", customer_token, Some(body))
            .await?;
        let order = v.get("order").cloned().unwrap_or(Value::Null);
        Ok((
            string_field(&order, "orderId")?,
            string_field(&order, "status")?,
        ))
    }

    pub async fn decide(
        &self,
        store_token: &str,
        store_id: &str,
        order_id: &str,
        task_token: &str,
    ) -> Result<()> {
        let body = json!({"orderId": order_id, "storeId": store_id, "accepted": true, "taskToken": task_token});
        self.call(
            reqwest::Method::POST,
            "/order/decision",
            store_token,
            Some(body),
        )
        .await?;
        Ok(())
    }

    /// The string the store's QR code encodes.
    pub async fn pickup_qr(&self, store_token: &str, order_id: &str) -> Result<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/order/{order_id}/pickup-code"),
                store_token,
                None,
            )
            .await?;
        string_field(&v, "qr")
    }

    /// The order's status as the store sees it.
    pub async fn order_status(&self, store_token: &str, order_id: &str) -> Result<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/order/{order_id}?party=store"),
                store_token,
                None,
            )
            .await?;
        string_field(v.get("order").unwrap_or(&Value::Null), "status")
    }

    /// Moves the server's test clock; returns the server's new time (Unix ms).
    pub async fn advance_clock(&self, seconds: i64) -> Result<i64> {
        let admin = self.admin_token.clone();
        let v = self
            .call(
                reqwest::Method::POST,
                "/admin/clock/advance",
                &admin,
                Some(json!({"seconds": seconds})),
            )
            .await?;
        let now = string_field(&v, "now")?;
        chrono::DateTime::parse_from_rfc3339(&now)
            .map(|t| t.timestamp_millis())
            .map_err(|_| Error::Backend("clock advance answered an unreadable time".into()))
    }

    /// Follows a store's feed from event `after`, sending each event to `tx`, until the stream ends
    /// or stays silent for `quiet`. Returns the last event id seen (to resume from).
    pub async fn store_events(
        &self,
        store_token: &str,
        after: u64,
        quiet: Duration,
        tx: &tokio::sync::mpsc::UnboundedSender<FeedEvent>,
    ) -> Result<u64> {
        let mut answer = self
            .client
            .get(format!("{}/store/events?after={after}", self.base))
            .bearer_auth(store_token)
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|e| Error::Backend(format!("store feed: {}", e.without_url())))?;
        if !answer.status().is_success() {
            return Err(Error::Backend(format!(
                "store feed answered {}",
                answer.status()
            )));
        }
        let mut buffer = String::new();
        let mut last = after;
        loop {
            match tokio::time::timeout(quiet, answer.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    buffer.push_str(&String::from_utf8_lossy(&bytes));
                    for event in drain_sse(&mut buffer) {
                        last = last.max(event.id);
                        if tx.send(event).is_err() {
                            return Ok(last);
                        }
                    }
                }
                // The stream ended, failed, or went quiet: the caller reconnects from `last`.
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return Ok(last),
            }
        }
    }
}

/// Parses complete events (terminated by a blank line) out of `buffer`, leaving a partial one in it.
pub fn drain_sse(buffer: &mut String) -> Vec<FeedEvent> {
    let mut events = Vec::new();
    let normalised = buffer.replace("\r\n", "\n");
    let mut rest = normalised.as_str();
    while let Some(end) = rest.find("\n\n") {
        let block = &rest[..end];
        rest = &rest[end + 2..];
        let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
        for line in block.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => id = value.parse().ok(),
                "event" => kind = value.to_owned(),
                "data" => {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                _ => {}
            }
        }
        if let (Some(id), Ok(data)) = (id, serde_json::from_str::<Value>(&data)) {
            events.push(FeedEvent { id, kind, data });
        }
    }
    *buffer = rest.to_owned();
    events
}

fn string_field(v: &Value, field: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Backend(format!("answer lacks {field}")))
}

/// The path with ids blanked, for error messages.
fn route_name(path: &str) -> String {
    path.split('?')
        .next()
        .unwrap_or(path)
        .split('/')
        .map(|seg| if seg.len() > 16 { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_parsed_and_partial_ones_kept() {
        let mut buf = String::from(
            ": keep-alive\n\nid: 3\nevent: order_placed\ndata: {\"orderId\":\"a\"}\n\nid: 4\nevent: picked_up\ndata: {\"orde",
        );
        let events = drain_sse(&mut buf);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].id, 3);
        assert_eq!(events[0].kind, "order_placed");
        assert_eq!(events[0].data["orderId"], "a");
        buf.push_str("rId\":\"b\"}\n\n");
        let more = drain_sse(&mut buf);
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].kind, "picked_up");
        assert!(buf.is_empty());
    }

    #[test]
    fn error_messages_do_not_carry_ids() {
        assert_eq!(
            route_name("/order/V1StGXR8_Z5jdHi6B-myT/pickup-code"),
            "/order/{id}/pickup-code"
        );
    }
}
