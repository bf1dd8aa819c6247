//! Which requests the fault injector breaks, and how. A decision is a pure function of the run's seed
//! and the request's identity (its idempotency key, or its path) plus how many times that identity has
//! been seen, so the same retries meet the same faults in every run with the same seed.

use std::collections::HashMap;
use std::sync::Mutex;

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Forward normally.
    None,
    /// Answer 503 without forwarding: the server never saw it.
    Unavailable,
    /// Forward, let the server do the work, then answer only after the client has given up.
    TimeoutAfterWork,
    /// Forward, let the server do the work, then cut the connection mid-answer.
    DropAfterWork,
}

pub struct FaultPlan {
    rate: f64,
    seed: u64,
    seen: Mutex<HashMap<String, u64>>,
}

impl FaultPlan {
    /// `rate` must be in 0..=1 (checked by the caller's argument parsing).
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate,
            seed,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Decides the fate of a request identified by `identity` (idempotency key or method + path).
    pub fn decide(&self, identity: &str) -> Fault {
        if self.rate <= 0.0 {
            return Fault::None;
        }
        let attempt = match self.seen.lock() {
            Ok(mut seen) => {
                let n = seen.entry(identity.to_owned()).or_insert(0);
                *n += 1;
                *n
            }
            // A poisoned lock only means another request panicked mid-count: carry on uncounted.
            Err(_) => 0,
        };
        let h =
            splitmix64(self.seed ^ fnv1a(identity.as_bytes()) ^ attempt.wrapping_mul(0x9E37_79B9));
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        if u >= self.rate {
            return Fault::None;
        }
        // Split the faulty share evenly between the three kinds.
        match (u / self.rate * 3.0) as u32 {
            0 => Fault::Unavailable,
            1 => Fault::TimeoutAfterWork,
            _ => Fault::DropAfterWork,
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_zero_never_faults() {
        let plan = FaultPlan::new(0.0, 1);
        assert!((0..1000).all(|i| plan.decide(&format!("k{i}")) == Fault::None));
    }

    #[test]
    fn fault_share_matches_the_rate_and_uses_every_kind() {
        let plan = FaultPlan::new(0.3, 42);
        let decisions: Vec<Fault> = (0..10_000)
            .map(|i| plan.decide(&format!("key-{i}")))
            .collect();
        let faulty = decisions.iter().filter(|f| **f != Fault::None).count();
        assert!((2_700..3_300).contains(&faulty), "{faulty} of 10000");
        for kind in [
            Fault::Unavailable,
            Fault::TimeoutAfterWork,
            Fault::DropAfterWork,
        ] {
            let n = decisions.iter().filter(|f| **f == kind).count();
            assert!((800..1_200).contains(&n), "{kind:?}: {n}");
        }
    }

    #[test]
    fn same_seed_and_attempt_same_fate_and_retries_can_succeed() {
        let a = FaultPlan::new(0.5, 9);
        let b = FaultPlan::new(0.5, 9);
        let fates_a: Vec<Fault> = (0..5).map(|_| a.decide("order-1-pickup")).collect();
        let fates_b: Vec<Fault> = (0..5).map(|_| b.decide("order-1-pickup")).collect();
        assert_eq!(fates_a, fates_b);
        // Each retry is a fresh draw: over many keys, most eventually get through.
        let c = FaultPlan::new(0.5, 9);
        let through = (0..200)
            .filter(|i| (0..10).any(|_| c.decide(&format!("k{i}")) == Fault::None))
            .count();
        assert_eq!(through, 200);
    }
}
