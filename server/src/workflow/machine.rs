//! The order state machine, as the embedded engine runs it: each function is one state's entry or one
//! task's outcome, applied inside the caller's transaction. Timers are rows (`timers`, task timeouts), so
//! a restarted server resumes every order where it stopped.
//!
//! ```text
//! start ─POS closed/full─▶ cancelled
//!   └─▶ NotifyStore (decision task, timeout) ─timeout─▶ cancelled(store_timeout)
//!         ├─failure OrderDeclined─▶ declined_by_store
//!         └─success─▶ accepted_by_store ─▶ Dispatch ─offer task (timeout)─▶ next-nearest driver …
//!               └─offer success─▶ driver_assigned ─▶ WaitForPickup (heartbeat) ─lapse─▶ Dispatch
//!                     └─success─▶ out_for_delivery ─▶ WaitForDelivery ─success─▶ delivered
//! ```

use serde_json::json;

use crate::clock::from_ms;
use crate::db::{Repository, TaskRow};
use crate::error::{Error, Result};
use crate::feed::{DRIVER, STORE};
use crate::geometry::haversine_m;
use crate::ids;
use crate::model::{DeclinedReason, Offer, OrderRecord, OrderStatus, Store};
use crate::pos::{self, PosVerdict};
use crate::workflow::TaskKind;

/// Waits and timeouts (seconds). Defaults are documented in docs/http-api.md.
#[derive(Debug, Clone)]
pub struct Timing {
    pub decision_timeout_s: i64,
    pub offer_timeout_s: i64,
    pub dispatch_window_s: i64,
    pub dispatch_retry_s: i64,
    pub pickup_heartbeat_s: i64,
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

impl Machine<'_> {
    fn order(&self, order_id: &str) -> Result<OrderRecord> {
        self.repo
            .order(order_id)?
            .ok_or_else(|| Error::Corrupt(format!("workflow names unknown order {order_id}")))
    }
    fn store(&self, store_id: &str) -> Result<Store> {
        self.repo
            .store(store_id)?
            .ok_or_else(|| Error::Corrupt(format!("order names unknown store {store_id}")))
    }
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
    fn new_task(&self, order_id: &str, kind: TaskKind, driver_id: Option<&str>) -> TaskRow {
        TaskRow {
            // Opaque and unguessable, like Step Functions' tokens.
            token: ids::secret("fpt_"),
            order_id: order_id.to_string(),
            kind: kind.as_str().to_string(),
            state: "open".to_string(),
            driver_id: driver_id.map(str::to_string),
            offer_id: None,
            created_at_ms: self.now_ms,
            timeout_at_ms: None,
            heartbeat_seconds: None,
            heartbeat_due_at_ms: None,
        }
    }
    fn cancel(&self, order: &mut OrderRecord, reason: &str, tell_store: bool) -> Result<()> {
        order.status = OrderStatus::Cancelled;
        order.cancel_reason = Some(reason.to_string());
        self.repo.update_order(order)?;
        self.repo
            .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
        self.repo
            .delete_timers(&order.order_id, TIMER_DISPATCH_DEADLINE)?;
        if tell_store {
            self.event(
                STORE,
                &order.store_id,
                "order_cancelled",
                json!({"orderId": order.order_id, "reason": reason}),
            )?;
        }
        Ok(())
    }

    /// Execution start: the POS check, then NotifyStore (the decision task and the store's `order_placed`).
    pub fn start(&self, order_id: &str) -> Result<()> {
        let mut order = self.order(order_id)?;
        // Starting is idempotent: an execution runs once per order (execution name = orderId).
        if order.status != OrderStatus::Initiated
            || self
                .repo
                .open_task(order_id, TaskKind::StoreDecision.as_str())?
                .is_some()
        {
            return Ok(());
        }
        let store = self.store(&order.store_id)?;
        // The new order is itself `initiated`, so it is not counted against the capacity it asks for.
        let others = self
            .repo
            .count_orders(&store.store_id, &OrderStatus::ACTIVE_AT_STORE)?
            .saturating_sub(1);
        match pos::check(&store, others, from_ms(self.now_ms)) {
            PosVerdict::Closed => return self.cancel(&mut order, "store_closed", false),
            PosVerdict::AtCapacity => return self.cancel(&mut order, "store_at_capacity", false),
            PosVerdict::Open => {}
        }
        let mut task = self.new_task(order_id, TaskKind::StoreDecision, None);
        let deadline = self.now_ms + self.timing.decision_timeout_s * 1000;
        task.timeout_at_ms = Some(deadline);
        self.repo.insert_task(&task)?;
        self.event(
            STORE,
            &store.store_id,
            "order_placed",
            json!({
                "orderId": order.order_id, "storeId": store.store_id, "taskToken": task.token,
                "pies": order.pies, "dispatchEstimatedAt": order.dispatch_estimated_at,
                "decisionDeadline": from_ms(deadline),
            }),
        )
    }

    pub fn on_success(&self, task: &TaskRow) -> Result<()> {
        let mut order = self.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => {
                order.status = OrderStatus::AcceptedByStore;
                self.repo.update_order(&order)?;
                let deadline = self.now_ms + self.timing.dispatch_window_s * 1000;
                self.repo
                    .insert_timer(&order.order_id, TIMER_DISPATCH_DEADLINE, deadline)?;
                self.dispatch(&order)
            }
            Some(TaskKind::Offer) => {
                let driver_id = task
                    .driver_id
                    .clone()
                    .ok_or_else(|| Error::Corrupt("offer task without driver".into()))?;
                order.status = OrderStatus::DriverAssigned;
                order.driver_id = Some(driver_id.clone());
                self.repo.update_order(&order)?;
                self.repo
                    .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
                self.repo
                    .delete_timers(&order.order_id, TIMER_DISPATCH_DEADLINE)?;
                let mut pickup = self.new_task(&order.order_id, TaskKind::Pickup, Some(&driver_id));
                pickup.heartbeat_seconds = Some(self.timing.pickup_heartbeat_s);
                pickup.heartbeat_due_at_ms =
                    Some(self.now_ms + self.timing.pickup_heartbeat_s * 1000);
                self.repo.insert_task(&pickup)?;
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
                let delivery = self.new_task(
                    &order.order_id,
                    TaskKind::Delivery,
                    task.driver_id.as_deref(),
                );
                self.repo.insert_task(&delivery)?;
                self.event(
                    STORE,
                    &order.store_id,
                    "picked_up",
                    json!({"orderId": order.order_id, "driverId": task.driver_id, "at": from_ms(self.now_ms)}),
                )
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

    pub fn on_failure(&self, task: &TaskRow, error: &str, cause: &str) -> Result<()> {
        let mut order = self.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            // The seed's Catch lost its input here; we keep the order and record why.
            Some(TaskKind::StoreDecision) => {
                order.status = OrderStatus::DeclinedByStore;
                order.declined_reason = match cause {
                    "no_capacity" => Some(DeclinedReason::NoCapacity),
                    "closing_time" => Some(DeclinedReason::ClosingTime),
                    "opening_time" => Some(DeclinedReason::OpeningTime),
                    _ => None,
                };
                self.repo.update_order(&order)
            }
            Some(TaskKind::Offer) => self.dispatch(&order),
            _ => {
                tracing::warn!(order_id = %order.order_id, error, "task failure ignored for this state");
                Ok(())
            }
        }
    }

    /// A task's timeout or heartbeat lapsed (`States.Timeout`).
    pub fn on_timeout(&self, task: &TaskRow) -> Result<()> {
        let mut order = self.order(&task.order_id)?;
        match TaskKind::parse(&task.kind) {
            Some(TaskKind::StoreDecision) => self.cancel(&mut order, "store_timeout", true),
            Some(TaskKind::Offer) => {
                if let (Some(driver), Some(offer_id)) = (&task.driver_id, &task.offer_id) {
                    self.event(DRIVER, driver, "offer_withdrawn", json!({"offerId": offer_id, "orderId": order.order_id, "reason": "expired"}))?;
                }
                self.dispatch(&order)
            }
            Some(TaskKind::Pickup) => {
                let driver = order.driver_id.take();
                order.status = OrderStatus::AcceptedByStore;
                order.driver_eta = None;
                self.repo.update_order(&order)?;
                if let Some(driver) = &driver {
                    self.event(STORE, &order.store_id, "driver_unassigned", json!({"orderId": order.order_id, "driverId": driver, "reason": "heartbeat_timeout"}))?;
                    self.event(
                        DRIVER,
                        driver,
                        "unassigned",
                        json!({"orderId": order.order_id, "reason": "heartbeat_timeout"}),
                    )?;
                }
                let deadline = self.now_ms + self.timing.dispatch_window_s * 1000;
                self.repo
                    .insert_timer(&order.order_id, TIMER_DISPATCH_DEADLINE, deadline)?;
                self.dispatch(&order)
            }
            _ => Ok(()),
        }
    }

    pub fn on_timer(&self, order_id: &str, kind: &str) -> Result<()> {
        let mut order = self.order(order_id)?;
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
            TIMER_DISPATCH_DEADLINE => {
                if let Some(offer) = self.repo.open_task(order_id, TaskKind::Offer.as_str())? {
                    self.repo
                        .close_task(&offer.token, "cancelled", self.now_ms)?;
                    if let (Some(driver), Some(offer_id)) = (&offer.driver_id, &offer.offer_id) {
                        self.event(DRIVER, driver, "offer_withdrawn", json!({"offerId": offer_id, "orderId": order_id, "reason": "cancelled"}))?;
                    }
                }
                self.cancel(&mut order, "no_driver", true)
            }
            other => Err(Error::Corrupt(format!("unknown timer kind {other}"))),
        }
    }

    /// Offers the order to the nearest available driver not yet tried; with nobody, retries later.
    fn dispatch(&self, order: &OrderRecord) -> Result<()> {
        let store = self.store(&order.store_id)?;
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
            self.repo
                .delete_timers(&order.order_id, TIMER_DISPATCH_RETRY)?;
            return self.repo.insert_timer(
                &order.order_id,
                TIMER_DISPATCH_RETRY,
                self.now_ms + self.timing.dispatch_retry_s * 1000,
            );
        };
        let mut task = self.new_task(&order.order_id, TaskKind::Offer, Some(&driver_id));
        let offer_id = format!("ofr_{}", ids::nanoid());
        let expires = self.now_ms + self.timing.offer_timeout_s * 1000;
        task.offer_id = Some(offer_id.clone());
        task.timeout_at_ms = Some(expires);
        self.repo.insert_task(&task)?;
        self.repo
            .add_dispatch_attempt(&order.order_id, &driver_id)?;
        let offer = offer_of(order, &store, &offer_id, expires);
        self.event(DRIVER, &driver_id, "offer", serde_json::to_value(offer)?)
    }
}

pub fn offer_of(order: &OrderRecord, store: &Store, offer_id: &str, expires_ms: i64) -> Offer {
    Offer {
        offer_id: offer_id.to_string(),
        order_id: order.order_id.clone(),
        store_id: store.store_id.clone(),
        store_name: store.name.clone(),
        store_location: store.location,
        store_fence: store.fence.clone(),
        delivery_address: order.delivery_address.clone(),
        pies: order.pies.clone(),
        dispatch_estimated_at: order.dispatch_estimated_at,
        expires_at: from_ms(expires_ms),
    }
}
