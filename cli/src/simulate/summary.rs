//! The end-of-run summary: one struct, printed as a table for people or as JSON for scripts.

use std::fmt::Write;

use serde::Serialize;

use super::metrics::{DetectionSummary, EtaSummary};

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    /// Digest of the world the seed built (see `Fleet::fingerprint`).
    pub world: String,
    pub drivers: usize,
    pub backend: String,
    pub fault_rate: f64,
    /// Simulated time covered, and the wall-clock time it took.
    pub simulated_s: f64,
    pub wall_s: f64,
    pub orders: OrderCounts,
    pub store_arrival: DetectionSummary,
    pub customer_arrival: DetectionSummary,
    /// Arrivals that fired without a real stop, over both legs.
    pub false_arrivals: usize,
    pub eta: EtaSummary,
    pub requests_per_delivery: Option<f64>,
    pub bytes_sent_per_delivery: Option<f64>,
    pub faults_injected: u64,
    pub requests_refused_offline: u64,
    pub drivers_offline: usize,
    pub outbox_retries: u64,
    /// Messages the phones queued that never took effect on the server. Must be 0.
    pub messages_lost: u64,
    /// Messages the server refused for good (a 4xx no retry can fix): not lost, but not applied.
    pub refused_messages: u64,
    /// Side effects the server recorded more than once (pickups, deliveries, arrivals). Must be 0.
    pub duplicated_side_effects: u64,
    /// Legs a driver lost the order on (heartbeat lapse while offline or faulted): left out of the
    /// detection and ETA figures.
    pub legs_handed_over: usize,
    pub route: RouteStats,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OrderCounts {
    pub placed: usize,
    pub accepted_by_store: usize,
    pub picked_up: usize,
    pub delivered: usize,
    pub cancelled: usize,
    /// Still open when the run ended (should be 0).
    pub unfinished: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteStats {
    pub legs: usize,
    pub median_length_m: Option<f64>,
    /// Route length over straight-line distance, median over legs.
    pub median_circuity: Option<f64>,
    pub stops_at_lights: usize,
    /// Stops to give way at junctions without signals.
    pub stops_at_junctions: usize,
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}{unit}"))
}

impl Summary {
    /// Everything a run must guarantee, whatever the faults: nothing lost, nothing doubled, every order
    /// delivered or cancelled by the workflow.
    pub fn invariants_hold(&self) -> bool {
        self.messages_lost == 0 && self.duplicated_side_effects == 0 && self.orders.unfinished == 0
    }

    pub fn rows(&self) -> Vec<(String, String)> {
        let o = &self.orders;
        let mut rows = vec![
            (
                "orders delivered".into(),
                format!("{} of {} placed", o.delivered, o.placed),
            ),
            (
                "orders cancelled / unfinished".into(),
                format!("{} / {}", o.cancelled, o.unfinished),
            ),
            (
                "arrival at store: latency median / p90".into(),
                format!(
                    "{} / {} (n={}, missed {})",
                    opt(self.store_arrival.latency_s.median, " s"),
                    opt(self.store_arrival.latency_s.p90, " s"),
                    self.store_arrival.latency_s.count,
                    self.store_arrival.missed
                ),
            ),
            (
                "arrival at customer: latency median / p90".into(),
                format!(
                    "{} / {} (n={}, missed {})",
                    opt(self.customer_arrival.latency_s.median, " s"),
                    opt(self.customer_arrival.latency_s.p90, " s"),
                    self.customer_arrival.latency_s.count,
                    self.customer_arrival.missed
                ),
            ),
            ("false arrivals".into(), self.false_arrivals.to_string()),
            (
                "ETA error, median absolute".into(),
                format!(
                    "{} (n={})",
                    opt(self.eta.median_abs_error_s, " s"),
                    self.eta.count
                ),
            ),
        ];
        for b in &self.eta.by_remaining {
            rows.push((
                format!("  … with {} to go", b.remaining),
                format!(
                    "{} (bias {}, n={})",
                    opt(b.median_abs_error_s, " s"),
                    opt(b.median_bias_s, " s"),
                    b.count
                ),
            ));
        }
        rows.extend([
            (
                "requests per delivery".into(),
                opt(self.requests_per_delivery, ""),
            ),
            (
                "bytes sent per delivery".into(),
                self.bytes_sent_per_delivery
                    .map_or_else(|| "–".into(), |b| format!("{:.1} KiB", b / 1024.0)),
            ),
            (
                "faults injected / offline refusals".into(),
                format!(
                    "{} / {} ({} drivers went offline)",
                    self.faults_injected, self.requests_refused_offline, self.drivers_offline
                ),
            ),
            ("outbox retries".into(), self.outbox_retries.to_string()),
            (
                "legs lost to reassignment".into(),
                self.legs_handed_over.to_string(),
            ),
            (
                "messages lost (must be 0)".into(),
                self.messages_lost.to_string(),
            ),
            (
                "duplicated side effects (must be 0)".into(),
                self.duplicated_side_effects.to_string(),
            ),
            (
                "route length median / circuity median".into(),
                format!(
                    "{} / {} over {} legs, {} stops at red lights, {} at junctions",
                    opt(self.route.median_length_m, " m"),
                    opt(self.route.median_circuity, ""),
                    self.route.legs,
                    self.route.stops_at_lights,
                    self.route.stops_at_junctions
                ),
            ),
            (
                "simulated / wall time".into(),
                format!("{:.0} s / {:.1} s", self.simulated_s, self.wall_s),
            ),
        ]);
        rows
    }

    pub fn table(&self) -> String {
        let rows = self.rows();
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "fencepost simulate — seed {}, {} drivers, backend {}, faults {:.0} %",
            self.seed,
            self.drivers,
            self.backend,
            self.fault_rate * 100.0
        );
        for (k, v) in rows {
            let _ = writeln!(out, "  {k:<width$}  {v}");
        }
        out
    }
}
