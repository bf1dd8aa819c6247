//! The spatial index: which fences could contain a fix, in O(log n) for any number of fences.
//!
//! Each fence is stored as the axis-aligned box around its bounding [`Cap`] in Earth-centred
//! Cartesian metres (an R*-tree from `rstar`). That space has no seam at ±180° and no pole, so a fence
//! across the antimeridian is one box, not two. A chord is never longer than the arc it spans, so the
//! box around "centre ± radius" contains the whole cap.

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::geodesy::{ecef_m, Cap};

/// Index entries carry the engine's slot number for the fence.
type Entry = GeomWithData<Rectangle<[f64; 3]>, u32>;

#[derive(Default)]
pub struct FenceIndex {
    tree: RTree<Entry>,
}

impl FenceIndex {
    /// Builds the tree in one bulk load (much faster and better balanced than inserting one by one).
    pub fn bulk(caps: impl IntoIterator<Item = (u32, Cap)>) -> Self {
        let entries = caps
            .into_iter()
            .map(|(slot, cap)| entry(slot, &cap))
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn insert(&mut self, slot: u32, cap: &Cap) {
        self.tree.insert(entry(slot, cap));
    }

    pub fn remove(&mut self, slot: u32, cap: &Cap) -> bool {
        self.tree.remove(&entry(slot, cap)).is_some()
    }

    /// Slots of the fences whose bounding box holds the point, in no particular order.
    pub fn candidates(&self, lat: f64, lon: f64, out: &mut Vec<u32>) {
        self.candidates_at(ecef_m(lat, lon), out);
    }

    /// [`FenceIndex::candidates`] for a point already in the index's space ([`ecef_m`]).
    pub fn candidates_at(&self, p: [f64; 3], out: &mut Vec<u32>) {
        let envelope = AABB::from_point(p);
        out.extend(
            self.tree
                .locate_in_envelope_intersecting(&envelope)
                .map(|e| e.data),
        );
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }
}

fn entry(slot: u32, cap: &Cap) -> Entry {
    let c = ecef_m(cap.lat, cap.lon);
    let r = cap.radius_m;
    let rect = Rectangle::from_corners(
        [c[0] - r, c[1] - r, c[2] - r],
        [c[0] + r, c[1] + r, c[2] + r],
    );
    GeomWithData::new(rect, slot)
}
