//! Reading the server's event feeds (`/store/events`, `/driver/events`: server-sent events) in tests.
//! One parser for every test that reads a feed, so they all agree on what an event is.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub id: i64,
    pub kind: String,
    pub data: Value,
}

/// Reads the feed at `base + path` from event id `after` until `stop` holds for an event, for at most
/// `within`. Ok: every event read, the one that stopped it last. Err: what was read before the feed
/// ended or the time ran out.
pub fn read_until(
    base: &str,
    path: &str,
    token: &str,
    after: i64,
    within: Duration,
    mut stop: impl FnMut(&FeedEvent) -> bool,
) -> Result<Vec<FeedEvent>, Vec<FeedEvent>> {
    let deadline = Instant::now() + within;
    let client = Client::builder()
        .timeout(within)
        .build()
        .expect("feed client");
    let resp = client
        .get(format!("{base}{path}?after={after}"))
        .bearer_auth(token)
        .send()
        .expect("feed request");
    assert_eq!(resp.status().as_u16(), 200, "feed status for {path}");
    let mut reader = BufReader::new(resp);
    let (mut id, mut kind, mut data) = (0i64, String::new(), String::new());
    let mut read = Vec::new();
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if let Some(v) = l.strip_prefix("id:") {
            id = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("event:") {
            kind = v.trim().to_string();
        } else if let Some(v) = l.strip_prefix("data:") {
            data.push_str(v.trim());
        } else if l.is_empty() && !kind.is_empty() {
            let event = FeedEvent {
                id,
                kind: std::mem::take(&mut kind),
                data: serde_json::from_str(&std::mem::take(&mut data)).unwrap_or(Value::Null),
            };
            let done = stop(&event);
            read.push(event);
            if done {
                return Ok(read);
            }
        }
    }
    Err(read)
}

/// How many events of `kind` a feed excerpt holds.
pub fn count(events: &[FeedEvent], kind: &str) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}
