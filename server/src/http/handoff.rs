//! The two handoffs a driver reports, pickup at the store and delivery at the customer: which order
//! statuses allow each, and completing the workflow task each one resumes.

use serde_json::json;

use crate::error::ApiError;
use crate::http::{engine_error, not_now, timed_out, AppState};
use crate::model::{OrderRecord, OrderStatus};
use crate::workflow::{EngineError, TaskKind};

pub struct Handoff {
    /// Statuses the handoff can happen in.
    valid: &'static [OrderStatus],
    /// Statuses that mean it was already recorded (409 `task_timed_out`).
    recorded: &'static [OrderStatus],
    /// The workflow task it completes.
    task: TaskKind,
    /// "pickup" / "delivery", for messages.
    noun: &'static str,
    /// The message when it was already recorded, given the order id.
    repeated: fn(&str) -> String,
    /// The message when its task timed out (or was used meanwhile), given the order id.
    expired: fn(&str) -> String,
}

pub const PICKUP: Handoff = Handoff {
    valid: &[OrderStatus::DriverAssigned, OrderStatus::DriverArrived],
    recorded: &[OrderStatus::OutForDelivery, OrderStatus::Delivered],
    task: TaskKind::Pickup,
    noun: "pickup",
    repeated: |id| format!("Pickup for order [{id}] was already recorded."),
    expired: |id| format!("The pickup of order [{id}] timed out."),
};

pub const DELIVERY: Handoff = Handoff {
    valid: &[OrderStatus::OutForDelivery],
    recorded: &[OrderStatus::Delivered],
    task: TaskKind::Delivery,
    noun: "delivery",
    repeated: |id| format!("Delivery of order [{id}] was already recorded."),
    expired: |id| format!("Delivery of order [{id}] was already recorded."),
};

impl Handoff {
    /// Whether the order is where this handoff can happen (409 otherwise).
    pub fn check_status(&self, order: &OrderRecord) -> Result<(), ApiError> {
        if self.valid.contains(&order.status) {
            Ok(())
        } else if self.recorded.contains(&order.status) {
            Err(timed_out((self.repeated)(&order.order_id)))
        } else {
            Err(not_now(order))
        }
    }

    /// Completes the handoff's open task: the workflow resumes.
    pub async fn complete(&self, state: &AppState, order: &OrderRecord) -> Result<(), ApiError> {
        let order_id = order.order_id.as_str();
        let task = state
            .engine
            .open_task(order_id, self.task)
            .await
            .map_err(|e| engine_error(e, order_id))?
            .ok_or_else(|| {
                timed_out(format!(
                    "Order [{order_id}] is not waiting for a {}.",
                    self.noun
                ))
            })?;
        state
            .engine
            .send_task_success(&task.token, json!({"orderId": order_id}))
            .await
            .map_err(|e| match e {
                EngineError::TaskTimedOut => timed_out((self.expired)(order_id)),
                other => engine_error(other, order_id),
            })?;
        Ok(())
    }
}
