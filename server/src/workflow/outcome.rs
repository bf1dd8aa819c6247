//! What each step of the order workflow does to the order and to the party feeds, in one place that both
//! engines call: the embedded engine (`machine.rs`) when it runs a state, the Step Functions projector
//! (`stepfunctions/projector.rs`) when the execution reports one. Keeping statuses and feed events here is
//! what stops the two engines from drifting apart behind the same HTTP API.
//!
//! Every function runs inside the caller's transaction and is safe to repeat: SQS may deliver a Step
//! Functions message twice, and a status already past the step is left alone.

use serde_json::json;

use crate::clock::from_ms;
use crate::db::{Repository, TaskRow};
use crate::error::{Error, Result};
use crate::feed::{DRIVER, STORE};
use crate::ids;
use crate::model::{DeclinedReason, Offer, OrderRecord, OrderStatus, Store};
use crate::pos::{self, PosVerdict};
use crate::workflow::dispatch;
use crate::workflow::machine::Timing;
use crate::workflow::TaskKind;

/// Why a driver lost an order they had accepted (the `reason` of `driver_unassigned`/`unassigned`).
pub const HEARTBEAT_TIMEOUT: &str = "heartbeat_timeout";
pub const PICKUP_TIMEOUT: &str = "pickup_timeout";

pub struct Outcomes<'a> {
    pub repo: &'a dyn Repository,
    pub now_ms: i64,
    pub timing: &'a Timing,
}

/// Orders in these statuses wait on nothing: a late message or timeout must not reopen them.
pub fn is_final(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Cancelled
            | OrderStatus::DeclinedByStore
            | OrderStatus::Delivered
            | OrderStatus::DeliveryOverdue
    )
}

/// Which wait of the pickup task lapsed: the one whose deadline came first. (moto reports both as
/// `States.Timeout`, so the Step Functions engine cannot rely on the error name; the deadlines it records
/// are the execution's own.)
pub fn pickup_lapse_reason(task: &TaskRow) -> &'static str {
    match (task.timeout_at_ms, task.heartbeat_due_at_ms) {
        (Some(timeout), Some(heartbeat)) if timeout <= heartbeat => PICKUP_TIMEOUT,
        (Some(_), None) => PICKUP_TIMEOUT,
        _ => HEARTBEAT_TIMEOUT,
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

impl Outcomes<'_> {
    pub fn order(&self, order_id: &str) -> Result<OrderRecord> {
        self.repo
            .order(order_id)?
            .ok_or_else(|| Error::Corrupt(format!("workflow names unknown order {order_id}")))
    }

    pub fn store(&self, store_id: &str) -> Result<Store> {
        self.repo
            .store(store_id)?
            .ok_or_else(|| Error::Corrupt(format!("order names unknown store {store_id}")))
    }

    pub fn event(
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

    /// A wait (a task token) for the order, with its overall timeout and heartbeat period, not yet filed.
    pub fn wait_row(
        &self,
        token: String,
        order_id: &str,
        kind: TaskKind,
        driver_id: Option<&str>,
        timeout_ms: Option<i64>,
        heartbeat_ms: Option<i64>,
    ) -> TaskRow {
        TaskRow {
            token,
            order_id: order_id.to_string(),
            kind: kind.as_str().to_string(),
            state: "open".to_string(),
            driver_id: driver_id.map(str::to_string),
            offer_id: None,
            created_at_ms: self.now_ms,
            timeout_at_ms: timeout_ms.map(|t| self.now_ms + t),
            heartbeat_seconds: heartbeat_ms.map(|h| (h + 999) / 1000),
            heartbeat_due_at_ms: heartbeat_ms.map(|h| self.now_ms + h),
        }
    }

    /// Files a wait (built by `wait_row`).
    pub fn file_wait(&self, task: TaskRow) -> Result<TaskRow> {
        self.repo.insert_task(&task)?;
        Ok(task)
    }

    /// CheckStore, the POS check before the store is notified: the reason to refuse the order, if any.
    pub fn pos_refusal(&self, order: &OrderRecord) -> Result<Option<&'static str>> {
        let store = self.store(&order.store_id)?;
        // The new order is itself `initiated`, so it is not counted against the capacity it asks for.
        let others = self
            .repo
            .count_orders(&store.store_id, &OrderStatus::ACTIVE_AT_STORE)?
            .saturating_sub(1);
        Ok(match pos::check(&store, others, from_ms(self.now_ms)) {
            PosVerdict::Open => None,
            PosVerdict::Closed => Some("store_closed"),
            PosVerdict::AtCapacity => Some("store_at_capacity"),
        })
    }

    /// NotifyStore: the store's feed gets the order with its decision token (A).
    pub fn order_placed(&self, order: &OrderRecord, decision: &TaskRow) -> Result<()> {
        self.event(
            STORE,
            &order.store_id,
            "order_placed",
            json!({
                "orderId": order.order_id, "storeId": order.store_id, "taskToken": decision.token,
                "pies": order.pies, "dispatchEstimatedAt": order.dispatch_estimated_at,
                "decisionDeadline": decision.timeout_at_ms.map(from_ms),
            }),
        )
    }

    /// The store accepted (token A succeeded).
    pub fn accepted_by_store(&self, order: &mut OrderRecord) -> Result<()> {
        if order.status == OrderStatus::Initiated {
            order.status = OrderStatus::AcceptedByStore;
            self.repo.update_order(order)?;
        }
        Ok(())
    }

    /// The store declined (token A failed with `OrderDeclined`); `cause` is the store's reason when known.
    pub fn declined_by_store(&self, order: &mut OrderRecord, cause: Option<&str>) -> Result<()> {
        if order.status == OrderStatus::Initiated {
            order.status = OrderStatus::DeclinedByStore;
            order.declined_reason = cause.and_then(declined_reason);
            self.repo.update_order(order)?;
        }
        Ok(())
    }

    /// A driver accepted an offer (token B succeeded).
    pub fn driver_assigned(&self, order: &mut OrderRecord, driver_id: &str) -> Result<()> {
        if matches!(
            order.status,
            OrderStatus::Initiated | OrderStatus::AcceptedByStore
        ) {
            order.status = OrderStatus::DriverAssigned;
        }
        order.driver_id = Some(driver_id.to_string());
        self.repo.update_order(order)?;
        self.event(
            STORE,
            &order.store_id,
            "driver_assigned",
            json!({"orderId": order.order_id, "driverId": driver_id}),
        )
    }

    /// The driver picked the order up (token C succeeded).
    pub fn picked_up(&self, order: &mut OrderRecord, driver_id: Option<&str>) -> Result<()> {
        order.status = OrderStatus::OutForDelivery;
        order.driver_eta = None;
        self.repo.update_order(order)?;
        self.event(
            STORE,
            &order.store_id,
            "picked_up",
            json!({"orderId": order.order_id, "driverId": driver_id, "at": from_ms(self.now_ms)}),
        )
    }

    /// The driver delivered (token D succeeded).
    pub fn delivered(&self, order: &mut OrderRecord) -> Result<()> {
        order.status = OrderStatus::Delivered;
        order.delivered_at = Some(from_ms(self.now_ms));
        self.repo.update_order(order)?;
        self.event(
            STORE,
            &order.store_id,
            "delivered",
            json!({"orderId": order.order_id, "at": from_ms(self.now_ms)}),
        )
    }

    /// The pickup wait lapsed (heartbeat or overall timeout): the driver loses the order, which goes back to
    /// dispatch. The caller restarts dispatch (the engines keep its deadline differently).
    pub fn driver_released(&self, order: &mut OrderRecord, reason: &str) -> Result<()> {
        if !matches!(
            order.status,
            OrderStatus::DriverAssigned | OrderStatus::DriverArrived
        ) {
            return Ok(());
        }
        let driver = order.driver_id.take();
        order.status = OrderStatus::AcceptedByStore;
        order.driver_eta = None;
        self.repo.update_order(order)?;
        if let Some(driver) = &driver {
            let data = json!({"orderId": order.order_id, "driverId": driver, "reason": reason});
            self.event(STORE, &order.store_id, "driver_unassigned", data)?;
            let data = json!({"orderId": order.order_id, "reason": reason});
            self.event(DRIVER, driver, "unassigned", data)?;
        }
        Ok(())
    }

    /// An offer ended without an answer (`expired`) or was withdrawn (`cancelled`): tell its driver.
    pub fn offer_withdrawn(&self, offer: &TaskRow, reason: &str) -> Result<()> {
        if let (Some(driver), Some(offer_id)) = (&offer.driver_id, &offer.offer_id) {
            let data = json!({"offerId": offer_id, "orderId": offer.order_id, "reason": reason});
            self.event(DRIVER, driver, "offer_withdrawn", data)?;
        }
        Ok(())
    }

    /// Closes whatever the order still waits on (a cancelled or overdue order waits on nothing).
    pub fn close_open_tasks(&self, order_id: &str) -> Result<()> {
        for kind in [
            TaskKind::StoreDecision,
            TaskKind::Offer,
            TaskKind::Pickup,
            TaskKind::Delivery,
        ] {
            if let Some(task) = self.repo.open_task(order_id, kind.as_str())? {
                self.repo
                    .close_task(&task.token, "cancelled", self.now_ms)?;
                self.offer_withdrawn(&task, "cancelled")?;
            }
        }
        Ok(())
    }

    /// The order ends as `cancelled` with `reason`; the store is told unless it never saw the order.
    pub fn cancelled(&self, order: &mut OrderRecord, reason: &str, tell_store: bool) -> Result<()> {
        self.close_open_tasks(&order.order_id)?;
        if is_final(order.status) {
            return Ok(());
        }
        order.status = OrderStatus::Cancelled;
        order.cancel_reason = Some(reason.to_string());
        self.repo.update_order(order)?;
        let data = json!({"orderId": order.order_id, "reason": reason});
        if tell_store {
            self.event(STORE, &order.store_id, "order_cancelled", data.clone())?;
        }
        // A driver on the way hears it at once (the companion ends the dispatch on this event).
        if let Some(driver) = &order.driver_id {
            self.event(DRIVER, driver, "order_cancelled", data)?;
        }
        Ok(())
    }

    /// The delivery wait lapsed (token D timed out): the order ends as `delivery_overdue`, the store is told
    /// to follow it up, and the driver is free for new offers.
    pub fn delivery_overdue(&self, order: &mut OrderRecord) -> Result<()> {
        self.close_open_tasks(&order.order_id)?;
        if order.status != OrderStatus::OutForDelivery {
            return Ok(());
        }
        order.status = OrderStatus::DeliveryOverdue;
        self.repo.update_order(order)?;
        let data = json!({"orderId": order.order_id, "driverId": order.driver_id});
        self.event(STORE, &order.store_id, "delivery_overdue", data)?;
        if let Some(driver) = &order.driver_id {
            let data = json!({"orderId": order.order_id});
            self.event(DRIVER, driver, "delivery_overdue", data)?;
        }
        Ok(())
    }

    /// OfferToDriver: files offer task `token` for the driver dispatch chooses (see `dispatch.rs`), expiring
    /// `expires_in_ms` from now, and sends the driver the offer. `None` when nobody can be asked now.
    pub fn offer_to_next_driver(
        &self,
        order: &OrderRecord,
        token: String,
        expires_in_ms: i64,
    ) -> Result<Option<TaskRow>> {
        let store = self.store(&order.store_id)?;
        let fresh_since = self.now_ms - self.timing.driver_fresh_s * 1000;
        let Some(driver_id) = dispatch::choose_driver(self.repo, order, &store, fresh_since)?
        else {
            return Ok(None);
        };
        let offer_id = format!("ofr_{}", ids::nanoid());
        let task = self.file_wait(TaskRow {
            offer_id: Some(offer_id.clone()),
            ..self.wait_row(
                token,
                &order.order_id,
                TaskKind::Offer,
                Some(&driver_id),
                Some(expires_in_ms),
                None,
            )
        })?;
        self.repo
            .add_dispatch_attempt(&order.order_id, &driver_id)?;
        let offer = offer_of(order, &store, &offer_id, self.now_ms + expires_in_ms);
        self.event(DRIVER, &driver_id, "offer", serde_json::to_value(offer)?)?;
        Ok(Some(task))
    }
}

/// The offer a driver sees (in the `offer` event and `GET /driver/offers`): never the task token.
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
