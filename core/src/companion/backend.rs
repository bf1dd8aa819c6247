//! The HTTP client for the middleware (reqwest with rustls). It knows transport concerns only: the bearer
//! token (refreshed once on 401 through the platform's [`TokenProvider`]), the `Idempotency-Key` header,
//! timeouts, and sorting answers into "done", "try again later" and "refused for good".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;

use super::config::CompanionConfig;
use super::error::{Error, Result};
use super::listener::TokenProvider;
use super::wire::WireError;

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 2xx, with the body.
    Done(String),
    /// Worth retrying: network down, timeout, 5xx, 408, 429, or a 401 a fresh token did not cure.
    Retry(String),
    /// A 4xx no retry can fix; the server's code and message.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

pub struct Backend {
    client: reqwest::Client,
    base_url: String,
    tokens: Arc<dyn TokenProvider>,
    /// The last token handed out by the provider; `None` until first needed or after a 401.
    token: Mutex<Option<String>>,
}

impl Backend {
    pub fn new(config: &CompanionConfig, tokens: Arc<dyn TokenProvider>) -> Result<Self> {
        let timeout = Duration::from_millis(config.request_timeout_ms);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("fencepost-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base_url: config.base_url().to_owned(),
            tokens,
            token: Mutex::new(None),
        })
    }

    fn token(&self, refresh: bool) -> Result<String> {
        let mut slot = self.token.lock().map_err(|_| Error::ShutDown)?;
        if !refresh {
            if let Some(t) = slot.as_ref() {
                return Ok(t.clone());
            }
        }
        let fresh = if refresh {
            self.tokens.refresh_token()
        } else {
            self.tokens.current_token()
        }
        .map_err(|e| Error::Token(e.reason))?;
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// POSTs a JSON body with its idempotency key.
    pub async fn post(&self, path: &str, idempotency_key: &str, body: &str) -> Outcome {
        self.send(path, Some((idempotency_key, body))).await
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> Outcome {
        self.send(path, None).await
    }

    async fn send(&self, path: &str, post: Option<(&str, &str)>) -> Outcome {
        let url = format!("{}{}", self.base_url, path);
        let response = self
            .authorized(|client| match post {
                Some((key, body)) => client
                    .post(&url)
                    .header("Idempotency-Key", key)
                    .header("Content-Type", "application/json")
                    .body(body.to_owned()),
                None => client.get(&url),
            })
            .await;
        let response = match response {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let status = response.status();
        match response.text().await {
            Ok(text) => classify(status, text),
            Err(e) => Outcome::Retry(transport_reason(e)),
        }
    }

    /// Opens a server-sent event stream, resuming after `last_event_id`. The response's body is the
    /// stream; it is cut after `max_life` at the latest (the caller reconnects from its cursor), instead
    /// of the short request timeout. Any non-2xx answer comes back as the outcome to back off on.
    pub async fn open_stream(
        &self,
        path: &str,
        last_event_id: Option<&str>,
        max_life: Duration,
    ) -> std::result::Result<reqwest::Response, Outcome> {
        let url = format!("{}{}", self.base_url, path);
        let response = self
            .authorized(|client| {
                let request = client
                    .get(&url)
                    .header("Accept", "text/event-stream")
                    .timeout(max_life);
                match last_event_id {
                    Some(id) => request.header("Last-Event-ID", id),
                    None => request,
                }
            })
            .await?;
        let status = response.status();
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_success() && is_stream {
            return Ok(response);
        }
        if status.is_success() {
            // A captive portal or a proxy's page, not the feed.
            return Err(Outcome::Retry(
                "the event feed answered without a stream".to_owned(),
            ));
        }
        let text = response.text().await.unwrap_or_default();
        Err(classify(status, text))
    }

    /// Sends the request `build` makes with the bearer token, refreshing the token once on a 401.
    /// Transport failures are `Retry`; every answer, whatever its status, is returned.
    async fn authorized(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> std::result::Result<reqwest::Response, Outcome> {
        let mut refreshed = false;
        loop {
            let token = self
                .token(refreshed)
                .map_err(|e| Outcome::Retry(e.to_string()))?;
            // reqwest's message names the URL (paths carry ids, never positions or tokens).
            let response = build(&self.client)
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| Outcome::Retry(transport_reason(e)))?;
            if response.status() == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                continue;
            }
            return Ok(response);
        }
    }
}

fn transport_reason(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "request timed out".to_owned()
    } else if e.is_connect() {
        "server unreachable".to_owned()
    } else {
        format!("transport error: {}", e.without_url())
    }
}

fn classify(status: StatusCode, text: String) -> Outcome {
    if status.is_success() {
        return Outcome::Done(text);
    }
    let err: WireError = serde_json::from_str(&text).unwrap_or_default();
    let retry = status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retry {
        Outcome::Retry(format!("server answered {} {}", status.as_u16(), err.code))
    } else {
        Outcome::Refused {
            status: status.as_u16(),
            code: err.code,
            message: err.message,
        }
    }
}
