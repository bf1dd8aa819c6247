//! The run itself: one loop over simulated seconds. Each tick moves the server's test clock and the
//! phones' clock one second, lets customers order, stores decide and hand out pickup codes, drives every
//! car one sample and hands its phone the fix, and reacts to what each companion reports.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fencepost_core::companion::{CompanionEvent, Leg, ManualClock, Phase};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::sync::mpsc;

use super::api::{Api, FeedEvent};
use super::driver::{Driver, Job};
use super::error::{Error, Result};
use super::fleet::Fleet;
use super::geo::LatLon;
use super::movement::{drive, TruthPoint};
use super::proxy::Proxy;
use super::record::{DeliveryRecord, LegKind, LegRecord, MapEvent};
use super::routing::fastest_route;
use super::streets::StreetGraph;

/// Store fence radius given to the server (metres).
pub const STORE_RADIUS_M: f64 = 40.0;
/// The simulation gives up on open orders after this much simulated time.
const MAX_SIM_S: i64 = 2 * 3600;
/// Real time per simulated second, at least: lets the companions' worker threads keep pace. The
/// workers wait on the real clock between retries, so while any phone has messages waiting the
/// simulation slows down rather than let simulated minutes pass during one real retry delay.
const TICK_PACE: Duration = Duration::from_millis(5);
const TICK_PACE_BUSY: Duration = Duration::from_millis(20);
/// A driver scans the pickup code this long after stopping at the store at the earliest.
const WALK_IN_MS: i64 = 25_000;
/// Retry a refused scan or delivery confirmation after this long.
const RETRY_ACTION_MS: i64 = 10_000;

pub struct Outcome {
    pub deliveries: Vec<DeliveryRecord>,
    /// Store feed events per (order, event type, driver), as the server recorded them.
    pub feed_counts: HashMap<(String, String, String), usize>,
    pub statuses: HashMap<String, String>,
    pub placed: usize,
    pub pickups_confirmed: Vec<String>,
    pub deliveries_confirmed: Vec<String>,
    /// (order, "store" | "customer") for every `arrived` a companion reported (and so queued).
    pub arrivals_reported: Vec<(String, &'static str)>,
    pub refused_messages: usize,
    pub pending_at_end: u64,
    pub simulated_s: f64,
    pub route_circuity: Vec<f64>,
    pub route_lengths: Vec<f64>,
    pub stops_at_lights: usize,
    pub stops_at_junctions: usize,
}

struct StoreState {
    id: String,
    token: String,
}

struct OrderState {
    id: String,
    record: usize,
    accepted_at_ms: Option<i64>,
}

pub struct World<'a> {
    pub graph: &'a StreetGraph,
    pub fleet: &'a Fleet,
    pub api: Api,
    pub proxy: Proxy,
    pub clock: Arc<ManualClock>,
    pub drivers: Vec<Driver>,
    pub rng: ChaCha8Rng,
    pub progress: indicatif::ProgressBar,
}

impl World<'_> {
    pub async fn run(mut self, start_ms: i64) -> Result<Outcome> {
        let mut stores = Vec::new();
        let (feed_tx, mut feed_rx) = mpsc::unbounded_channel::<FeedEvent>();
        for s in &self.fleet.stores {
            let token = self
                .api
                .ensure_store(&s.id, &s.name, s.pos, STORE_RADIUS_M, 50)
                .await?;
            spawn_feed(self.api.clone(), token.clone(), feed_tx.clone());
            stores.push(StoreState {
                id: s.id.clone(),
                token,
            });
        }
        let customer = self.api.create_customer("sim-customers").await?;
        for d in &mut self.drivers {
            let _ = d.companion.set_available(true);
        }

        let mut out = Outcome {
            deliveries: Vec::new(),
            feed_counts: HashMap::new(),
            statuses: HashMap::new(),
            placed: 0,
            pickups_confirmed: Vec::new(),
            deliveries_confirmed: Vec::new(),
            arrivals_reported: Vec::new(),
            refused_messages: 0,
            pending_at_end: 0,
            simulated_s: 0.0,
            route_circuity: Vec::new(),
            route_lengths: Vec::new(),
            stops_at_lights: 0,
            stops_at_junctions: 0,
        };
        let mut orders: Vec<Option<OrderState>> = Vec::new();
        orders.resize_with(self.fleet.orders.len(), || None);
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut terminal: HashMap<String, String> = HashMap::new();
        let mut now_ms = start_ms;
        self.clock.set(now_ms);
        let mut elapsed_s: i64 = 0;
        let mut prof = [Duration::ZERO; 3];

        while elapsed_s < MAX_SIM_S {
            let tick_started = Instant::now();
            now_ms = self.api.advance_clock(1).await?;
            prof[0] += tick_started.elapsed();
            self.clock.set(now_ms);
            elapsed_s += 1;

            // Customers order.
            for (i, plan) in self.fleet.orders.iter().enumerate() {
                if orders[i].is_some() || plan.placed_at_s > elapsed_s {
                    continue;
                }
                let store = &self.fleet.stores[plan.store];
                let (order_id, status) = self
                    .api
                    .place_order(
                        &customer,
                        &stores[plan.store].id,
                        plan.pies,
                        plan.customer_pos,
                    )
                    .await?;
                out.placed += 1;
                if status == "cancelled" {
                    terminal.insert(order_id.clone(), status.clone());
                }
                out.deliveries.push(DeliveryRecord {
                    order_id: order_id.clone(),
                    store_name: store.name.clone(),
                    store_pos: store.pos,
                    store_radius_m: STORE_RADIUS_M,
                    customer_pos: plan.customer_pos,
                    dropoff_radius_m: 60.0,
                    driver: String::new(),
                    status,
                    legs: Vec::new(),
                    events: Vec::new(),
                });
                by_id.insert(order_id.clone(), i);
                orders[i] = Some(OrderState {
                    id: order_id,
                    record: out.deliveries.len() - 1,
                    accepted_at_ms: None,
                });
                self.progress
                    .set_message(progress_message(&out, &orders, &terminal));
            }

            // Stores read their feeds and decide.
            while let Ok(event) = feed_rx.try_recv() {
                let Some(order_id) = event.data.get("orderId").and_then(Value::as_str) else {
                    continue;
                };
                *out.feed_counts
                    .entry(feed_key(order_id, &event))
                    .or_insert(0) += 1;
                let Some(&i) = by_id.get(order_id) else {
                    continue;
                };
                match event.kind.as_str() {
                    "order_placed" => {
                        let Some(task) = event.data.get("taskToken").and_then(Value::as_str) else {
                            continue;
                        };
                        let store = &stores[self.fleet.orders[i].store];
                        self.api
                            .decide(&store.token, &store.id, order_id, task)
                            .await?;
                        if let Some(o) = orders[i].as_mut() {
                            o.accepted_at_ms = Some(now_ms);
                        }
                        self.progress
                            .set_message(progress_message(&out, &orders, &terminal));
                    }
                    "delivered" | "order_cancelled" => {
                        let status = if event.kind == "delivered" {
                            "delivered"
                        } else {
                            "cancelled"
                        };
                        terminal.insert(order_id.to_owned(), status.to_owned());
                        self.progress
                            .set_message(progress_message(&out, &orders, &terminal));
                    }
                    _ => {}
                }
            }

            // Phones going offline and coming back.
            for d in &mut self.drivers {
                if let Some((from, len)) = d.plan.offline {
                    let should = elapsed_s >= from && elapsed_s < from + len;
                    if should != d.offline {
                        d.offline = should;
                        self.proxy.set_offline(&d.token, should);
                        if !should {
                            // The platform reports connectivity back: send everything now.
                            let _ = d.companion.sync_now();
                        }
                    }
                }
            }

            prof[1] += tick_started.elapsed();
            // Cars move one sample; phones get their fixes; companions report.
            for di in 0..self.drivers.len() {
                let (truth, fix, arrived_now) = self.drivers[di].tick(now_ms)?;
                if let Some(job) = self.drivers[di].job.as_mut() {
                    let rec =
                        &mut out.deliveries[orders[job.order].as_ref().map_or(0, |o| o.record)];
                    if let Some(leg) = rec.legs.get_mut(job.leg_index) {
                        if let Some(fix) = &fix {
                            leg.fixes.push(LatLon::new(fix.lat, fix.lon));
                        }
                        if arrived_now {
                            leg.truth_arrival_ms = Some(now_ms);
                            job.truth_arrival_ms = Some(now_ms);
                            job.next_action_ms = job.next_action_ms.max(now_ms);
                        }
                    }
                }
                let events = self.drivers[di].inbox.take();
                for event in events {
                    self.handle_event(di, event, now_ms, &truth, &mut out, &orders, &by_id)?;
                }
                self.act(di, now_ms, &stores, &mut orders, &mut out).await?;
            }

            prof[2] += tick_started.elapsed();
            if elapsed_s % 5 == 0 {
                // Idle phones poll for offers at their own pace on the real clock; simulated time runs
                // faster, so nudge them as a pull-to-refresh would.
                for d in &self.drivers {
                    if d.job.is_none()
                        && !d.offline
                        && d.companion.state().sync.pending_messages == 0
                    {
                        let _ = d.companion.sync_now();
                    }
                }
            }
            self.progress.set_position(elapsed_s as u64);
            if terminal.len() == self.fleet.orders.len() {
                break;
            }
            let busy = self
                .drivers
                .iter()
                .any(|d| !d.offline && d.companion.state().sync.pending_messages > 0);
            let pace = if busy { TICK_PACE_BUSY } else { TICK_PACE };
            let spent = tick_started.elapsed();
            if spent < pace {
                tokio::time::sleep(pace - spent).await;
            }
        }
        out.simulated_s = elapsed_s as f64;
        if std::env::var_os("FENCEPOST_SIM_PROFILE").is_some() {
            eprintln!("profile: {prof:?}");
            for d in &out.deliveries {
                for l in &d.legs {
                    eprintln!(
                        "{} {} {:?} departed {} truth {:?} detected {:?} len {:.0} fixes {}",
                        d.order_id,
                        l.driver,
                        l.kind,
                        (l.departed_ms - start_ms) / 1000,
                        l.truth_arrival_ms.map(|t| (t - start_ms) / 1000),
                        l.detected_arrival_ms.map(|t| (t - start_ms) / 1000),
                        l.route_length_m,
                        l.fixes.len()
                    );
                }
            }
        }

        // Let the phones drain their outboxes (network back for everyone).
        for d in &mut self.drivers {
            self.proxy.set_offline(&d.token, false);
        }
        let drain_started = Instant::now();
        let drain_deadline = drain_started + Duration::from_secs(20);
        loop {
            let pending: u64 = self
                .drivers
                .iter()
                .map(|d| u64::from(d.companion.state().sync.pending_messages))
                .sum();
            out.pending_at_end = pending;
            if pending == 0 || Instant::now() > drain_deadline {
                break;
            }
            for d in &self.drivers {
                let _ = d.companion.sync_now();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if std::env::var_os("FENCEPOST_SIM_PROFILE").is_some() {
            eprintln!(
                "drain: {:?}, pending {}",
                drain_started.elapsed(),
                out.pending_at_end
            );
        }
        // Last feed events, then the server's word on every order.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while let Ok(event) = feed_rx.try_recv() {
            if let Some(order_id) = event.data.get("orderId").and_then(Value::as_str) {
                *out.feed_counts
                    .entry(feed_key(order_id, &event))
                    .or_insert(0) += 1;
            }
        }
        for (i, o) in orders.iter().enumerate() {
            let Some(o) = o else { continue };
            let store = &stores[self.fleet.orders[i].store];
            let status = self.api.order_status(&store.token, &o.id).await?;
            out.deliveries[o.record].status = status.clone();
            out.statuses.insert(o.id.clone(), status);
        }
        for d in &self.drivers {
            d.companion.shutdown();
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_event(
        &mut self,
        di: usize,
        event: CompanionEvent,
        now_ms: i64,
        truth: &TruthPoint,
        out: &mut Outcome,
        orders: &[Option<OrderState>],
        by_id: &HashMap<String, usize>,
    ) -> Result<()> {
        let fix_pos = self.drivers[di]
            .last_fix
            .as_ref()
            .map_or(truth.pos, |f| LatLon::new(f.lat, f.lon));
        let record_of = |order_id: &str| -> Option<usize> {
            let i = *by_id.get(order_id)?;
            orders[i].as_ref().map(|o| o.record)
        };
        match event {
            CompanionEvent::DispatchOffered { offer } => {
                let driver = &mut self.drivers[di];
                if driver.job.is_some() {
                    return Ok(());
                }
                let Some(&order) = by_id.get(&offer.order_id) else {
                    return Ok(());
                };
                if driver
                    .companion
                    .accept_dispatch(offer.offer_id.clone())
                    .is_err()
                {
                    return Ok(());
                }
                let store_node = self.fleet.stores[self.fleet.orders[order].store].node;
                let record = record_of(&offer.order_id).unwrap_or(0);
                out.deliveries[record].driver = driver.plan.name.clone();
                let leg_index = out.deliveries[record].legs.len();
                let leg = self.start_leg(di, store_node, LegKind::ToStore, now_ms, out)?;
                out.deliveries[record].legs.push(leg);
                self.drivers[di].job = Some(Job {
                    order,
                    order_id: offer.order_id,
                    leg: LegKind::ToStore,
                    leg_index,
                    truth_arrival_ms: None,
                    next_action_ms: now_ms,
                });
            }
            CompanionEvent::Arrived { order_id, leg } => {
                if let Some(r) = record_of(&order_id) {
                    let kind = leg_kind(leg);
                    if let Some(l) = out.deliveries[r]
                        .legs
                        .iter_mut()
                        .rev()
                        .find(|l| l.kind == kind)
                    {
                        l.detected_arrival_ms.get_or_insert(now_ms);
                    }
                    out.deliveries[r].events.push(MapEvent {
                        label: format!("arrived ({})", leg_name(leg)),
                        time_ms: now_ms,
                        pos: fix_pos,
                    });
                }
                out.arrivals_reported.push((order_id, leg_name(leg)));
            }
            CompanionEvent::Approaching { order_id, leg, .. } => {
                if let Some(r) = record_of(&order_id) {
                    out.deliveries[r].events.push(MapEvent {
                        label: format!("approaching ({})", leg_name(leg)),
                        time_ms: now_ms,
                        pos: fix_pos,
                    });
                }
            }
            CompanionEvent::EtaUpdated {
                order_id,
                leg,
                eta_s,
                ..
            } => {
                if let (Some(r), Some(eta)) = (record_of(&order_id), eta_s) {
                    let kind = leg_kind(leg);
                    if let Some(l) = out.deliveries[r]
                        .legs
                        .iter_mut()
                        .rev()
                        .find(|l| l.kind == kind)
                    {
                        if l.truth_arrival_ms.is_none() {
                            l.etas.push((now_ms, eta));
                        }
                    }
                }
            }
            CompanionEvent::PhaseChanged { order_id, phase } => {
                if matches!(phase, Phase::Cancelled | Phase::Expired | Phase::Declined) {
                    let driver = &mut self.drivers[di];
                    if let Some(job) = driver.job.take_if(|j| j.order_id == order_id) {
                        // The order went to someone else (or away): this leg proves nothing about
                        // arrival detection any more.
                        if let Some(r) = record_of(&order_id) {
                            if let Some(l) = out.deliveries[r].legs.get_mut(job.leg_index) {
                                l.abandoned = true;
                            }
                        }
                        driver.stand_still();
                    }
                }
            }
            CompanionEvent::PickupRejected { order_id, .. } => {
                // The server refused the scan (e.g. stale evidence after a long retry): the driver
                // goes back to the store if they had left, and scans again.
                out.pickups_confirmed.retain(|o| o != &order_id);
                let Some(mut job) = self.drivers[di]
                    .job
                    .clone()
                    .filter(|j| j.order_id == order_id)
                else {
                    return Ok(());
                };
                if job.leg == LegKind::ToCustomer {
                    let store_node = self.fleet.stores[self.fleet.orders[job.order].store].node;
                    if let Some(r) = record_of(&order_id) {
                        job.leg_index = out.deliveries[r].legs.len();
                        let leg = self.start_leg(di, store_node, LegKind::ToStore, now_ms, out)?;
                        out.deliveries[r].legs.push(leg);
                    }
                    job.truth_arrival_ms = None;
                }
                job.leg = LegKind::ToStore;
                job.next_action_ms = now_ms + RETRY_ACTION_MS;
                self.drivers[di].job = Some(job);
            }
            CompanionEvent::Error { reason } => {
                if reason.contains("refused") {
                    out.refused_messages += 1;
                }
            }
            CompanionEvent::OfferWithdrawn { .. }
            | CompanionEvent::TrackingProfileChanged { .. }
            | CompanionEvent::SyncStatusChanged { .. } => {}
        }
        Ok(())
    }

    /// Routes driver `di` from where the car is to `to_node` and sets the car going.
    fn start_leg(
        &mut self,
        di: usize,
        to_node: usize,
        kind: LegKind,
        now_ms: i64,
        out: &mut Outcome,
    ) -> Result<LegRecord> {
        let from = self.drivers[di].node;
        let route = fastest_route(self.graph, from, to_node)?;
        let style = self.drivers[di].plan.style;
        let trajectory = drive(self.graph, &route, style, now_ms, &mut self.rng);
        if let Some(c) = route.circuity(self.graph) {
            out.route_circuity.push(c);
        }
        out.route_lengths.push(route.length_m);
        out.stops_at_lights += trajectory.stops_at_lights;
        out.stops_at_junctions += trajectory.stops_at_junctions;
        let truth_path: Vec<LatLon> = route
            .nodes
            .iter()
            .map(|&n| self.graph.nodes[n].pos)
            .collect();
        self.drivers[di].node = to_node;
        self.drivers[di].set_course(trajectory.points);
        Ok(LegRecord {
            kind,
            driver: self.drivers[di].plan.name.clone(),
            truth_path,
            fixes: Vec::new(),
            departed_ms: now_ms,
            truth_arrival_ms: None,
            detected_arrival_ms: None,
            route_length_m: route.length_m,
            stops_at_lights: trajectory.stops_at_lights,
            abandoned: false,
            etas: Vec::new(),
        })
    }

    /// What the driver does by hand: scan the store's code once the food is ready, confirm the
    /// delivery after walking to the door.
    async fn act(
        &mut self,
        di: usize,
        now_ms: i64,
        stores: &[StoreState],
        orders: &mut [Option<OrderState>],
        out: &mut Outcome,
    ) -> Result<()> {
        let Some(job) = self.drivers[di].job.clone() else {
            return Ok(());
        };
        let Some(arrived) = job.truth_arrival_ms else {
            return Ok(());
        };
        if now_ms < job.next_action_ms {
            return Ok(());
        }
        let plan = &self.fleet.orders[job.order];
        let Some(order) = orders[job.order].as_ref() else {
            return Ok(());
        };
        match job.leg {
            LegKind::ToStore => {
                let ready = order
                    .accepted_at_ms
                    .map_or(i64::MAX, |a| a + plan.prep_s * 1000);
                if now_ms < arrived + WALK_IN_MS || now_ms < ready {
                    return Ok(());
                }
                let store = &stores[plan.store];
                let qr = self.api.pickup_qr(&store.token, &job.order_id).await;
                let scanned = qr.and_then(|qr| {
                    self.drivers[di]
                        .companion
                        .confirm_pickup(qr)
                        .map_err(|e| Error::Backend(e.to_string()))
                });
                if scanned.is_err() {
                    if let Some(j) = self.drivers[di].job.as_mut() {
                        j.next_action_ms = now_ms + RETRY_ACTION_MS;
                    }
                    return Ok(());
                }
                out.pickups_confirmed.push(job.order_id.clone());
                let record = order.record;
                let leg_index = out.deliveries[record].legs.len();
                let leg =
                    self.start_leg(di, plan.customer_node, LegKind::ToCustomer, now_ms, out)?;
                out.deliveries[record].legs.push(leg);
                self.drivers[di].job = Some(Job {
                    leg: LegKind::ToCustomer,
                    leg_index,
                    truth_arrival_ms: None,
                    next_action_ms: now_ms,
                    ..job
                });
            }
            LegKind::ToCustomer => {
                if now_ms < arrived + plan.handover_s * 1000 {
                    return Ok(());
                }
                if self.drivers[di].companion.confirm_delivery().is_err() {
                    if let Some(j) = self.drivers[di].job.as_mut() {
                        j.next_action_ms = now_ms + RETRY_ACTION_MS;
                    }
                    return Ok(());
                }
                out.deliveries_confirmed.push(job.order_id.clone());
                self.drivers[di].job = None;
                self.drivers[di].stand_still();
            }
        }
        Ok(())
    }
}

fn spawn_feed(api: Api, token: String, tx: mpsc::UnboundedSender<FeedEvent>) {
    tokio::spawn(async move {
        let mut after = 0;
        // The feed is resumable: reconnect from the last id if the stream ends.
        loop {
            match api
                .store_events(&token, after, Duration::from_secs(3600), &tx)
                .await
            {
                Ok(last) => after = after.max(last),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
            if tx.is_closed() {
                return;
            }
        }
    });
}

/// What makes a feed event one side effect: the order, the event type with its place (the store and
/// the customer each get an arrival), and the driver (an order handed to a second driver legitimately
/// gets a second arrival).
fn feed_key(order_id: &str, event: &FeedEvent) -> (String, String, String) {
    let kind = match event.data.get("place").and_then(Value::as_str) {
        Some(place) => format!("{}:{place}", event.kind),
        None => event.kind.clone(),
    };
    let driver = event
        .data
        .get("driverId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (order_id.to_owned(), kind, driver.to_owned())
}

fn leg_kind(leg: Leg) -> LegKind {
    match leg {
        Leg::Store => LegKind::ToStore,
        Leg::Customer => LegKind::ToCustomer,
    }
}

fn leg_name(leg: Leg) -> &'static str {
    match leg {
        Leg::Store => "store",
        Leg::Customer => "customer",
    }
}

fn progress_message(
    out: &Outcome,
    orders: &[Option<OrderState>],
    terminal: &HashMap<String, String>,
) -> String {
    let accepted = orders
        .iter()
        .flatten()
        .filter(|o| o.accepted_at_ms.is_some())
        .count();
    let delivered = terminal.values().filter(|s| *s == "delivered").count();
    format!(
        "placed {} · accepted {accepted} · picked up {} · delivered {delivered}",
        out.placed,
        out.pickups_confirmed.len(),
    )
}
