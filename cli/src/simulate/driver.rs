//! One simulated driver: a real `Companion` with its own outbox directory, the car it drives (ground
//! truth) and the phone's noisy view of it. The world loop feeds it one fix per simulated second.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use fencepost_core::companion::{
    Companion, CompanionConfig, CompanionEvent, CompanionListener, ManualClock, TokenError,
    TokenProvider,
};
use fencepost_core::synth::NoiseModel;
use fencepost_core::LocationFix;

use super::error::{Error, Result};
use super::fleet::DriverPlan;
use super::geo::LatLon;
use super::movement::{parked, TruthPoint, SAMPLE_MS};
use super::record::LegKind;

/// Collects the companion's events; the world loop drains them each tick.
#[derive(Default)]
pub struct Inbox(Mutex<Vec<CompanionEvent>>);

impl Inbox {
    pub fn take(&self) -> Vec<CompanionEvent> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl CompanionListener for Inbox {
    fn on_event(&self, event: CompanionEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}

/// The driver's token, as the phone's secure storage would hand it out.
struct FixedToken(String);

impl TokenProvider for FixedToken {
    fn current_token(&self) -> std::result::Result<String, TokenError> {
        Ok(self.0.clone())
    }
    fn refresh_token(&self) -> std::result::Result<String, TokenError> {
        Ok(self.0.clone())
    }
}

/// The job a driver is doing, from the simulator's side.
#[derive(Debug, Clone)]
pub struct Job {
    pub order: usize,
    pub order_id: String,
    pub leg: LegKind,
    /// Index into the order's delivery record legs.
    pub leg_index: usize,
    /// The car has come to rest at the leg's destination (sim ms).
    pub truth_arrival_ms: Option<i64>,
    /// Earliest time for the next pickup scan or delivery confirmation.
    pub next_action_ms: i64,
}

/// A truth point with the phone's noisy fix for it and whether it is the moment of arrival.
struct Step {
    truth: TruthPoint,
    fix: LocationFix,
    arrival: bool,
}

pub struct Driver {
    pub plan: DriverPlan,
    pub token: String,
    pub companion: Companion,
    pub inbox: Arc<Inbox>,
    /// Where the car is standing or heading from (a street node).
    pub node: usize,
    pub pos: LatLon,
    pub job: Option<Job>,
    steps: VecDeque<Step>,
    noise: NoiseModel,
    noise_draws: u64,
    pub offline: bool,
    pub last_fix: Option<LocationFix>,
    /// Fixes handed to the companion (the platform delivers them at the rate the companion asks for).
    pub fixes_fed: u64,
}

impl Driver {
    pub fn new(
        plan: DriverPlan,
        token: String,
        proxy_url: &str,
        storage: PathBuf,
        clock: Arc<ManualClock>,
        start: (usize, LatLon),
    ) -> Result<Self> {
        let mut config = CompanionConfig::new(proxy_url);
        // Simulated time runs ~50× real time: keep real-time waits short so a timed-out request costs
        // seconds of simulated time, not minutes. Retry delays are measured on the simulated clock.
        config.request_timeout_ms = 200;
        config.location_batch_interval_ms = 30_000;
        config.retry_max_ms = 15_000;
        config.offer_poll_interval_ms = 3_000;
        let inbox = Arc::new(Inbox::default());
        let companion = Companion::with_clock(
            config,
            &storage,
            inbox.clone(),
            Arc::new(FixedToken(token.clone())),
            clock,
        )
        .map_err(|e| Error::Backend(format!("opening the companion of {}: {e}", plan.name)))?;
        Ok(Self {
            plan,
            token,
            companion,
            inbox,
            node: start.0,
            pos: start.1,
            job: None,
            steps: VecDeque::new(),
            noise: NoiseModel::urban(),
            noise_draws: 0,
            offline: false,
            last_fix: None,
            fixes_fed: 0,
        })
    }

    /// Replaces what the car will do with `truth` (a drive ending at rest, the last point the arrival),
    /// followed by standing there. The phone's noise runs continuously over both.
    pub fn set_course(&mut self, truth: Vec<TruthPoint>) {
        let Some(last) = truth.last().copied() else {
            return;
        };
        let arrival_index = truth.len() - 1;
        let mut all = truth;
        // Standing long enough for any wait at the store or the door; topped up if it runs out.
        all.extend(parked(
            last.pos,
            last.bearing_deg,
            last.time_ms,
            20 * 60 * 1000,
        ));
        self.load(all, Some(arrival_index));
    }

    /// The car stands where it is (between jobs).
    pub fn stand_still(&mut self) {
        let bearing = self.steps.front().map_or(0.0, |s| s.truth.bearing_deg);
        let start = SAMPLE_MS;
        let points = parked(self.pos, bearing, start - SAMPLE_MS, 30 * 60 * 1000);
        self.load(points, None);
    }

    fn load(&mut self, truth: Vec<TruthPoint>, arrival_index: Option<usize>) {
        let fixes: Vec<LocationFix> = truth
            .iter()
            .map(|t| LocationFix {
                time_ms: t.time_ms,
                lat: t.pos.lat,
                lon: t.pos.lon,
                accuracy_m: None,
                speed_mps: Some(t.speed_mps),
                bearing_deg: Some(t.bearing_deg),
                provider: Default::default(),
                is_mock: false,
            })
            .collect();
        self.noise_draws += 1;
        let noisy = self
            .noise
            .apply(&fixes, self.plan.noise_seed.wrapping_add(self.noise_draws));
        self.steps = truth
            .into_iter()
            .zip(noisy)
            .enumerate()
            .map(|(i, (truth, fix))| Step {
                truth,
                fix,
                arrival: Some(i) == arrival_index,
            })
            .collect();
    }

    /// Advances the car by one sample. The phone gets a fix (stamped `now_ms`) only as often as the
    /// companion's tracking profile asks, as a platform location client would deliver them. Returns the
    /// true position, the fix if one was delivered, and whether the car just came to rest at its
    /// destination.
    pub fn tick(&mut self, now_ms: i64) -> Result<(TruthPoint, Option<LocationFix>, bool)> {
        if self.steps.is_empty() {
            self.stand_still();
        }
        let Some(step) = self.steps.pop_front() else {
            return Err(Error::Backend("a driver ran out of positions".into()));
        };
        self.pos = step.truth.pos;
        let profile = self.companion.tracking_profile();
        let due = self
            .last_fix
            .as_ref()
            .is_none_or(|last| now_ms - last.time_ms >= profile.interval_ms as i64);
        if !profile.active || !due {
            return Ok((step.truth, None, step.arrival));
        }
        let mut fix = step.fix;
        fix.time_ms = now_ms;
        self.last_fix = Some(fix.clone());
        self.fixes_fed += 1;
        // A fix the companion refuses (it validates input) is its business: the run goes on.
        let _ = self.companion.on_location(fix.clone());
        Ok((step.truth, Some(fix), step.arrival))
    }
}
