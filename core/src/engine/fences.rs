//! The engine's fences: validation, storage by slot number, lookup by id.
//!
//! Slots are small integers so that the index and the per-fence state can refer to a fence without
//! cloning its id; a removed fence's slot is reused.

use std::collections::HashMap;

use crate::error::Error;
use crate::fence::{Fence, FenceShape};
use crate::geodesy::{Cap, MAX_FENCE_RADIUS_M};

pub(crate) struct Stored {
    pub fence: Fence,
    pub cap: Cap,
}

#[derive(Default)]
pub(crate) struct FenceSet {
    slots: Vec<Option<Stored>>,
    by_id: HashMap<String, u32>,
    free: Vec<u32>,
}

impl FenceSet {
    pub fn get(&self, slot: u32) -> Option<&Stored> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn slot_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Stores a validated fence and returns its slot and cap. Replaces nothing: the caller removes an
    /// existing fence with the same id first.
    pub fn add(&mut self, fence: Fence) -> Result<(u32, Cap), Error> {
        let cap = validate(&fence)?;
        if self.by_id.contains_key(&fence.id) {
            return Err(fence_error(&fence.id, "duplicate fence id"));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => u32::try_from(self.slots.len())
                .map_err(|_| fence_error(&fence.id, "too many fences"))?,
        };
        self.by_id.insert(fence.id.clone(), slot);
        let stored = Some(Stored { fence, cap });
        match self.slots.get_mut(slot as usize) {
            Some(place) => *place = stored,
            None => self.slots.push(stored),
        }
        Ok((slot, cap))
    }

    pub fn remove(&mut self, id: &str) -> Option<(u32, Cap)> {
        let slot = self.by_id.remove(id)?;
        let stored = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some((slot, stored.cap))
    }

    /// All fences with their slots, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Stored)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }
}

fn fence_error(id: &str, reason: &str) -> Error {
    Error::Fence {
        id: id.to_string(),
        reason: reason.to_string(),
    }
}

/// Checks a fence and returns the cap the index will hold for it.
pub(crate) fn validate(fence: &Fence) -> Result<Cap, Error> {
    let err = |reason: &str| fence_error(&fence.id, reason);
    if fence.id.is_empty() {
        return Err(err("the id is empty"));
    }
    for (name, value) in [("dwell_s", fence.dwell_s), ("approach_m", fence.approach_m)] {
        if let Some(v) = value {
            if !v.is_finite() || v < 0.0 {
                return Err(err(&format!("{name} must be a finite number ≥ 0")));
            }
        }
    }
    match &fence.shape {
        FenceShape::Circle { lat, lon, radius_m } => {
            check_position(*lat, *lon).map_err(&err)?;
            if !radius_m.is_finite() || *radius_m <= 0.0 {
                return Err(err("radius_m must be a finite number > 0"));
            }
        }
        FenceShape::Polygon(multi) => {
            if multi.0.is_empty() {
                return Err(err("the multipolygon has no polygons"));
            }
            for polygon in &multi.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    let mut distinct = ring.0.clone();
                    distinct.dedup();
                    if distinct.first() == distinct.last() && distinct.len() > 1 {
                        distinct.pop();
                    }
                    if distinct.len() < 3 {
                        return Err(err("a ring needs at least three distinct positions"));
                    }
                    for c in &ring.0 {
                        check_position(c.y, c.x).map_err(&err)?;
                    }
                }
            }
        }
    }
    let cap = Cap::of(&fence.shape);
    if !cap.radius_m.is_finite() || cap.radius_m > MAX_FENCE_RADIUS_M {
        return Err(err(&format!(
            "the fence is larger than {} km across its radius",
            MAX_FENCE_RADIUS_M / 1000.0
        )));
    }
    Ok(cap)
}

fn check_position(lat: f64, lon: f64) -> Result<(), &'static str> {
    if !lat.is_finite() || !lon.is_finite() {
        return Err("a coordinate is not a finite number");
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err("a latitude is outside -90..=90");
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err("a longitude is outside -180..=180");
    }
    Ok(())
}
