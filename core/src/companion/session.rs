//! The companion's state and every decision it makes, synchronously and without network: what a fix,
//! a driver action or a server answer does to the dispatch, the fences, the outbox and the tracking
//! profile. The facade holds it behind one mutex; the worker calls back into it with server answers.
//! Methods return the events to emit, so the listener is called after the lock is released.

use serde::{Deserialize, Serialize};

use super::config::CompanionConfig;
use super::error::{Error, Result};
use super::evidence::{self, EvidenceLimits, FixFacts, PickupRefusal};
use super::geofence::{Geofences, DROPOFF_FENCE, STORE_FENCE};
use super::lifecycle::{self, Leg, Phase, Trigger};
use super::listener::{CompanionEvent, DispatchOffer, SyncStatus};
use super::outbox::{Message, MessageKind, Outbox, StoredFix};
use super::schema::OpenReport;
use super::sse::SseEvent;
use super::tracking::{profile_for, TrackingProfile};
use super::wire::{self, ArrivalEvent};
use crate::event::EventKind;
use crate::fix::LocationFix;

const DISPATCH_KEY: &str = "dispatch";
const AVAILABLE_KEY: &str = "available";
/// The id of the last driver-feed event handled, so a reconnect or a restart resumes after it and an
/// old cancellation is never replayed.
const FEED_CURSOR_KEY: &str = "feed_last_event_id";

/// The dispatch being worked on (or the last one, once final). Persisted after every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    pub offer: DispatchOffer,
    pub phase: Phase,
    pub approach_store_sent: bool,
    pub approach_customer_sent: bool,
    /// Pickup scans sent so far (each needs its own idempotency key).
    pub pickup_attempts: u32,
    pub finished_ms: Option<i64>,
}

/// A snapshot for the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanionState {
    pub phase: Phase,
    pub order_id: Option<String>,
    /// The accepted dispatch's offer (store, drop-off), while one is active or just finished.
    pub dispatch: Option<DispatchOffer>,
    pub open_offers: Vec<DispatchOffer>,
    pub distance_m: Option<f64>,
    pub eta_s: Option<f64>,
    pub available: bool,
    pub sync: SyncStatus,
}

pub struct Session {
    pub(crate) outbox: Outbox,
    pub(crate) config: CompanionConfig,
    dispatch: Option<Dispatch>,
    offers: Vec<DispatchOffer>,
    available: bool,
    geo: Option<Geofences>,
    latest: Option<FixFacts>,
    progress: Option<(f64, f64)>,
    speed_mps: Option<f64>,
    profile: TrackingProfile,
    last_batch_ms: i64,
    last_standby_ms: Option<i64>,
    sync: SyncStatus,
}

impl Session {
    /// Opens the storage directory and resumes whatever dispatch was active.
    pub fn open(
        config: CompanionConfig,
        dir: &std::path::Path,
        now_ms: i64,
    ) -> Result<(Self, Vec<CompanionEvent>)> {
        config.validate()?;
        let (outbox, report) = Outbox::open(dir)?;
        let mut events = Vec::new();
        if report != OpenReport::default() {
            events.push(CompanionEvent::Error {
                reason: format!(
                    "the local database was unreadable and has been recreated; {} pending messages were recovered",
                    report.salvaged_messages
                ),
            });
        }
        // An unreadable dispatch record must not make the companion unusable: its queued messages are
        // still sent; only the local phase is lost (the server's assignment list still has the order).
        let dispatch = match outbox.get_state(DISPATCH_KEY)? {
            Some(json) => match serde_json::from_str::<Dispatch>(&json) {
                Ok(d) => Some(d),
                Err(_) => {
                    events.push(CompanionEvent::Error {
                        reason: "the stored dispatch was unreadable and has been dropped"
                            .to_owned(),
                    });
                    None
                }
            },
            None => None,
        };
        let available = outbox.get_state(AVAILABLE_KEY)?.as_deref() == Some("true");
        let mut session = Self {
            outbox,
            config,
            dispatch,
            offers: Vec::new(),
            available,
            geo: None,
            latest: None,
            progress: None,
            speed_mps: None,
            profile: TrackingProfile::OFF,
            last_batch_ms: now_ms,
            last_standby_ms: None,
            sync: SyncStatus {
                pending_messages: 0,
                pending_fixes: 0,
                online: true,
                last_error: None,
            },
        };
        if let Some(d) = &session.dispatch {
            if let Some(leg) = d.phase.leg() {
                session.geo = Some(Geofences::for_dispatch(&d.offer, leg, &session.config)?);
                events.push(CompanionEvent::PhaseChanged {
                    order_id: d.offer.order_id.clone(),
                    phase: d.phase,
                });
            }
        }
        session.refresh_profile(&mut events);
        session.refresh_sync_counts()?;
        Ok((session, events))
    }

    pub fn phase(&self) -> Phase {
        match &self.dispatch {
            Some(d) if !d.phase.is_final() => d.phase,
            _ if !self.offers.is_empty() => Phase::Offered,
            Some(d) => d.phase,
            None => Phase::Idle,
        }
    }

    fn active(&self) -> Option<&Dispatch> {
        self.dispatch.as_ref().filter(|d| d.phase.is_active())
    }

    pub fn state(&self) -> CompanionState {
        let (distance_m, eta_s) = match self.progress {
            Some((d, e)) => (Some(d), Some(e)),
            None => (None, None),
        };
        CompanionState {
            phase: self.phase(),
            order_id: self.dispatch.as_ref().map(|d| d.offer.order_id.clone()),
            dispatch: self.dispatch.as_ref().map(|d| d.offer.clone()),
            open_offers: self.offers.clone(),
            distance_m,
            eta_s,
            available: self.available,
            sync: self.sync.clone(),
        }
    }

    pub fn tracking_profile(&self) -> TrackingProfile {
        self.profile
    }

    pub fn sync_status(&self) -> SyncStatus {
        self.sync.clone()
    }

    pub fn wants_offers(&self) -> bool {
        self.available && self.active().is_none()
    }

    // ---- driver actions ----

    pub fn set_available(&mut self, available: bool) -> Result<Vec<CompanionEvent>> {
        self.available = available;
        self.outbox
            .put_state(AVAILABLE_KEY, if available { "true" } else { "false" })?;
        if !available {
            self.offers.clear();
            self.last_standby_ms = None;
        }
        let mut events = Vec::new();
        self.refresh_profile(&mut events);
        Ok(events)
    }

    pub fn accept(&mut self, offer_id: &str, now_ms: i64) -> Result<Vec<CompanionEvent>> {
        if let Some(d) = self.dispatch.as_ref().filter(|d| !d.phase.is_final()) {
            return Err(Error::InvalidPhase {
                action: "accepting another offer",
                phase: d.phase.name(),
            });
        }
        let offer = self
            .offers
            .iter()
            .find(|o| o.offer_id == offer_id && o.expires_at_ms > now_ms)
            .cloned()
            .ok_or(Error::UnknownOffer)?;
        let phase = lifecycle::next(Phase::Offered, Trigger::Accept)?;
        let geo = Geofences::for_dispatch(&offer, Leg::Store, &self.config)?;
        self.outbox.enqueue(&wire::accept(&offer), now_ms)?;
        let dispatch = Dispatch {
            offer,
            phase,
            approach_store_sent: false,
            approach_customer_sent: false,
            pickup_attempts: 0,
            finished_ms: None,
        };
        self.persist_dispatch(&dispatch)?;
        let mut events = vec![CompanionEvent::PhaseChanged {
            order_id: dispatch.offer.order_id.clone(),
            phase,
        }];
        for other in self.offers.drain(..) {
            if other.offer_id != offer_id {
                events.push(CompanionEvent::OfferWithdrawn {
                    offer_id: other.offer_id,
                });
            }
        }
        self.dispatch = Some(dispatch);
        self.geo = Some(geo);
        self.latest = None;
        self.progress = None;
        self.last_batch_ms = now_ms;
        self.refresh_profile(&mut events);
        self.refresh_sync_counts()?;
        Ok(events)
    }

    pub fn decline(
        &mut self,
        offer_id: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Vec<CompanionEvent>> {
        let index = self
            .offers
            .iter()
            .position(|o| o.offer_id == offer_id)
            .ok_or(Error::UnknownOffer)?;
        let phase = lifecycle::next(Phase::Offered, Trigger::Decline)?;
        let offer = self.offers.remove(index);
        // The reason is the driver's own words; cap it so a paste cannot bloat the outbox.
        let reason: String = reason.chars().take(200).collect();
        self.outbox
            .enqueue(&wire::decline(&offer, &reason), now_ms)?;
        self.refresh_sync_counts()?;
        Ok(vec![CompanionEvent::PhaseChanged {
            order_id: offer.order_id,
            phase,
        }])
    }

    fn limits(&self) -> EvidenceLimits {
        EvidenceLimits {
            max_age_ms: self.config.evidence_max_age_ms,
            max_accuracy_m: self.config.evidence_max_accuracy_m,
        }
    }

    pub fn confirm_pickup(&mut self, scanned: &str, now_ms: i64) -> Result<Vec<CompanionEvent>> {
        let d = self.dispatch.as_ref().ok_or(Error::InvalidPhase {
            action: "confirming pickup",
            phase: Phase::Idle.name(),
        })?;
        lifecycle::next(d.phase, Trigger::Pickup)?;
        let order_id = d.offer.order_id.clone();
        let attempt = d.pickup_attempts + 1;
        let evidence = evidence::check_pickup(
            scanned,
            &order_id,
            self.latest.as_ref(),
            now_ms,
            self.limits(),
        )
        .map_err(Error::Pickup)?;
        self.seal(&order_id, now_ms)?;
        self.outbox.enqueue(
            &wire::pickup(&order_id, scanned, &evidence, attempt),
            now_ms,
        )?;
        let mut events = Vec::new();
        self.update_dispatch(&mut events, |d| d.pickup_attempts = attempt)?;
        self.transition(Trigger::Pickup, now_ms, &mut events)?;
        self.refresh_sync_counts()?;
        Ok(events)
    }

    pub fn confirm_delivery(&mut self, now_ms: i64) -> Result<Vec<CompanionEvent>> {
        let d = self.dispatch.as_ref().ok_or(Error::InvalidPhase {
            action: "confirming delivery",
            phase: Phase::Idle.name(),
        })?;
        lifecycle::next(d.phase, Trigger::Delivered)?;
        let order_id = d.offer.order_id.clone();
        let evidence = evidence::check_fix(self.latest.as_ref(), now_ms, self.limits())
            .map_err(Error::Pickup)?;
        self.seal_all(&order_id, now_ms)?;
        self.outbox
            .enqueue(&wire::delivered(&order_id, &evidence), now_ms)?;
        let mut events = Vec::new();
        self.transition(Trigger::Delivered, now_ms, &mut events)?;
        self.refresh_sync_counts()?;
        Ok(events)
    }

    // ---- fixes ----

    /// Returns the events and whether the worker has something new to send.
    pub fn on_location(
        &mut self,
        fix: LocationFix,
        now_ms: i64,
    ) -> Result<(Vec<CompanionEvent>, bool)> {
        let mut events = Vec::new();
        let Some(d) = self.active() else {
            return self.on_standby_fix(fix, now_ms);
        };
        let order_id = d.offer.order_id.clone();
        let leg = d.phase.leg().unwrap_or(Leg::Store);
        let geo = self.geo.as_mut().ok_or(Error::Corrupt {
            what: "geofences of the active dispatch",
        })?;
        let processed = geo.process(fix)?;
        let progress = geo.progress();
        self.latest = Some(processed.facts.clone());
        if processed.speed_mps.is_some() {
            self.speed_mps = processed.speed_mps;
        }
        self.progress = progress;
        self.transition(Trigger::Fix, now_ms, &mut events)?;
        if processed.accepted {
            let f = &processed.facts;
            self.outbox.add_fix(
                &order_id,
                StoredFix {
                    time_ms: f.time_ms,
                    lat: f.lat,
                    lon: f.lon,
                    accuracy_m: f.accuracy_m,
                },
                self.config.max_pending_fixes,
            )?;
        }
        let mut wake = false;
        let target = Geofences::fence_of(leg);
        for event in processed.events {
            match (event.kind, event.fence_id.as_str()) {
                (EventKind::Eta, id) if id == target => {
                    if let Some(distance_m) = event.distance_m {
                        events.push(CompanionEvent::EtaUpdated {
                            order_id: order_id.clone(),
                            leg,
                            distance_m,
                            eta_s: event.eta_s,
                        });
                    }
                }
                (EventKind::Approaching, id) if id == target => {
                    wake |= self.report_approach(&order_id, leg, &event, now_ms, &mut events)?;
                }
                (EventKind::Arrived, STORE_FENCE) if leg == Leg::Store => {
                    wake |= self.report_arrival(
                        &order_id,
                        Leg::Store,
                        event.time_ms,
                        now_ms,
                        &mut events,
                    )?;
                }
                (EventKind::Arrived, DROPOFF_FENCE) if leg == Leg::Customer => {
                    wake |= self.report_arrival(
                        &order_id,
                        Leg::Customer,
                        event.time_ms,
                        now_ms,
                        &mut events,
                    )?;
                }
                _ => {}
            }
        }
        wake |= self.seal_if_due(&order_id, now_ms)?;
        self.refresh_profile(&mut events);
        self.refresh_sync_counts()?;
        Ok((events, wake))
    }

    /// Without a dispatch only an available driver's position is reported (the server offers to drivers
    /// it has seen within 120 s), at most once per standby interval, and nothing is kept.
    fn on_standby_fix(
        &mut self,
        fix: LocationFix,
        now_ms: i64,
    ) -> Result<(Vec<CompanionEvent>, bool)> {
        let fix = fix.normalized()?;
        if !self.available {
            return Ok((Vec::new(), false));
        }
        // A little under the interval, so a platform delivering exactly on time is never skipped.
        let min_gap = TrackingProfile::STANDBY.interval_ms as i64 * 9 / 10;
        if self.last_standby_ms.is_some_and(|t| now_ms - t < min_gap) {
            return Ok((Vec::new(), false));
        }
        self.last_standby_ms = Some(now_ms);
        let stored = StoredFix {
            time_ms: fix.time_ms,
            lat: fix.lat,
            lon: fix.lon,
            accuracy_m: fix.accuracy_m,
        };
        self.outbox
            .enqueue(&wire::availability(&stored, true), now_ms)?;
        self.refresh_sync_counts()?;
        Ok((Vec::new(), true))
    }

    fn report_approach(
        &mut self,
        order_id: &str,
        leg: Leg,
        event: &crate::event::GeofenceEvent,
        now_ms: i64,
        events: &mut Vec<CompanionEvent>,
    ) -> Result<bool> {
        let already = self.dispatch.as_ref().is_some_and(|d| match leg {
            Leg::Store => d.approach_store_sent,
            Leg::Customer => d.approach_customer_sent,
        });
        if already {
            return Ok(false);
        }
        self.seal(order_id, now_ms)?;
        let kind = match leg {
            Leg::Store => ArrivalEvent::ApproachingStore,
            Leg::Customer => ArrivalEvent::ApproachingCustomer,
        };
        self.outbox
            .enqueue(&wire::arrival(order_id, kind, event.time_ms), now_ms)?;
        self.update_dispatch(events, |d| match leg {
            Leg::Store => d.approach_store_sent = true,
            Leg::Customer => d.approach_customer_sent = true,
        })?;
        events.push(CompanionEvent::Approaching {
            order_id: order_id.to_owned(),
            leg,
            distance_m: event.distance_m,
            eta_s: event.eta_s,
        });
        Ok(true)
    }

    fn report_arrival(
        &mut self,
        order_id: &str,
        leg: Leg,
        time_ms: i64,
        now_ms: i64,
        events: &mut Vec<CompanionEvent>,
    ) -> Result<bool> {
        let (trigger, kind) = match leg {
            Leg::Store => (Trigger::ArrivedAtStore, ArrivalEvent::ArrivedAtStore),
            Leg::Customer => (Trigger::ArrivedAtCustomer, ArrivalEvent::ArrivedAtCustomer),
        };
        let phase = self.phase();
        if lifecycle::next(phase, trigger).is_err() {
            // Already arrived (a second visit after a short exit): reported once per leg.
            return Ok(false);
        }
        self.seal(order_id, now_ms)?;
        self.outbox
            .enqueue(&wire::arrival(order_id, kind, time_ms), now_ms)?;
        self.transition(trigger, now_ms, events)?;
        events.push(CompanionEvent::Arrived {
            order_id: order_id.to_owned(),
            leg,
        });
        Ok(true)
    }

    // ---- batching ----

    /// Seals the waiting fixes into one batch message (if any wait).
    fn seal(&mut self, order_id: &str, now_ms: i64) -> Result<bool> {
        let (distance_m, eta_s) = match self.progress {
            Some((d, e)) => (Some(d), Some(e)),
            None => (None, None),
        };
        self.last_batch_ms = now_ms;
        self.outbox.seal_batch(order_id, now_ms, |fixes, first_id| {
            wire::locations(order_id, fixes, first_id, distance_m, eta_s)
        })
    }

    /// Seals every waiting fix, in as many batches as the wire limit needs.
    fn seal_all(&mut self, order_id: &str, now_ms: i64) -> Result<bool> {
        let mut any = false;
        while self.seal(order_id, now_ms)? {
            any = true;
        }
        Ok(any)
    }

    /// Time for the periodic batch, unless the server is unreachable: then fixes keep waiting and
    /// coalesce into fewer, larger batches once it is back.
    fn seal_if_due(&mut self, order_id: &str, now_ms: i64) -> Result<bool> {
        if now_ms - self.last_batch_ms < self.config.location_batch_interval_ms as i64 {
            return Ok(false);
        }
        if self.outbox.head_attempts(order_id)?.is_some_and(|a| a > 0) {
            return Ok(false);
        }
        self.seal(order_id, now_ms)
    }

    /// Called by the worker: the periodic batch even when no fix arrives, and the coalesced backlog once
    /// the order's queue has drained.
    pub fn worker_tick(&mut self, now_ms: i64) -> Result<bool> {
        let Some(order_id) = self.active().map(|d| d.offer.order_id.clone()) else {
            return Ok(false);
        };
        let queue_empty = self.outbox.head_attempts(&order_id)?.is_none();
        let backlog = self.outbox.pending_fixes(Some(&order_id))?
            >= super::outbox::MAX_FIXES_PER_BATCH as u32;
        let sealed = if queue_empty && backlog {
            self.seal_all(&order_id, now_ms)?
        } else {
            self.seal_if_due(&order_id, now_ms)?
        };
        self.refresh_sync_counts()?;
        Ok(sealed)
    }

    /// `sync_now`: seal what waits and make every pending message due.
    pub fn flush(&mut self, now_ms: i64) -> Result<()> {
        if let Some(order_id) = self.active().map(|d| d.offer.order_id.clone()) {
            self.seal_all(&order_id, now_ms)?;
        }
        self.outbox.make_all_due()?;
        self.refresh_sync_counts()
    }

    /// When the worker should next call [`Session::worker_tick`].
    pub fn next_batch_due_ms(&self) -> Option<i64> {
        self.active()
            .map(|_| self.last_batch_ms + self.config.location_batch_interval_ms as i64)
    }

    /// Privacy: once a dispatch has been over for the retention period, its sent messages (the fixes
    /// and evidence positions in them) are deleted; so are those of any earlier order. The running
    /// dispatch keeps its records until it ends.
    pub fn purge(&mut self, now_ms: i64) -> Result<usize> {
        let retention = self.config.fix_retention_ms;
        let cutoff = now_ms.saturating_sub(retention);
        let keep = match &self.dispatch {
            Some(d) if d.finished_ms.is_some_and(|f| f <= cutoff) => None,
            Some(d) => Some(d.offer.order_id.clone()),
            None => None,
        };
        self.outbox.purge_done(cutoff, keep.as_deref())
    }

    // ---- server answers ----

    /// The open offers as the server lists them now.
    pub fn on_offers(&mut self, offers: Vec<DispatchOffer>, now_ms: i64) -> Vec<CompanionEvent> {
        let mut events = Vec::new();
        if !self.wants_offers() {
            return events;
        }
        let fresh: Vec<DispatchOffer> = offers
            .into_iter()
            .filter(|o| o.expires_at_ms > now_ms)
            .collect();
        for old in &self.offers {
            if !fresh.iter().any(|o| o.offer_id == old.offer_id) {
                events.push(CompanionEvent::OfferWithdrawn {
                    offer_id: old.offer_id.clone(),
                });
            }
        }
        for new in &fresh {
            if !self.offers.iter().any(|o| o.offer_id == new.offer_id) {
                events.push(CompanionEvent::DispatchOffered { offer: new.clone() });
            }
        }
        self.offers = fresh;
        events
    }

    pub fn on_sent(&mut self, msg: &Message, now_ms: i64) -> Result<Vec<CompanionEvent>> {
        self.outbox.mark_sent(msg.seq, now_ms)?;
        let mut events = Vec::new();
        self.set_online(true, None, &mut events);
        self.refresh_sync_counts()?;
        Ok(events)
    }

    pub fn on_retry(
        &mut self,
        msg: &Message,
        next_attempt_ms: i64,
        reason: &str,
    ) -> Result<Vec<CompanionEvent>> {
        self.outbox.mark_retry(msg.seq, next_attempt_ms, reason)?;
        let mut events = Vec::new();
        self.set_online(false, Some(reason.to_owned()), &mut events);
        Ok(events)
    }

    /// A 4xx: the message is dropped from the queue and the dispatch reacts to what the server said.
    pub fn on_refused(
        &mut self,
        msg: &Message,
        status: u16,
        code: &str,
        message: &str,
        now_ms: i64,
    ) -> Result<Vec<CompanionEvent>> {
        let reason = format!("{} refused ({status} {code}): {message}", msg.kind.as_str());
        self.outbox.mark_failed(msg.seq, now_ms, &reason)?;
        let mut events = Vec::new();
        self.set_online(true, None, &mut events);
        let is_current = self.is_current(&msg.order_id);
        match (msg.kind, code) {
            (MessageKind::Accept, _) if is_current => {
                // Too late, withdrawn or never ours: the dispatch never started.
                self.end_dispatch(Trigger::Expired, &reason, now_ms, &mut events)?;
            }
            (MessageKind::Pickup, _) if is_current && pickup_refusal(code).is_some() => {
                let refusal = pickup_refusal(code).unwrap_or(PickupRefusal::WrongOrder);
                self.transition(Trigger::PickupRejected, now_ms, &mut events)?;
                events.push(CompanionEvent::PickupRejected {
                    order_id: msg.order_id.clone(),
                    refusal,
                });
            }
            (_, "forbidden" | "order_not_found") if is_current => {
                self.order_lost(&msg.order_id, &reason, now_ms, &mut events)?;
            }
            _ => events.push(CompanionEvent::Error { reason }),
        }
        self.refresh_sync_counts()?;
        Ok(events)
    }

    /// Whether the driver feed should be open: while a dispatch is active, so a cancellation is heard
    /// at once rather than at the next location batch.
    pub fn wants_feed(&self) -> bool {
        self.active().is_some()
    }

    /// Where the driver feed resumes (`Last-Event-ID`); `None` before the first event.
    pub fn feed_cursor(&self) -> Result<Option<String>> {
        self.outbox.get_state(FEED_CURSOR_KEY)
    }

    /// Events from the driver feed (one network chunk's worth). An order-ending event about the current
    /// dispatch ends it exactly as a refused message would; events about other orders only move the
    /// cursor, which is written once per call (one fsync per chunk, not per event, when a first connection
    /// replays a long history; re-handling a replayed event is harmless: the dispatch is already final).
    pub fn on_feed_events(
        &mut self,
        feed: &[SseEvent],
        now_ms: i64,
    ) -> Result<Vec<CompanionEvent>> {
        let mut events = Vec::new();
        for event in feed {
            match wire::parse_order_ended(&event.kind, &event.data) {
                Ok(Some(ended)) => {
                    let reason = format!("the server ended the order: {}", ended.why);
                    self.order_lost(&ended.order_id, &reason, now_ms, &mut events)?;
                }
                Ok(None) => {}
                Err(reason) => events.push(CompanionEvent::Error {
                    reason: reason.to_owned(),
                }),
            }
        }
        // Only ids the server can take back as `Last-Event-ID` are kept.
        let last_id = feed
            .iter()
            .rev()
            .filter_map(|e| e.id.as_deref())
            .find(|id| id.parse::<u64>().is_ok());
        if let Some(id) = last_id {
            self.outbox.put_state(FEED_CURSOR_KEY, id)?;
        }
        self.refresh_sync_counts()?;
        Ok(events)
    }

    fn is_current(&self, order_id: &str) -> bool {
        self.dispatch
            .as_ref()
            .is_some_and(|d| d.offer.order_id == order_id && !d.phase.is_final())
    }

    /// The one place where the server taking an order away (a refused message's 403/404, or a feed
    /// event: cancelled, unassigned, overdue) ends the current dispatch. Other orders are ignored.
    fn order_lost(
        &mut self,
        order_id: &str,
        reason: &str,
        now_ms: i64,
        events: &mut Vec<CompanionEvent>,
    ) -> Result<bool> {
        if !self.is_current(order_id) {
            return Ok(false);
        }
        self.end_dispatch(Trigger::Cancelled, reason, now_ms, events)?;
        Ok(true)
    }

    fn end_dispatch(
        &mut self,
        trigger: Trigger,
        reason: &str,
        now_ms: i64,
        events: &mut Vec<CompanionEvent>,
    ) -> Result<()> {
        if let Some(order_id) = self.dispatch.as_ref().map(|d| d.offer.order_id.clone()) {
            self.outbox.abandon_order(&order_id, now_ms, reason)?;
        }
        self.transition(trigger, now_ms, events)?;
        events.push(CompanionEvent::Error {
            reason: reason.to_owned(),
        });
        Ok(())
    }

    // ---- helpers ----

    fn transition(
        &mut self,
        trigger: Trigger,
        now_ms: i64,
        events: &mut Vec<CompanionEvent>,
    ) -> Result<()> {
        let Some(d) = self.dispatch.as_ref() else {
            return Ok(());
        };
        let from = d.phase;
        let to = lifecycle::next(from, trigger)?;
        if to == from {
            return Ok(());
        }
        let order_id = d.offer.order_id.clone();
        self.update_dispatch(events, |d| {
            d.phase = to;
            if to.is_final() {
                d.finished_ms = Some(now_ms);
            }
        })?;
        events.push(CompanionEvent::PhaseChanged {
            order_id: order_id.clone(),
            phase: to,
        });
        match to.leg() {
            Some(leg) if from.leg() != Some(leg) => {
                if let Some(geo) = self.geo.as_mut() {
                    geo.set_leg(leg)?;
                }
                self.progress = None;
            }
            Some(_) => {}
            None => {
                // The dispatch is over: fences disarmed, tracking off, unsent fixes dropped (a
                // delivered order's fixes were sealed into its last batch first).
                self.geo = None;
                self.latest = None;
                self.progress = None;
                self.outbox.drop_pending_fixes(&order_id)?;
            }
        }
        self.refresh_profile(events);
        Ok(())
    }

    fn update_dispatch(
        &mut self,
        _events: &mut Vec<CompanionEvent>,
        change: impl FnOnce(&mut Dispatch),
    ) -> Result<()> {
        let Some(mut d) = self.dispatch.clone() else {
            return Ok(());
        };
        change(&mut d);
        self.persist_dispatch(&d)?;
        self.dispatch = Some(d);
        Ok(())
    }

    fn persist_dispatch(&mut self, d: &Dispatch) -> Result<()> {
        let json = serde_json::to_string(d).map_err(|_| Error::Corrupt { what: "dispatch" })?;
        self.outbox.put_state(DISPATCH_KEY, &json)
    }

    fn refresh_profile(&mut self, events: &mut Vec<CompanionEvent>) {
        let distance = self.progress.map(|(d, _)| d);
        let profile = profile_for(
            self.phase(),
            self.available,
            distance,
            self.speed_mps,
            &self.config,
        );
        if profile != self.profile {
            self.profile = profile;
            events.push(CompanionEvent::TrackingProfileChanged { profile });
        }
    }

    fn set_online(
        &mut self,
        online: bool,
        error: Option<String>,
        events: &mut Vec<CompanionEvent>,
    ) {
        if self.sync.online != online || self.sync.last_error != error {
            self.sync.online = online;
            self.sync.last_error = error;
            events.push(CompanionEvent::SyncStatusChanged {
                status: self.sync.clone(),
            });
        }
    }

    pub fn refresh_sync_counts(&mut self) -> Result<()> {
        self.sync.pending_messages = self.outbox.pending_messages()?;
        self.sync.pending_fixes = self.outbox.pending_fixes(None)?;
        Ok(())
    }
}

/// The server's evidence and code refusals, as the UI's refusal type.
fn pickup_refusal(code: &str) -> Option<PickupRefusal> {
    Some(match code {
        "invalid_pickup_code" => PickupRefusal::WrongOrder,
        "mock_location" => PickupRefusal::Mocked,
        "stale_evidence" => PickupRefusal::StaleFix { age_s: -1 },
        "inaccurate_evidence" => PickupRefusal::Inaccurate { accuracy_m: None },
        "outside_fence" => PickupRefusal::OutsideFence,
        _ => return None,
    })
}
