//! Keeps the middleware's store (orders, task tokens, party feeds) in step with the Step Functions
//! execution: what each queue message means for the order (`on_message`), and what a task outcome the
//! execution accepted means (`on_success`/`on_failure`). Statuses and feed events are written by
//! `workflow/outcome.rs`, which the embedded engine calls too, so both engines look the same through the
//! HTTP API. Every function runs inside the
//! caller's transaction and is safe to repeat (SQS may deliver a message twice).

use serde::Deserialize;
use serde_json::json;

use crate::db::{Repository, TaskRow};
use crate::error::{Error, Result};
use crate::model::{OrderRecord, OrderStatus};
use crate::workflow::machine::Timing;
use crate::workflow::outcome::{is_final, pickup_lapse_reason, Outcomes, HEARTBEAT_TIMEOUT};
use crate::workflow::stepfunctions::definition::{errors, kind};
use crate::workflow::TaskKind;

/// A message the state machine sent to the task queue (see order.asl.json). Numbers arrive as JSON numbers
/// (moto sends them as floats), so they are read as `f64`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowMessage {
    pub kind: String,
    pub order_id: String,
    pub task_token: Option<String>,
    pub timeout_s: Option<f64>,
    pub heartbeat_s: Option<f64>,
    pub dispatch_deadline_ms: Option<f64>,
    pub driver_id: Option<String>,
    pub reason: Option<String>,
    pub cause: Option<String>,
    /// When the execution entered the state that sent this message (`$$.State.EnteredTime`): a wait's
    /// timeout runs from then, not from when the message reached us.
    pub at: Option<String>,
}

/// What the engine must tell Step Functions after a message was applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Followup {
    Nothing,
    Succeed {
        token: String,
        output: serde_json::Value,
    },
    Fail {
        token: String,
        error: &'static str,
        cause: String,
    },
}

pub struct Projector<'a> {
    pub repo: &'a dyn Repository,
    pub now_ms: i64,
    pub timing: &'a Timing,
}

/// An offer the execution left more than this before the offer's deadline did not expire (it was declined).
/// Our deadlines are the execution's (see `entered_ms`): the slack only absorbs clock differences.
const EXPIRY_SLACK_MS: i64 = 2000;

fn seconds_to_ms(s: Option<f64>) -> Option<i64> {
    s.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).round() as i64)
}

impl Projector<'_> {
    fn outcomes(&self) -> Outcomes<'_> {
        self.outcomes_at(self.now_ms)
    }

    fn outcomes_at(&self, now_ms: i64) -> Outcomes<'_> {
        Outcomes {
            repo: self.repo,
            now_ms,
            timing: self.timing,
        }
    }

    /// When the execution entered the message's state (never later than now), so the waits we file end
    /// when the execution's do; now when the message does not say.
    fn entered_ms(&self, msg: &WorkflowMessage) -> i64 {
        msg.at
            .as_deref()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.timestamp_millis())
            .filter(|at| *at <= self.now_ms)
            .unwrap_or(self.now_ms)
    }

    /// The dispatch deadline handed to the execution when dispatch (re)starts.
    pub fn dispatch_deadline(&self) -> serde_json::Value {
        json!({ "dispatchDeadlineMs": self.now_ms + self.timing.dispatch_window_s * 1000 })
    }

    /// The POS check as the order is placed (the same check the embedded engine makes). A refused order is
    /// cancelled here, so the customer's answer already says so; the reason is returned for the execution.
    pub fn pos_check(&self, order_id: &str) -> Result<Option<&'static str>> {
        let o = self.outcomes();
        let mut order = o.order(order_id)?;
        let refusal = o.pos_refusal(&order)?;
        if let Some(reason) = refusal {
            o.cancelled(&mut order, reason, false)?;
        }
        Ok(refusal)
    }

    /// The execution could not be started: the order must not wait forever for a workflow that never ran.
    pub fn start_failed(&self, order_id: &str) -> Result<()> {
        let o = self.outcomes();
        let mut order = o.order(order_id)?;
        o.cancelled(&mut order, "workflow_unavailable", false)
    }

    /// Applies one queue message. Unknown orders are an error (the message is kept and retried, then
    /// left to the queue's redrive policy); a repeated wait message is recognised by its token.
    pub fn on_message(&self, msg: &WorkflowMessage) -> Result<Followup> {
        let o = self.outcomes();
        let mut order = o.order(&msg.order_id)?;
        if let Some(token) = &msg.task_token {
            if self.repo.task(token)?.is_some() {
                return Ok(Followup::Nothing); // delivered twice
            }
        }
        let token = || {
            msg.task_token
                .clone()
                .ok_or_else(|| Error::Corrupt(format!("{} message without a token", msg.kind)))
        };
        let timeout_ms = seconds_to_ms(msg.timeout_s);
        // Waits are filed as of when the execution started them.
        let waits = self.outcomes_at(self.entered_ms(msg));
        match msg.kind.as_str() {
            kind::DECISION => {
                let decision = waits.file_wait(waits.wait_row(
                    token()?,
                    &order.order_id,
                    TaskKind::StoreDecision,
                    None,
                    timeout_ms,
                    None,
                ))?;
                o.order_placed(&order, &decision)?;
                Ok(Followup::Nothing)
            }
            kind::OFFER => self.offer(&mut order, token()?, msg),
            kind::PICKUP => {
                // The accept call writes driver_assigned too; whichever comes first sets it.
                if order.status == OrderStatus::AcceptedByStore {
                    order.status = OrderStatus::DriverAssigned;
                    order.driver_id = msg.driver_id.clone();
                    self.repo.update_order(&order)?;
                }
                waits.file_wait(waits.wait_row(
                    token()?,
                    &order.order_id,
                    TaskKind::Pickup,
                    msg.driver_id.as_deref(),
                    timeout_ms,
                    seconds_to_ms(msg.heartbeat_s),
                ))?;
                Ok(Followup::Nothing)
            }
            kind::DELIVERY => {
                waits.file_wait(waits.wait_row(
                    token()?,
                    &order.order_id,
                    TaskKind::Delivery,
                    msg.driver_id.as_deref(),
                    timeout_ms,
                    None,
                ))?;
                Ok(Followup::Nothing)
            }
            kind::RELEASE_DRIVER => {
                // The pickup wait lapsed (heartbeat or overall timeout): back to dispatch, that driver
                // excluded.
                let pickup = self
                    .repo
                    .open_task(&order.order_id, TaskKind::Pickup.as_str())?;
                let reason = pickup
                    .as_ref()
                    .map_or(HEARTBEAT_TIMEOUT, pickup_lapse_reason);
                if let Some(pickup) = &pickup {
                    self.repo
                        .close_task(&pickup.token, "timed_out", self.now_ms)?;
                }
                o.driver_released(&mut order, reason)?;
                Ok(Followup::Succeed {
                    token: token()?,
                    output: self.dispatch_deadline(),
                })
            }
            kind::DECLINED => {
                if let Some(task) = self
                    .repo
                    .open_task(&order.order_id, TaskKind::StoreDecision.as_str())?
                {
                    self.repo.close_task(&task.token, "failed", self.now_ms)?;
                }
                o.declined_by_store(&mut order, msg.cause.as_deref())?;
                Ok(Followup::Nothing)
            }
            kind::CANCELLED => {
                let reason = msg.reason.as_deref().unwrap_or("cancelled");
                o.cancelled(&mut order, reason, true)?;
                Ok(Followup::Nothing)
            }
            kind::DELIVERY_OVERDUE => {
                o.delivery_overdue(&mut order)?;
                Ok(Followup::Nothing)
            }
            other => Err(Error::Corrupt(format!(
                "unknown workflow message kind {other:?}"
            ))),
        }
    }

    /// OfferToDriver: the driver dispatch chooses gets the offer (token B stays here).
    fn offer(
        &self,
        order: &mut OrderRecord,
        token: String,
        msg: &WorkflowMessage,
    ) -> Result<Followup> {
        let o = self.outcomes();
        // The previous offer's wait ended when the execution came back here. A decline is normally
        // recorded (closed as failed) when Step Functions accepts it, so an offer still open here expired —
        // unless it is still far from its deadline: then it is a decline whose answer from AWS has not been
        // recorded yet, and it must stay a decline (dispatch never asks a decliner again).
        if let Some(previous) = self
            .repo
            .open_task(&order.order_id, TaskKind::Offer.as_str())?
        {
            let declined = previous
                .timeout_at_ms
                .is_some_and(|t| t - self.now_ms > EXPIRY_SLACK_MS);
            let state = if declined { "failed" } else { "timed_out" };
            self.repo.close_task(&previous.token, state, self.now_ms)?;
            if !declined {
                o.offer_withdrawn(&previous, "expired")?;
            }
        }
        // The decision call writes accepted_by_store too; whichever comes first sets it.
        o.accepted_by_store(order)?;
        let deadline = msg
            .dispatch_deadline_ms
            .filter(|d| d.is_finite())
            .map(|d| d as i64);
        if is_final(order.status) || deadline.is_some_and(|d| self.now_ms >= d) {
            return Ok(Followup::Fail {
                token,
                error: errors::DISPATCH_WINDOW_CLOSED,
                cause: "nobody accepted within the dispatch window".into(),
            });
        }
        let expires_in_ms =
            seconds_to_ms(msg.timeout_s).unwrap_or(self.timing.offer_timeout_s * 1000);
        let offers = self.outcomes_at(self.entered_ms(msg));
        match offers.offer_to_next_driver(order, token.clone(), expires_in_ms)? {
            Some(_) => Ok(Followup::Nothing),
            None => Ok(Followup::Fail {
                token,
                error: errors::NO_DRIVER_AVAILABLE,
                cause: "no available driver".into(),
            }),
        }
    }

    /// Step Functions accepted `SendTaskSuccess` for `task`: record what the workflow did.
    pub fn on_success(&self, task: &TaskRow) -> Result<()> {
        self.repo
            .close_task(&task.token, "succeeded", self.now_ms)?;
        let o = self.outcomes();
        let mut order = o.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => o.accepted_by_store(&mut order),
            Some(TaskKind::Offer) => {
                let driver_id = task
                    .driver_id
                    .as_deref()
                    .ok_or_else(|| Error::Corrupt("offer task without driver".into()))?;
                o.driver_assigned(&mut order, driver_id)
            }
            Some(TaskKind::Pickup) => o.picked_up(&mut order, task.driver_id.as_deref()),
            Some(TaskKind::Delivery) => o.delivered(&mut order),
            None => Err(Error::Corrupt(format!("unknown task kind {}", task.kind))),
        }
    }

    /// Step Functions accepted `SendTaskFailure` for `task`.
    pub fn on_failure(&self, task: &TaskRow, cause: &str) -> Result<()> {
        self.repo.close_task(&task.token, "failed", self.now_ms)?;
        if TaskKind::parse(&task.kind) == Some(TaskKind::StoreDecision) {
            // Written here rather than from the execution's Declined message: moto drops a failure's Cause.
            let o = self.outcomes();
            let mut order = o.order(&task.order_id)?;
            o.declined_by_store(&mut order, Some(cause))?;
        }
        Ok(())
    }

    /// A token Step Functions refused as closed: it timed out (or was used) there, so close it here too.
    pub fn on_refused(&self, task: &TaskRow) -> Result<()> {
        self.repo
            .close_task(&task.token, "timed_out", self.now_ms)?;
        Ok(())
    }
}
