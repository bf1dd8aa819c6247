//! Keeps the middleware's store (orders, task tokens, party feeds) in step with the Step Functions
//! execution: what each queue message means for the order (`on_message`), and what a task outcome the
//! execution accepted means (`on_success`/`on_failure`). Statuses and feed events are the embedded engine's
//! (`machine.rs`), so both engines look the same through the HTTP API. Every function runs inside the
//! caller's transaction and is safe to repeat (SQS may deliver a message twice).

use serde::Deserialize;
use serde_json::json;

use crate::clock::from_ms;
use crate::db::{Repository, TaskRow};
use crate::error::{Error, Result};
use crate::feed::{DRIVER, STORE};
use crate::geometry::haversine_m;
use crate::ids;
use crate::model::{DeclinedReason, OrderRecord, OrderStatus};
use crate::pos::{self, PosVerdict};
use crate::workflow::machine::{offer_of, Timing};
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

fn seconds_to_ms(s: Option<f64>) -> Option<i64> {
    s.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).round() as i64)
}

fn is_final(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Cancelled | OrderStatus::DeclinedByStore | OrderStatus::Delivered
    )
}

impl Projector<'_> {
    fn event(
        &self,
        audience: &str,
        party: &str,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<()> {
        self.repo
            .append_event(audience, party, kind, &data.to_string(), self.now_ms)?;
        Ok(())
    }

    fn task_row(
        &self,
        token: &str,
        order_id: &str,
        kind: TaskKind,
        driver_id: Option<String>,
    ) -> TaskRow {
        TaskRow {
            token: token.to_string(),
            order_id: order_id.to_string(),
            kind: kind.as_str().to_string(),
            state: "open".to_string(),
            driver_id,
            offer_id: None,
            created_at_ms: self.now_ms,
            timeout_at_ms: None,
            heartbeat_seconds: None,
            heartbeat_due_at_ms: None,
        }
    }

    /// The dispatch deadline handed to the execution when dispatch (re)starts.
    pub fn dispatch_deadline(&self) -> serde_json::Value {
        json!({ "dispatchDeadlineMs": self.now_ms + self.timing.dispatch_window_s * 1000 })
    }

    /// The POS check as the order is placed (the same check the embedded engine makes). A refused order is
    /// cancelled here, so the customer's answer already says so; the reason is returned for the execution.
    pub fn pos_check(&self, order_id: &str) -> Result<Option<&'static str>> {
        let mut order = self.order(order_id)?;
        let store = self
            .repo
            .store(&order.store_id)?
            .ok_or_else(|| Error::Corrupt("order names unknown store".into()))?;
        let others = self
            .repo
            .count_orders(&store.store_id, &OrderStatus::ACTIVE_AT_STORE)?
            .saturating_sub(1);
        let reason = match pos::check(&store, others, from_ms(self.now_ms)) {
            PosVerdict::Open => return Ok(None),
            PosVerdict::Closed => "store_closed",
            PosVerdict::AtCapacity => "store_at_capacity",
        };
        order.status = OrderStatus::Cancelled;
        order.cancel_reason = Some(reason.to_string());
        self.repo.update_order(&order)?;
        Ok(Some(reason))
    }

    /// The execution could not be started: the order must not wait forever for a workflow that never ran.
    pub fn start_failed(&self, order_id: &str) -> Result<()> {
        let mut order = self.order(order_id)?;
        if !is_final(order.status) {
            order.status = OrderStatus::Cancelled;
            order.cancel_reason = Some("workflow_unavailable".into());
            self.repo.update_order(&order)?;
        }
        Ok(())
    }

    fn order(&self, order_id: &str) -> Result<OrderRecord> {
        self.repo
            .order(order_id)?
            .ok_or_else(|| Error::Corrupt(format!("workflow names unknown order {order_id}")))
    }

    /// Applies one queue message. Unknown orders are an error (the message is kept and retried, then
    /// left to the queue's redrive policy); a repeated wait message is recognised by its token.
    pub fn on_message(&self, msg: &WorkflowMessage) -> Result<Followup> {
        let mut order = self.order(&msg.order_id)?;
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
        match msg.kind.as_str() {
            kind::DECISION => {
                let mut task =
                    self.task_row(&token()?, &order.order_id, TaskKind::StoreDecision, None);
                task.timeout_at_ms = seconds_to_ms(msg.timeout_s).map(|t| self.now_ms + t);
                self.repo.insert_task(&task)?;
                self.event(
                    STORE,
                    &order.store_id,
                    "order_placed",
                    json!({
                        "orderId": order.order_id, "storeId": order.store_id, "taskToken": task.token,
                        "pies": order.pies, "dispatchEstimatedAt": order.dispatch_estimated_at,
                        "decisionDeadline": task.timeout_at_ms.map(from_ms),
                    }),
                )?;
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
                let mut task = self.task_row(
                    &token()?,
                    &order.order_id,
                    TaskKind::Pickup,
                    msg.driver_id.clone(),
                );
                task.timeout_at_ms = seconds_to_ms(msg.timeout_s).map(|t| self.now_ms + t);
                task.heartbeat_seconds = msg.heartbeat_s.map(|s| s.round() as i64);
                task.heartbeat_due_at_ms = seconds_to_ms(msg.heartbeat_s).map(|t| self.now_ms + t);
                self.repo.insert_task(&task)?;
                Ok(Followup::Nothing)
            }
            kind::DELIVERY => {
                let mut task = self.task_row(
                    &token()?,
                    &order.order_id,
                    TaskKind::Delivery,
                    msg.driver_id.clone(),
                );
                task.timeout_at_ms = seconds_to_ms(msg.timeout_s).map(|t| self.now_ms + t);
                self.repo.insert_task(&task)?;
                Ok(Followup::Nothing)
            }
            kind::RELEASE_DRIVER => {
                // The pickup wait lapsed (no heartbeat): back to dispatch, that driver excluded.
                if let Some(pickup) = self
                    .repo
                    .open_task(&order.order_id, TaskKind::Pickup.as_str())?
                {
                    self.repo
                        .close_task(&pickup.token, "timed_out", self.now_ms)?;
                }
                if matches!(
                    order.status,
                    OrderStatus::DriverAssigned | OrderStatus::DriverArrived
                ) {
                    let driver = order.driver_id.take();
                    order.status = OrderStatus::AcceptedByStore;
                    order.driver_eta = None;
                    self.repo.update_order(&order)?;
                    if let Some(driver) = &driver {
                        let data = json!({"orderId": order.order_id, "driverId": driver, "reason": "heartbeat_timeout"});
                        self.event(STORE, &order.store_id, "driver_unassigned", data)?;
                        self.event(
                            DRIVER,
                            driver,
                            "unassigned",
                            json!({"orderId": order.order_id, "reason": "heartbeat_timeout"}),
                        )?;
                    }
                }
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
                if order.status == OrderStatus::Initiated {
                    order.status = OrderStatus::DeclinedByStore;
                    order.declined_reason = msg.cause.as_deref().and_then(declined_reason);
                    self.repo.update_order(&order)?;
                }
                Ok(Followup::Nothing)
            }
            kind::CANCELLED => {
                let reason = msg.reason.clone().unwrap_or_else(|| "cancelled".into());
                self.close_open_tasks(&order.order_id)?;
                if !is_final(order.status) {
                    order.status = OrderStatus::Cancelled;
                    order.cancel_reason = Some(reason.clone());
                    self.repo.update_order(&order)?;
                    self.event(
                        STORE,
                        &order.store_id,
                        "order_cancelled",
                        json!({"orderId": order.order_id, "reason": reason}),
                    )?;
                }
                Ok(Followup::Nothing)
            }
            kind::DELIVERY_OVERDUE => {
                self.close_open_tasks(&order.order_id)?;
                self.event(
                    STORE,
                    &order.store_id,
                    "delivery_overdue",
                    json!({"orderId": order.order_id}),
                )?;
                Ok(Followup::Nothing)
            }
            other => Err(Error::Corrupt(format!(
                "unknown workflow message kind {other:?}"
            ))),
        }
    }

    /// Closes whatever the order still has open (a cancelled or overdue order waits on nothing).
    fn close_open_tasks(&self, order_id: &str) -> Result<()> {
        for k in [
            TaskKind::StoreDecision,
            TaskKind::Offer,
            TaskKind::Pickup,
            TaskKind::Delivery,
        ] {
            if let Some(task) = self.repo.open_task(order_id, k.as_str())? {
                self.repo
                    .close_task(&task.token, "cancelled", self.now_ms)?;
                if let (Some(driver), Some(offer_id)) = (&task.driver_id, &task.offer_id) {
                    let data =
                        json!({"offerId": offer_id, "orderId": order_id, "reason": "cancelled"});
                    self.event(DRIVER, driver, "offer_withdrawn", data)?;
                }
            }
        }
        Ok(())
    }

    /// OfferToDriver: the nearest available driver not yet tried gets the offer (token B stays here).
    fn offer(
        &self,
        order: &mut OrderRecord,
        token: String,
        msg: &WorkflowMessage,
    ) -> Result<Followup> {
        // The previous offer's wait ended (declined or expired) when the execution came back here.
        if let Some(previous) = self
            .repo
            .open_task(&order.order_id, TaskKind::Offer.as_str())?
        {
            self.repo
                .close_task(&previous.token, "timed_out", self.now_ms)?;
            if let (Some(driver), Some(offer_id)) = (&previous.driver_id, &previous.offer_id) {
                let data =
                    json!({"offerId": offer_id, "orderId": order.order_id, "reason": "expired"});
                self.event(DRIVER, driver, "offer_withdrawn", data)?;
            }
        }
        // The decision call writes accepted_by_store too; whichever comes first sets it.
        if order.status == OrderStatus::Initiated {
            order.status = OrderStatus::AcceptedByStore;
            self.repo.update_order(order)?;
        }
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
        let store = self
            .repo
            .store(&order.store_id)?
            .ok_or_else(|| Error::Corrupt("order names unknown store".into()))?;
        let tried = self.repo.dispatch_attempts(&order.order_id)?;
        let fresh_since = self.now_ms - self.timing.driver_fresh_s * 1000;
        let nearest = self
            .repo
            .available_drivers(fresh_since)?
            .into_iter()
            .filter(|(id, _)| !tried.contains(id))
            .map(|(id, at)| (haversine_m(at, store.location), id))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, driver_id)) = nearest else {
            return Ok(Followup::Fail {
                token,
                error: errors::NO_DRIVER_AVAILABLE,
                cause: "no available driver".into(),
            });
        };
        let mut task = self.task_row(
            &token,
            &order.order_id,
            TaskKind::Offer,
            Some(driver_id.clone()),
        );
        let offer_id = format!("ofr_{}", ids::nanoid());
        let expires = self.now_ms
            + seconds_to_ms(msg.timeout_s).unwrap_or(self.timing.offer_timeout_s * 1000);
        task.offer_id = Some(offer_id.clone());
        task.timeout_at_ms = Some(expires);
        self.repo.insert_task(&task)?;
        self.repo
            .add_dispatch_attempt(&order.order_id, &driver_id)?;
        let offer = offer_of(order, &store, &offer_id, expires);
        self.event(DRIVER, &driver_id, "offer", serde_json::to_value(offer)?)?;
        Ok(Followup::Nothing)
    }

    /// Step Functions accepted `SendTaskSuccess` for `task`: record what the workflow did.
    pub fn on_success(&self, task: &TaskRow) -> Result<()> {
        self.repo
            .close_task(&task.token, "succeeded", self.now_ms)?;
        let mut order = self.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => {
                if order.status == OrderStatus::Initiated {
                    order.status = OrderStatus::AcceptedByStore;
                    self.repo.update_order(&order)?;
                }
                Ok(())
            }
            Some(TaskKind::Offer) => {
                let driver_id = task
                    .driver_id
                    .clone()
                    .ok_or_else(|| Error::Corrupt("offer task without driver".into()))?;
                if matches!(
                    order.status,
                    OrderStatus::Initiated | OrderStatus::AcceptedByStore
                ) {
                    order.status = OrderStatus::DriverAssigned;
                }
                order.driver_id = Some(driver_id.clone());
                self.repo.update_order(&order)?;
                self.event(
                    STORE,
                    &order.store_id,
                    "driver_assigned",
                    json!({"orderId": order.order_id, "driverId": driver_id}),
                )
            }
            Some(TaskKind::Pickup) => {
                order.status = OrderStatus::OutForDelivery;
                order.driver_eta = None;
                self.repo.update_order(&order)?;
                let data = json!({"orderId": order.order_id, "driverId": task.driver_id, "at": from_ms(self.now_ms)});
                self.event(STORE, &order.store_id, "picked_up", data)
            }
            Some(TaskKind::Delivery) => {
                order.status = OrderStatus::Delivered;
                order.delivered_at = Some(from_ms(self.now_ms));
                self.repo.update_order(&order)?;
                self.event(
                    STORE,
                    &order.store_id,
                    "delivered",
                    json!({"orderId": order.order_id, "at": from_ms(self.now_ms)}),
                )
            }
            None => Err(Error::Corrupt(format!("unknown task kind {}", task.kind))),
        }
    }

    /// Step Functions accepted `SendTaskFailure` for `task`.
    pub fn on_failure(&self, task: &TaskRow, cause: &str) -> Result<()> {
        self.repo.close_task(&task.token, "failed", self.now_ms)?;
        if TaskKind::parse(&task.kind) == Some(TaskKind::StoreDecision) {
            // Written here rather than from the execution's Declined message: moto drops a failure's Cause.
            let mut order = self.order(&task.order_id)?;
            if order.status == OrderStatus::Initiated {
                order.status = OrderStatus::DeclinedByStore;
                order.declined_reason = declined_reason(cause);
                self.repo.update_order(&order)?;
            }
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

fn declined_reason(cause: &str) -> Option<DeclinedReason> {
    match cause {
        "no_capacity" => Some(DeclinedReason::NoCapacity),
        "closing_time" => Some(DeclinedReason::ClosingTime),
        "opening_time" => Some(DeclinedReason::OpeningTime),
        _ => None,
    }
}
