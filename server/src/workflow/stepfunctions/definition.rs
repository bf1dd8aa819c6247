//! The order state machine in Amazon States Language (`server/statemachine/order.asl.json`), the message
//! kinds it sends to the middleware, and a structural check of the definition (run by tests and CI, so a
//! wait without a timeout or a `Catch` that drops the order id cannot ship).

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

/// The definition as committed, with `${TaskQueueUrl}` still to substitute.
pub const ORDER_ASL: &str = include_str!("../../../statemachine/order.asl.json");

/// Placeholder for the middleware's FIFO task queue (SAM `DefinitionSubstitutions` uses the same name).
pub const QUEUE_PLACEHOLDER: &str = "${TaskQueueUrl}";

/// Message kinds on the task queue. Waits carry a task token; notifications do not.
pub mod kind {
    pub const DECISION: &str = "decision";
    pub const OFFER: &str = "offer";
    pub const PICKUP: &str = "pickup";
    pub const DELIVERY: &str = "delivery";
    pub const RELEASE_DRIVER: &str = "release_driver";
    pub const DECLINED: &str = "declined";
    pub const CANCELLED: &str = "cancelled";
    pub const DELIVERY_OVERDUE: &str = "delivery_overdue";
    pub const WAITS: [&str; 5] = [DECISION, OFFER, PICKUP, DELIVERY, RELEASE_DRIVER];
    pub const NOTIFICATIONS: [&str; 3] = [DECLINED, CANCELLED, DELIVERY_OVERDUE];
}

/// Errors the middleware sends with `SendTaskFailure`, each caught by the definition.
pub mod errors {
    pub const ORDER_DECLINED: &str = "OrderDeclined";
    pub const OFFER_DECLINED: &str = "OfferDeclined";
    pub const NO_DRIVER_AVAILABLE: &str = "NoDriverAvailable";
    pub const DISPATCH_WINDOW_CLOSED: &str = "DispatchWindowClosed";
    pub const ALL: [&str; 4] = [
        ORDER_DECLINED,
        OFFER_DECLINED,
        NO_DRIVER_AVAILABLE,
        DISPATCH_WINDOW_CLOSED,
    ];
}

/// The definition with the queue URL filled in (JSON-escaped, so any URL stays valid JSON).
pub fn render(queue_url: &str) -> String {
    let quoted = Value::String(queue_url.to_string()).to_string();
    let escaped = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    ORDER_ASL.replace(QUEUE_PLACEHOLDER, escaped)
}

const WAIT_FOR_TOKEN: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
const SEND_MESSAGE: &str = "arn:aws:states:::sqs:sendMessage";

/// Checks what Step Functions' own validation does not: every state reachable and every transition named,
/// every Task bounded in time, every wait caught on `States.Timeout`, every `Catch` keeping the input
/// (`ResultPath`), every message naming its kind and order (and its token, for waits), and every error the
/// middleware sends caught somewhere. Returns every problem found.
pub fn check(def: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let Some(states) = def.get("States").and_then(Value::as_object) else {
        return Err(vec!["no States object".into()]);
    };
    let start = def
        .get("StartAt")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !states.contains_key(start) {
        problems.push(format!("StartAt names unknown state {start:?}"));
    }
    let mut caught_errors = HashSet::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut kinds = BTreeSet::new();
    for (name, state) in states {
        let ty = state
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut next: Vec<String> = Vec::new();
        if let Some(n) = state.get("Next").and_then(Value::as_str) {
            next.push(n.into());
        }
        if let Some(n) = state.get("Default").and_then(Value::as_str) {
            next.push(n.into());
        }
        for choice in state
            .get("Choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            next.extend(choice.get("Next").and_then(Value::as_str).map(String::from));
        }
        let catches = state
            .get("Catch")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for catch in &catches {
            next.extend(catch.get("Next").and_then(Value::as_str).map(String::from));
            // No ResultPath means the error object replaces the whole input: the seed's decline bug.
            match catch.get("ResultPath") {
                Some(Value::String(p)) if p != "$" => {}
                _ => problems.push(format!(
                    "{name}: a Catch without a ResultPath below $ loses the order id"
                )),
            }
            for e in catch
                .get("ErrorEquals")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                caught_errors.extend(e.as_str().map(String::from));
            }
        }
        let terminal =
            matches!(ty, "Succeed" | "Fail") || state.get("End") == Some(&Value::Bool(true));
        if next.is_empty() && !terminal {
            problems.push(format!("{name}: no transition and not terminal"));
        }
        edges.extend(next.into_iter().map(|n| (name.clone(), n)));
        if ty != "Task" {
            continue;
        }
        let resource = state
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if state.get("TimeoutSeconds").is_none() && state.get("TimeoutSecondsPath").is_none() {
            problems.push(format!(
                "{name}: Task without TimeoutSeconds/TimeoutSecondsPath"
            ));
        }
        let body = state.pointer("/Parameters/MessageBody");
        let Some(body) = body else {
            problems.push(format!("{name}: Task without Parameters.MessageBody"));
            continue;
        };
        let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
        kinds.insert(kind.to_string());
        if body.get("orderId.$").and_then(Value::as_str) != Some("$.orderId") {
            problems.push(format!("{name}: message without orderId.$ = $.orderId"));
        }
        if state
            .pointer("/Parameters/MessageGroupId.$")
            .and_then(Value::as_str)
            != Some("$.orderId")
        {
            problems.push(format!(
                "{name}: message not grouped by order (MessageGroupId.$)"
            ));
        }
        if state
            .pointer("/Parameters/QueueUrl")
            .and_then(Value::as_str)
            .is_none()
        {
            problems.push(format!("{name}: no QueueUrl"));
        }
        match resource {
            WAIT_FOR_TOKEN => {
                if !kind::WAITS.contains(&kind) {
                    problems.push(format!("{name}: wait with unknown kind {kind:?}"));
                }
                if body.get("taskToken.$").and_then(Value::as_str) != Some("$$.Task.Token") {
                    problems.push(format!("{name}: wait without taskToken.$ = $$.Task.Token"));
                }
                let on_timeout = catches.iter().any(|c| {
                    c.get("ErrorEquals")
                        .and_then(Value::as_array)
                        .is_some_and(|errs| {
                            errs.iter().any(|e| {
                                matches!(e.as_str(), Some("States.Timeout" | "States.ALL"))
                            })
                        })
                });
                if !on_timeout {
                    problems.push(format!("{name}: wait without a Catch for States.Timeout"));
                }
            }
            SEND_MESSAGE => {
                if !kind::NOTIFICATIONS.contains(&kind) {
                    problems.push(format!("{name}: notification with unknown kind {kind:?}"));
                }
            }
            other => problems.push(format!("{name}: unexpected resource {other}")),
        }
    }
    for (from, to) in &edges {
        if !states.contains_key(to) {
            problems.push(format!("{from}: transition to unknown state {to:?}"));
        }
    }
    let mut reached = HashSet::from([start.to_string()]);
    let mut frontier = vec![start.to_string()];
    while let Some(s) = frontier.pop() {
        for (_, to) in edges.iter().filter(|(from, _)| *from == s) {
            if reached.insert(to.clone()) {
                frontier.push(to.clone());
            }
        }
    }
    for name in states.keys().filter(|n| !reached.contains(*n)) {
        problems.push(format!("{name}: unreachable"));
    }
    for e in errors::ALL.iter().filter(|e| !caught_errors.contains(**e)) {
        problems.push(format!("the middleware's error {e} is never caught"));
    }
    for k in kind::WAITS
        .iter()
        .chain(kind::NOTIFICATIONS.iter())
        .filter(|k| !kinds.contains(**k))
    {
        problems.push(format!("message kind {k} is never sent"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
