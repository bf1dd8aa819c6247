//! The embedded engine at the Rust level: an order stored but never started (a crash between the two) is
//! started by the first timer pass, exactly once; task tokens are single-use with Step Functions' errors.

mod workflow_fixture;

use std::sync::Arc;

use fencepost_server::clock::Clock;
use fencepost_server::db::{Db, Repository};
use fencepost_server::feed::Feed;
use fencepost_server::model::OrderStatus;
use fencepost_server::workflow::embedded::EmbeddedEngine;
use fencepost_server::workflow::{EngineError, TaskKind, WorkflowEngine};
use fencepost_server::Timing;

fn setup() -> (Arc<Db>, EmbeddedEngine) {
    let db = Arc::new(workflow_fixture::seeded_db("order-1", 0));
    let engine = EmbeddedEngine::new(
        db.clone(),
        Arc::new(Clock::system()),
        Arc::new(Feed::default()),
        Timing::default(),
    );
    (db, engine)
}

#[tokio::test]
async fn an_unstarted_order_is_started_once_and_its_token_is_single_use() {
    let (db, engine) = setup();
    assert!(engine
        .open_task("order-1", TaskKind::StoreDecision)
        .await
        .expect("lookup")
        .is_none());
    engine.run_due().await.expect("timer pass");
    let task = engine
        .open_task("order-1", TaskKind::StoreDecision)
        .await
        .expect("lookup")
        .expect("decision task");
    // A second pass and an explicit start change nothing: one execution per order.
    engine.run_due().await.expect("timer pass");
    engine
        .start_execution("order-1")
        .await
        .expect("idempotent start");
    let events = db
        .write(|repo| repo.events_after("store", "s1", 0, 10))
        .expect("events");
    assert_eq!(
        events.iter().filter(|e| e.kind == "order_placed").count(),
        1
    );

    engine
        .send_task_success(&task.token, serde_json::json!({}))
        .await
        .expect("first use");
    assert!(matches!(
        engine
            .send_task_success(&task.token, serde_json::json!({}))
            .await,
        Err(EngineError::TaskTimedOut)
    ));
    assert!(matches!(
        engine.send_task_heartbeat(&task.token).await,
        Err(EngineError::TaskTimedOut)
    ));
    assert!(matches!(
        engine.send_task_failure("not-a-token", "E", "c").await,
        Err(EngineError::InvalidToken)
    ));
    let order = db
        .write(|repo| repo.order("order-1"))
        .expect("order")
        .expect("exists");
    assert_eq!(order.status, OrderStatus::AcceptedByStore);
}
