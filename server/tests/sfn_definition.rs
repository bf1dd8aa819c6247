//! The order state machine (server/statemachine/order.asl.json) is checked on every `cargo test`: it
//! parses, passes the structural check (every wait bounded and caught on timeout, every Catch keeps the
//! order, every state reachable), and the check itself catches the defects it exists for.
//! (cfn-lint validates the same definition inside the deploy template in scripts/ci/20-stepfunctions.sh.)

use fencepost_server::workflow::stepfunctions::definition::{
    check, render, ORDER_ASL, QUEUE_PLACEHOLDER,
};
use serde_json::Value;

fn committed() -> Value {
    serde_json::from_str(ORDER_ASL).expect("order.asl.json is valid JSON")
}

fn problems(def: &Value) -> Vec<String> {
    check(def).err().unwrap_or_default()
}

#[test]
fn the_committed_definition_passes_the_check() {
    assert_eq!(problems(&committed()), Vec::<String>::new());
}

#[test]
fn the_workflow_has_the_seed_states_and_fixes_its_defects() {
    let def = committed();
    let state = |name: &str| def["States"][name].clone();
    // NotifyStore waits for the store's token over SQS, bounded, and its decline Catch keeps the input.
    let notify = state("NotifyStore");
    assert_eq!(
        notify["Resource"],
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    );
    assert_eq!(notify["TimeoutSecondsPath"], "$.timing.decisionTimeoutS");
    let decline = notify["Catch"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["ErrorEquals"][0] == "OrderDeclined"))
        .cloned();
    let decline = decline.expect("a Catch for OrderDeclined");
    assert_eq!(decline["ResultPath"], "$.declined");
    assert_eq!(decline["Next"], "MarkDeclined");
    // The pickup wait has a heartbeat; its lapse re-dispatches.
    let pickup = state("WaitForPickup");
    assert_eq!(pickup["HeartbeatSecondsPath"], "$.timing.pickupHeartbeatS");
    assert_eq!(pickup["Catch"][0]["Next"], "ReleaseDriver");
    assert_eq!(state("ReleaseDriver")["Next"], "OfferToDriver");
    // An expired or declined offer goes to the next driver; the dispatch window's end cancels.
    let offer = state("OfferToDriver");
    let next_of = |error: &str| {
        offer["Catch"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| {
                c["ErrorEquals"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == error))
            })
            .map(|c| c["Next"].clone())
    };
    assert_eq!(next_of("States.Timeout"), Some(Value::from("Redispatch")));
    assert_eq!(
        next_of("DispatchWindowClosed"),
        Some(Value::from("CancelNoDriver"))
    );
    // The POS check comes first.
    assert_eq!(def["StartAt"], "CheckStore");
    assert_eq!(state("CheckStore")["Type"], "Choice");
}

#[test]
fn rendering_fills_in_the_queue_url() {
    let url = "http://127.0.0.1:5000/123456789012/fencepost-x-tasks.fifo";
    let rendered: Value = serde_json::from_str(&render(url)).expect("rendered definition is JSON");
    assert!(!rendered.to_string().contains(QUEUE_PLACEHOLDER));
    assert_eq!(
        rendered["States"]["NotifyStore"]["Parameters"]["QueueUrl"],
        url
    );
    assert_eq!(problems(&rendered), Vec::<String>::new());
}

/// Breaks a definition in place.
type Mutation = Box<dyn Fn(&mut Value)>;

/// Each mutation reintroduces a defect; the check must name it.
#[test]
fn the_check_catches_the_defects_it_exists_for() {
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "the seed's decline Catch without ResultPath",
            Box::new(|d| {
                if let Some(c) = d["States"]["NotifyStore"]["Catch"][0].as_object_mut() {
                    c.remove("ResultPath");
                }
            }),
            "NotifyStore: a Catch without a ResultPath",
        ),
        (
            "a wait without a timeout (the seed's hang for a year)",
            Box::new(|d| {
                if let Some(s) = d["States"]["WaitForDelivery"].as_object_mut() {
                    s.remove("TimeoutSecondsPath");
                }
            }),
            "WaitForDelivery: Task without TimeoutSeconds",
        ),
        (
            "a wait whose timeout is not caught",
            Box::new(|d| d["States"]["WaitForPickup"]["Catch"] = Value::Array(vec![])),
            "WaitForPickup: wait without a Catch for States.Timeout",
        ),
        (
            "a wait that does not send its token",
            Box::new(|d| {
                if let Some(b) =
                    d["States"]["OfferToDriver"]["Parameters"]["MessageBody"].as_object_mut()
                {
                    b.remove("taskToken.$");
                }
            }),
            "OfferToDriver: wait without taskToken.$",
        ),
        (
            "a transition to a missing state",
            Box::new(|d| d["States"]["Redispatch"]["Next"] = Value::from("OfferToDriverr")),
            "Redispatch: transition to unknown state",
        ),
        (
            "an unreachable state",
            Box::new(|d| d["States"]["Orphan"] = serde_json::json!({"Type": "Succeed"})),
            "Orphan: unreachable",
        ),
    ];
    for (what, mutate, expected) in cases {
        let mut def = committed();
        mutate(&mut def);
        let found = problems(&def);
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{what}: expected {expected:?}, got {found:?}"
        );
    }
}
