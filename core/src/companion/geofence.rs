//! Geofences scoped to the active dispatch: the store fence (with its approach ring) and the drop-off
//! fence, evaluated by the [`GeofenceEngine`]. The target follows the leg, so ETA and `approaching` are
//! always about where the driver is heading. Nothing outlives the dispatch.

use geo::{LineString, MultiPolygon, Polygon};

use super::config::CompanionConfig;
use super::error::{Error, Result};
use super::evidence::FixFacts;
use super::lifecycle::Leg;
use super::listener::{DispatchOffer, FenceSpec};
use crate::clean::FixStatus;
use crate::engine::{EngineConfig, GeofenceEngine};
use crate::event::GeofenceEvent;
use crate::fence::{Fence, FenceShape};
use crate::fix::{FixError, LocationFix};

pub const STORE_FENCE: &str = "store";
pub const DROPOFF_FENCE: &str = "dropoff";

/// Walk-in pickups: standing inside the store fence this long counts as arrival without a "stopped"
/// vehicle (the phone is in a pocket, moving a little).
const STORE_DWELL_S: f64 = 45.0;

/// What processing one fix told the companion.
pub struct Processed {
    pub events: Vec<GeofenceEvent>,
    pub facts: FixFacts,
    /// The cleaner kept the fix (not a duplicate, not a quarantined jump): it belongs in the trip's track.
    pub accepted: bool,
    pub speed_mps: Option<f64>,
}

pub struct Geofences {
    engine: GeofenceEngine,
    leg: Leg,
}

impl Geofences {
    /// Arms the fences of `offer`, targeting the fence of `leg`.
    pub fn for_dispatch(offer: &DispatchOffer, leg: Leg, config: &CompanionConfig) -> Result<Self> {
        let store_shape = match &offer.store_fence {
            FenceSpec::Circle { radius_m } => FenceShape::Circle {
                lat: offer.store_location.lat,
                lon: offer.store_location.lon,
                radius_m: *radius_m,
            },
            FenceSpec::Polygon { ring } => {
                let line: LineString<f64> = ring.iter().map(|p| (p.lon, p.lat)).collect();
                FenceShape::Polygon(MultiPolygon::new(vec![Polygon::new(line, vec![])]))
            }
        };
        let fences = vec![
            Fence {
                id: STORE_FENCE.to_owned(),
                shape: store_shape,
                dwell_s: Some(STORE_DWELL_S),
                approach_m: Some(config.approach_ring_m),
            },
            Fence {
                id: DROPOFF_FENCE.to_owned(),
                shape: FenceShape::Circle {
                    lat: offer.dropoff.lat,
                    lon: offer.dropoff.lon,
                    radius_m: config.dropoff_radius_m,
                },
                dwell_s: None,
                approach_m: Some(config.approach_ring_m),
            },
        ];
        // The server validated these fences; one the engine still refuses makes the offer unusable.
        let engine = GeofenceEngine::new(fences, EngineConfig::default())
            .map_err(|_| Error::InvalidOffer("the offer's fence geometry is unusable"))?;
        let mut geofences = Self { engine, leg };
        geofences.set_leg(leg)?;
        Ok(geofences)
    }

    pub fn set_leg(&mut self, leg: Leg) -> Result<()> {
        self.leg = leg;
        // Both fences were inserted by `for_dispatch`; the engine only refuses unknown ids.
        self.engine
            .set_target(Some(Self::fence_of(leg)))
            .map_err(|_| Error::InvalidOffer("the target fence is missing"))
    }

    pub fn fence_of(leg: Leg) -> &'static str {
        match leg {
            Leg::Store => STORE_FENCE,
            Leg::Customer => DROPOFF_FENCE,
        }
    }

    pub fn process(&mut self, fix: LocationFix) -> std::result::Result<Processed, FixError> {
        let is_mock = fix.is_mock;
        let events = self.engine.process(fix)?;
        let fence = Self::fence_of(self.leg);
        let inside_fence = self.engine.is_inside(fence);
        let clean = self.engine.last_fix();
        let (facts, accepted, speed_mps) = match clean {
            Some(c) => (
                FixFacts {
                    time_ms: c.fix.time_ms,
                    lat: c.fix.lat,
                    lon: c.fix.lon,
                    accuracy_m: c.fix.accuracy_m,
                    is_mock: is_mock || c.fix.is_mock,
                    quarantined: c.status == FixStatus::Quarantined,
                    inside_fence,
                },
                c.status == FixStatus::Accepted,
                c.speed_mps,
            ),
            // The engine always keeps the fix it just processed; this arm only guards the API.
            None => {
                return Ok(Processed {
                    events,
                    facts: FixFacts {
                        time_ms: 0,
                        lat: 0.0,
                        lon: 0.0,
                        accuracy_m: None,
                        is_mock,
                        quarantined: true,
                        inside_fence: None,
                    },
                    accepted: false,
                    speed_mps: None,
                })
            }
        };
        Ok(Processed {
            events,
            facts,
            accepted,
            speed_mps,
        })
    }

    /// Distance (metres) and ETA (seconds) to the current target, once a fix has been seen.
    pub fn progress(&self) -> Option<(f64, f64)> {
        self.engine
            .target_progress()
            .map(|p| (p.distance_m, p.eta_s))
    }
}
