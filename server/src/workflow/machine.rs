//! The order state machine, as the embedded engine runs it: each function is one state's entry or one
//! task's outcome, applied inside the caller's transaction. What a step does to the order and the feeds is
//! `outcome.rs` (shared with the Step Functions engine); this file decides when, and keeps the timers.
//! Timers are rows (`timers`, task timeouts), so a restarted server resumes every order where it stopped.
//!
//! ```text
//! start ─POS closed/full─▶ cancelled
//!   └─▶ NotifyStore (decision task, timeout) ─timeout─▶ cancelled(store_timeout)
//!         ├─failure OrderDeclined─▶ declined_by_store
//!         └─success─▶ accepted_by_store ─▶ Dispatch ─offer task (timeout)─▶ next-nearest driver …
//!               └─offer success─▶ driver_assigned ─▶ WaitForPickup (heartbeat, timeout) ─lapse─▶ Dispatch
//!                     └─success─▶ out_for_delivery ─▶ WaitForDelivery (timeout) ─success─▶ delivered
//!                                                          └─timeout─▶ delivery_overdue
//! ```

use crate::db::{Repository, TaskRow};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::{OrderRecord, OrderStatus};
use crate::workflow::outcome::{pickup_lapse_reason, Outcomes};
use crate::workflow::TaskKind;

/// Where the driver-facing offer is built (kept here for callers that knew it as `machine::offer_of`).
pub use crate::workflow::outcome::offer_of;

/// Waits and timeouts (seconds). Defaults are documented in docs/http-api.md; the Step Functions engine
/// passes the same values to its executions (stepfunctions/timing.rs).
#[derive(Debug, Clone)]
pub struct Timing {
    pub decision_timeout_s: i64,
    pub offer_timeout_s: i64,
    pub dispatch_window_s: i64,
    pub dispatch_retry_s: i64,
    pub pickup_heartbeat_s: i64,
    /// The whole pickup wait, however often the driver reports: a driver who never reaches the store is
    /// replaced after this even while their phone keeps heartbeating.
    pub pickup_timeout_s: i64,
    /// The delivery wait: past it the order is flagged `delivery_overdue` and the driver is freed.
    pub delivery_timeout_s: i64,
    pub driver_fresh_s: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            decision_timeout_s: 300,
            offer_timeout_s: 60,
            dispatch_window_s: 1800,
            dispatch_retry_s: 30,
            pickup_heartbeat_s: 120,
            pickup_timeout_s: 3 * 3600,
            delivery_timeout_s: 3 * 3600,
            driver_fresh_s: 120,
        }
    }
}

pub const TIMER_DISPATCH_RETRY: &str = "dispatch_retry";
pub const TIMER_DISPATCH_DEADLINE: &str = "dispatch_deadline";

pub struct Machine<'a> {
    pub repo: &'a dyn Repository,
    pub now_ms: i64,
    pub timing: &'a Timing,
}

/// A new task token: opaque and unguessable, like Step Functions' tokens.
fn new_token() -> String {
    ids::secret("fpt_")
}

impl Machine<'_> {
    fn outcomes(&self) -> Outcomes<'_> {
        Outcomes {
            repo: self.repo,
            now_ms: self.now_ms,
            timing: self.timing,
        }
    }

    fn cancel(&self, order: &mut OrderRecord, reason: &str, tell_store: bool) -> Result<()> {
        self.repo
            .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
        self.repo
            .delete_timers(&order.order_id, TIMER_DISPATCH_DEADLINE)?;
        self.outcomes().cancelled(order, reason, tell_store)
    }

    /// (Re)starts the dispatch window: the order is cancelled if nobody accepts before it closes.
    fn start_dispatch(&self, order: &OrderRecord) -> Result<()> {
        let deadline = self.now_ms + self.timing.dispatch_window_s * 1000;
        self.repo
            .insert_timer(&order.order_id, TIMER_DISPATCH_DEADLINE, deadline)?;
        self.dispatch(order)
    }

    /// Execution start: the POS check, then NotifyStore (the decision task and the store's `order_placed`).
    pub fn start(&self, order_id: &str) -> Result<()> {
        let o = self.outcomes();
        let mut order = o.order(order_id)?;
        // Starting is idempotent: an execution runs once per order (execution name = orderId).
        if order.status != OrderStatus::Initiated
            || self
                .repo
                .open_task(order_id, TaskKind::StoreDecision.as_str())?
                .is_some()
        {
            return Ok(());
        }
        if let Some(reason) = o.pos_refusal(&order)? {
            return self.cancel(&mut order, reason, false);
        }
        let decision = o.file_wait(o.wait_row(
            new_token(),
            order_id,
            TaskKind::StoreDecision,
            None,
            Some(self.timing.decision_timeout_s * 1000),
            None,
        ))?;
        o.order_placed(&order, &decision)
    }

    pub fn on_success(&self, task: &TaskRow) -> Result<()> {
        let o = self.outcomes();
        let mut order = o.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => {
                o.accepted_by_store(&mut order)?;
                self.start_dispatch(&order)
            }
            Some(TaskKind::Offer) => {
                let driver_id = task
                    .driver_id
                    .as_deref()
                    .ok_or_else(|| Error::Corrupt("offer task without driver".into()))?;
                self.repo
                    .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
                self.repo
                    .delete_timers(&order.order_id, TIMER_DISPATCH_DEADLINE)?;
                o.file_wait(o.wait_row(
                    new_token(),
                    &order.order_id,
                    TaskKind::Pickup,
                    Some(driver_id),
                    Some(self.timing.pickup_timeout_s * 1000),
                    Some(self.timing.pickup_heartbeat_s * 1000),
                ))?;
                o.driver_assigned(&mut order, driver_id)
            }
            Some(TaskKind::Pickup) => {
                o.file_wait(o.wait_row(
                    new_token(),
                    &order.order_id,
                    TaskKind::Delivery,
                    task.driver_id.as_deref(),
                    Some(self.timing.delivery_timeout_s * 1000),
                    None,
                ))?;
                o.picked_up(&mut order, task.driver_id.as_deref())
            }
            Some(TaskKind::Delivery) => o.delivered(&mut order),
            None => Err(Error::Corrupt(format!("unknown task kind {}", task.kind))),
        }
    }

    pub fn on_failure(&self, task: &TaskRow, error: &str, cause: &str) -> Result<()> {
        let o = self.outcomes();
        let mut order = o.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            // The seed's Catch lost its input here; we keep the order and record why.
            Some(TaskKind::StoreDecision) => o.declined_by_store(&mut order, Some(cause)),
            Some(TaskKind::Offer) => self.dispatch(&order),
            _ => {
                tracing::warn!(order_id = %order.order_id, error, "task failure ignored for this state");
                Ok(())
            }
        }
    }

    /// A task's timeout or heartbeat lapsed (`States.Timeout`).
    pub fn on_timeout(&self, task: &TaskRow) -> Result<()> {
        let o = self.outcomes();
        let mut order = o.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => self.cancel(&mut order, "store_timeout", true),
            Some(TaskKind::Offer) => {
                o.offer_withdrawn(task, "expired")?;
                self.dispatch(&order)
            }
            // ReleaseDriver: back to dispatch, with a fresh dispatch window.
            Some(TaskKind::Pickup) => {
                o.driver_released(&mut order, pickup_lapse_reason(task))?;
                self.start_dispatch(&order)
            }
            // FlagDeliveryOverdue.
            Some(TaskKind::Delivery) => o.delivery_overdue(&mut order),
            None => Err(Error::Corrupt(format!("unknown task kind {}", task.kind))),
        }
    }

    pub fn on_timer(&self, order_id: &str, kind: &str) -> Result<()> {
        let mut order = self.outcomes().order(order_id)?;
        if order.status != OrderStatus::AcceptedByStore {
            return Ok(()); // a driver was found (or the order ended) after the timer was set
        }
        match kind {
            TIMER_DISPATCH_RETRY => {
                if self
                    .repo
                    .open_task(order_id, TaskKind::Offer.as_str())?
                    .is_none()
                {
                    self.dispatch(&order)?;
                }
                Ok(())
            }
            // Cancelling closes the open offer and withdraws it from its driver.
            TIMER_DISPATCH_DEADLINE => self.cancel(&mut order, "no_driver", true),
            other => Err(Error::Corrupt(format!("unknown timer kind {other}"))),
        }
    }

    /// Offers the order to the driver dispatch chooses (dispatch.rs); with nobody, retries later.
    fn dispatch(&self, order: &OrderRecord) -> Result<()> {
        let offered = self.outcomes().offer_to_next_driver(
            order,
            new_token(),
            self.timing.offer_timeout_s * 1000,
        )?;
        if offered.is_none() {
            self.repo
                .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
            self.repo.insert_timer(
                &order.order_id,
                TIMER_DISPATCH_RETRY,
                self.now_ms + self.timing.dispatch_retry_s * 1000,
            )?;
        }
        Ok(())
    }
}
