//! The geofence engine: raw fixes in, geofence events out.
//!
//! Per fix: [`Cleaner`] (validate, order, quarantine, motion) → target distance/ETA ([`EtaTracker`]) →
//! the fences that could contain the fix (from the [`FenceIndex`]) plus those with live state → each
//! fence's [`FenceState`] hysteresis. Events come out in that order: `approaching`/`eta` for the target,
//! then fence transitions in fence-slot order.
//!
//! [`Lookup::LinearScan`] evaluates every fence on every fix instead of asking the index: the same
//! semantics with no index, used as the benchmark baseline and as the oracle in property tests.

mod arrival;
mod config;
mod fences;
mod hysteresis;
mod slot_map;

pub use config::EngineConfig;

use crate::clean::{CleanFix, Cleaner, FixStatus, Motion};
use crate::error::Error;
use crate::eta::{EtaTracker, TargetProgress};
use crate::event::GeofenceEvent;
use crate::fence::Fence;
use crate::fix::{FixError, LocationFix};
use crate::geodesy::Origin;
use crate::index::FenceIndex;
use arrival::FenceView;
use fences::FenceSet;
use hysteresis::FenceState;
use slot_map::SlotMap;

/// How the engine finds the fences to evaluate for a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lookup {
    /// The R*-tree: cost per fix independent of the number of fences.
    #[default]
    Index,
    /// Every fence, every fix: the baseline.
    LinearScan,
}

pub struct GeofenceEngine {
    config: EngineConfig,
    lookup: Lookup,
    fences: FenceSet,
    index: FenceIndex,
    /// Fences that are inside or have an entry pending; all others are idle and not stored.
    states: SlotMap<FenceState>,
    cleaner: Cleaner,
    eta: EtaTracker,
    /// The target's slot, kept in step with `eta`'s target id so a fix needs no lookup by string.
    target_slot: Option<u32>,
    /// Reused between fixes to avoid an allocation per fix.
    scratch: Vec<u32>,
    /// Heading of the last moving fix: which way a stopped driver was going (see `arrival`).
    moving_heading_deg: Option<f64>,
}

impl GeofenceEngine {
    pub fn new(fences: Vec<Fence>, config: EngineConfig) -> Result<Self, Error> {
        Self::with_lookup(fences, config, Lookup::Index)
    }

    pub fn with_lookup(
        fences: Vec<Fence>,
        config: EngineConfig,
        lookup: Lookup,
    ) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|reason| Error::Config { reason })?;
        let mut set = FenceSet::default();
        let mut caps = Vec::with_capacity(fences.len());
        for fence in fences {
            caps.push(set.add(fence)?);
        }
        let index = match lookup {
            Lookup::Index => FenceIndex::bulk(caps),
            Lookup::LinearScan => FenceIndex::default(),
        };
        Ok(Self {
            cleaner: Cleaner::new(&config),
            config,
            lookup,
            fences: set,
            index,
            states: SlotMap::default(),
            eta: EtaTracker::default(),
            target_slot: None,
            scratch: Vec::new(),
            moving_heading_deg: None,
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn fence_count(&self) -> usize {
        self.fences.len()
    }

    /// Adds a fence, or replaces the one with the same id (its state starts afresh: outside).
    pub fn insert_fence(&mut self, fence: Fence) -> Result<(), Error> {
        fences::validate(&fence)?;
        let id = fence.id.clone();
        let was_target = self.eta.target_id() == Some(id.as_str());
        self.remove_fence(&id);
        let (slot, cap) = self.fences.add(fence)?;
        if self.lookup == Lookup::Index {
            self.index.insert(slot, &cap);
        }
        if was_target {
            self.eta.set_target(Some(id));
            self.target_slot = Some(slot);
        }
        Ok(())
    }

    /// Removes a fence; false if there was none with that id. Removing the target clears the target.
    pub fn remove_fence(&mut self, id: &str) -> bool {
        let Some((slot, cap)) = self.fences.remove(id) else {
            return false;
        };
        if self.lookup == Lookup::Index {
            self.index.remove(slot, &cap);
        }
        self.states.remove(&slot);
        if self.eta.target_id() == Some(id) {
            self.eta.set_target(None);
            self.target_slot = None;
        }
        true
    }

    /// Chooses the fence to report distance, ETA and `approaching` for, and starts a new leg.
    pub fn set_target(&mut self, fence_id: Option<&str>) -> Result<(), Error> {
        let slot = match fence_id {
            Some(id) => Some(self.fences.slot_of(id).ok_or_else(|| Error::Fence {
                id: id.to_string(),
                reason: "no such fence".into(),
            })?),
            None => None,
        };
        self.eta.set_target(fence_id.map(str::to_string));
        self.target_slot = slot;
        Ok(())
    }

    /// Follows this road route ((lat, lon) vertices, e.g. [`crate::eta::Route::polyline`]) for the ETA
    /// of the current leg. Returns false if there is no target or the polyline is unusable.
    pub fn set_route(&mut self, polyline: Vec<(f64, f64)>) -> bool {
        let Some(fence) = self
            .eta
            .target_id()
            .and_then(|id| self.fences.slot_of(id))
            .and_then(|slot| self.fences.get(slot))
        else {
            return false;
        };
        self.eta.set_route(polyline, &fence.fence)
    }

    /// Validates, cleans and evaluates one fix; returns the events it caused, in order.
    /// Rejected input (NaN, out of range, time backwards) → `Err`. Duplicates and quarantined jumps →
    /// `Ok(vec![])` with the status visible through [`GeofenceEngine::last_fix`].
    pub fn process(&mut self, fix: LocationFix) -> Result<Vec<GeofenceEvent>, FixError> {
        let clean = self.cleaner.push(fix)?;
        let mut events = Vec::new();
        if clean.status != FixStatus::Accepted {
            return Ok(events);
        }
        let clean = clean.clone();
        // The fix's trigonometry, computed once by the cleaner for every distance measured from it.
        let origin = match self.cleaner.origin() {
            Some(origin) => *origin,
            None => Origin::new(clean.fix.lat, clean.fix.lon),
        };

        let target = self
            .target_slot
            .and_then(|slot| self.fences.get(slot))
            .map(|s| &s.fence);
        self.eta
            .update(&self.config, target, &clean, &origin, &mut events);

        if clean.motion == Motion::Moving && clean.heading_deg.is_some() {
            self.moving_heading_deg = clean.heading_deg;
        }
        self.collect_candidates(&origin);
        let mut kinds = Vec::new();
        for &slot in &self.scratch {
            let Some(stored) = self.fences.get(slot) else {
                continue;
            };
            let view = FenceView {
                signed_distance_m: origin.signed_distance_m(&stored.fence.shape),
                dwell_s: stored.fence.dwell_s,
                centre: (stored.cap.lat, stored.cap.lon),
                heading_deg: self.moving_heading_deg,
            };
            let state = self.states.entry(slot).or_default();
            state.step(&self.config, &view, &clean, &mut kinds);
            if state.is_idle() {
                self.states.remove(&slot);
            }
            for kind in kinds.drain(..) {
                events.push(GeofenceEvent {
                    kind,
                    fence_id: stored.fence.id.clone(),
                    time_ms: clean.fix.time_ms,
                    distance_m: None,
                    eta_s: None,
                });
            }
        }
        Ok(events)
    }

    /// Fills `scratch` with the slots to evaluate, sorted so events come out in a stable order.
    fn collect_candidates(&mut self, fix: &Origin) {
        self.scratch.clear();
        match self.lookup {
            Lookup::Index => {
                self.index
                    .candidates_at(fix.sphere_ecef_m(), &mut self.scratch);
                self.scratch.extend(self.states.keys().copied());
                self.scratch.sort_unstable();
                self.scratch.dedup();
            }
            Lookup::LinearScan => self
                .scratch
                .extend(self.fences.iter().map(|(slot, _)| slot)),
        }
    }

    /// The latest fix that was not rejected, with its derived speed, motion and status.
    pub fn last_fix(&self) -> Option<&CleanFix> {
        self.cleaner.last()
    }

    /// Whether the engine considers the driver inside the fence (hysteresis state); `None` if unknown id.
    pub fn is_inside(&self, fence_id: &str) -> Option<bool> {
        let slot = self.fences.slot_of(fence_id)?;
        Some(self.states.get(&slot).is_some_and(|s| s.inside))
    }

    /// Distance and ETA to the target as of the last accepted fix.
    pub fn target_progress(&self) -> Option<TargetProgress> {
        self.eta.progress().cloned()
    }
}
