//! From what the run recorded to the summary: ground truth against the companions' reports, and the
//! server's own record (its store feed and order statuses) against what the phones believe they sent.

use std::collections::HashMap;

use super::metrics::{self, ArrivalObservation, EtaObservation};
use super::proxy::Traffic;
use super::record::LegKind;
use super::summary::{OrderCounts, RouteStats, Summary};
use super::world::Outcome;

pub struct RunFacts {
    pub seed: u64,
    pub world: String,
    pub drivers: usize,
    pub backend: String,
    pub fault_rate: f64,
    pub wall_s: f64,
    pub traffic: Vec<Traffic>,
    pub drivers_offline: usize,
}

pub fn summarise(out: &Outcome, facts: RunFacts) -> Summary {
    let observe = |kind: LegKind| -> Vec<ArrivalObservation> {
        out.deliveries
            .iter()
            .flat_map(|d| &d.legs)
            .filter(|l| l.kind == kind && !l.abandoned)
            .map(|l| ArrivalObservation {
                truth_ms: l.truth_arrival_ms,
                detected_ms: l.detected_arrival_ms,
            })
            .collect()
    };
    let store_arrival = metrics::detection(&observe(LegKind::ToStore));
    let customer_arrival = metrics::detection(&observe(LegKind::ToCustomer));
    let etas: Vec<EtaObservation> = out
        .deliveries
        .iter()
        .flat_map(|d| &d.legs)
        .filter(|l| !l.abandoned)
        .filter_map(|l| Some((l.truth_arrival_ms?, l)))
        .flat_map(|(arrival, l)| {
            l.etas.iter().map(move |&(at_ms, eta_s)| EtaObservation {
                at_ms,
                eta_s,
                truth_arrival_ms: arrival,
            })
        })
        .collect();

    // Per order: how many times the server announced `kind`, and the worst per-driver repeat.
    let count = |kind: &str| -> HashMap<&str, usize> {
        let mut per_order: HashMap<&str, usize> = HashMap::new();
        for ((o, k, _), n) in &out.feed_counts {
            if k == kind {
                *per_order.entry(o.as_str()).or_insert(0) += n;
            }
        }
        per_order
    };
    let (arrived_store, arrived_customer) = (
        count("driver_arrived:store"),
        count("driver_arrived:customer"),
    );
    let (picked, delivered_feed) = (count("picked_up"), count("delivered"));
    // Server-side duplicates: a side effect the server announced more than once for one order and
    // driver (a pickup or delivery can only happen once per order at all).
    let duplicated: usize = out
        .feed_counts
        .iter()
        .filter(|((_, k, _), _)| k.starts_with("driver_arrived"))
        .map(|(_, n)| n.saturating_sub(1))
        .sum::<usize>()
        + [&picked, &delivered_feed]
            .iter()
            .flat_map(|m| m.values())
            .map(|n| n.saturating_sub(1))
            .sum::<usize>();
    // Lost: what a phone queued and believes done, that never took effect on the server.
    let missing = |confirmed: &[String], server: &HashMap<&str, usize>| {
        let mut ids: Vec<&String> = confirmed.iter().collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .filter(|o| !server.contains_key(o.as_str()))
            .count() as u64
    };
    let arrivals_at = |place: &str| -> Vec<String> {
        out.arrivals_reported
            .iter()
            .filter(|(_, p)| *p == place)
            .map(|(o, _)| o.clone())
            .collect()
    };
    let messages_lost = out.pending_at_end
        + missing(&arrivals_at("store"), &arrived_store)
        + missing(&arrivals_at("customer"), &arrived_customer)
        + missing(&out.pickups_confirmed, &picked)
        + missing(&out.deliveries_confirmed, &delivered_feed);

    let status_count = |s: &str| out.statuses.values().filter(|v| v.as_str() == s).count();
    let delivered = status_count("delivered");
    let cancelled = status_count("cancelled") + status_count("declined_by_store");
    let orders = OrderCounts {
        placed: out.placed,
        accepted_by_store: count("order_placed").len(),
        picked_up: picked.len(),
        delivered,
        cancelled,
        unfinished: out.placed.saturating_sub(delivered + cancelled),
    };
    let requests: u64 = facts.traffic.iter().map(|t| t.requests).sum();
    let bytes: u64 = facts.traffic.iter().map(|t| t.bytes_sent).sum();
    let per_delivery = |v: u64| (delivered > 0).then(|| v as f64 / delivered as f64);
    Summary {
        seed: facts.seed,
        world: facts.world,
        drivers: facts.drivers,
        backend: facts.backend,
        fault_rate: facts.fault_rate,
        simulated_s: out.simulated_s,
        wall_s: facts.wall_s,
        orders,
        false_arrivals: store_arrival.false_arrivals + customer_arrival.false_arrivals,
        store_arrival,
        customer_arrival,
        eta: metrics::eta(&etas),
        requests_per_delivery: per_delivery(requests),
        bytes_sent_per_delivery: per_delivery(bytes),
        faults_injected: facts.traffic.iter().map(|t| t.faults_injected).sum(),
        requests_refused_offline: facts.traffic.iter().map(|t| t.refused_offline).sum(),
        drivers_offline: facts.drivers_offline,
        outbox_retries: facts.traffic.iter().map(|t| t.retries).sum(),
        messages_lost,
        refused_messages: out.refused_messages as u64,
        duplicated_side_effects: duplicated as u64,
        legs_handed_over: out
            .deliveries
            .iter()
            .flat_map(|d| &d.legs)
            .filter(|l| l.abandoned)
            .count(),
        route: RouteStats {
            legs: out.route_lengths.len(),
            median_length_m: metrics::distribution(out.route_lengths.clone()).median,
            median_circuity: metrics::distribution(out.route_circuity.clone()).median,
            stops_at_lights: out.stops_at_lights,
            stops_at_junctions: out.stops_at_junctions,
        },
    }
}
