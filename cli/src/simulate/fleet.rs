//! Who takes part in a run: which stores get orders, where customers live, where drivers start, how they
//! drive and when their phones lose the network. Everything is drawn from one seeded generator, so a
//! given `--seed` always builds the same world.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::geo::{distance_m, LatLon};
use super::movement::DriverStyle;
use super::stores::Store;
use super::streets::StreetGraph;

/// Customers live this far (straight line) from their store: a short urban delivery.
const CUSTOMER_DISTANCE_M: (f64, f64) = (350.0, 1_400.0);
/// Drivers start this far from the stores' centre, cruising the city.
const DRIVER_START_M: f64 = 1_200.0;
/// Share of drivers whose phone goes offline once during the run, and for how long: up to a minute,
/// a tunnel or a dead zone. Longer than the server's 120 s heartbeat and the order is (rightly) handed
/// to another driver, which the simulation handles but which is not what this models.
const OFFLINE_SHARE: f64 = 0.3;
const OFFLINE_S: (i64, i64) = (20, 60);

#[derive(Debug, Clone)]
pub struct DriverPlan {
    pub name: String,
    pub start_node: usize,
    pub style: DriverStyle,
    /// Simulated seconds since the start when the phone loses the network, and for how long.
    pub offline: Option<(i64, i64)>,
    /// Per-driver seed for the GPS noise, so each phone's error is its own.
    pub noise_seed: u64,
}

#[derive(Debug, Clone)]
pub struct OrderPlan {
    pub store: usize,
    pub customer_node: usize,
    pub customer_pos: LatLon,
    /// Simulated seconds since the start when the customer orders.
    pub placed_at_s: i64,
    /// How long the kitchen takes after the store accepts.
    pub prep_s: i64,
    /// From the car stopping at the customer's to the handover (walking to the door).
    pub handover_s: i64,
    pub pies: usize,
}

#[derive(Debug, Clone)]
pub struct Fleet {
    /// The stores that receive orders in this run (a subset of all stores).
    pub stores: Vec<Store>,
    pub drivers: Vec<DriverPlan>,
    pub orders: Vec<OrderPlan>,
}

/// Builds the run's world. `all_stores` must not be empty (the stores loader guarantees it).
pub fn build(
    graph: &StreetGraph,
    all_stores: &[Store],
    drivers: usize,
    orders: usize,
    rng: &mut ChaCha8Rng,
) -> Fleet {
    // A handful of busy stores, as on a real evening: about one store per three orders, at most 8.
    let store_count = orders.div_ceil(3).clamp(1, 8).min(all_stores.len());
    let stores: Vec<Store> = all_stores
        .choose_multiple(rng, store_count)
        .cloned()
        .collect();
    let centre = centroid(stores.iter().map(|s| s.pos));

    let drivers: Vec<DriverPlan> = (0..drivers)
        .map(|i| {
            let start_node = random_node_near(graph, centre, 0.0, DRIVER_START_M, rng);
            let offline = rng.random_bool(OFFLINE_SHARE).then(|| {
                // Somewhere in the first ten minutes, when deliveries are in full swing.
                (
                    rng.random_range(60..600),
                    rng.random_range(OFFLINE_S.0..OFFLINE_S.1),
                )
            });
            DriverPlan {
                name: format!("sim-driver-{}", i + 1),
                start_node,
                style: DriverStyle::random(rng),
                offline,
                noise_seed: rng.random(),
            }
        })
        .collect();

    // Orders arrive over the first minutes, roughly one every 20 s, so drivers do consecutive jobs.
    let mut at = 0;
    let orders: Vec<OrderPlan> = (0..orders)
        .map(|i| {
            let store = i % stores.len();
            let customer_node = random_node_near(
                graph,
                stores[store].pos,
                CUSTOMER_DISTANCE_M.0,
                CUSTOMER_DISTANCE_M.1,
                rng,
            );
            at += rng.random_range(5..35);
            OrderPlan {
                store,
                customer_node,
                customer_pos: graph.nodes[customer_node].pos,
                placed_at_s: at,
                prep_s: rng.random_range(60..240),
                handover_s: rng.random_range(30..90),
                pies: rng.random_range(1..4),
            }
        })
        .collect();
    Fleet {
        stores,
        drivers,
        orders,
    }
}

impl Fleet {
    /// A digest of everything the seed decides (stores, customers, drivers' starts, styles and offline
    /// windows), so runs can show they built the same world.
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for s in &self.stores {
            text.push_str(&s.id);
        }
        for o in &self.orders {
            text.push_str(&format!(
                "|{}:{}:{}:{}",
                o.store, o.customer_node, o.placed_at_s, o.prep_s
            ));
        }
        for d in &self.drivers {
            text.push_str(&format!(
                "|{}:{:?}:{:.6}",
                d.start_node, d.offline, d.style.speed_factor
            ));
        }
        // FNV-1a: stable across platforms and Rust versions, unlike the std hasher.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }
}

fn centroid(points: impl Iterator<Item = LatLon>) -> LatLon {
    let (mut lat, mut lon, mut n) = (0.0, 0.0, 0.0);
    for p in points {
        lat += p.lat;
        lon += p.lon;
        n += 1.0;
    }
    if n == 0.0 {
        LatLon::new(0.0, 0.0)
    } else {
        LatLon::new(lat / n, lon / n)
    }
}

/// A random street node between `min_m` and `max_m` from `around`; the nearest-distance candidate if
/// the ring holds none (a small network).
fn random_node_near(
    graph: &StreetGraph,
    around: LatLon,
    min_m: f64,
    max_m: f64,
    rng: &mut ChaCha8Rng,
) -> usize {
    let ring: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| {
            let d = distance_m(around, graph.nodes[i].pos);
            d >= min_m && d <= max_m
        })
        .collect();
    match ring.choose(rng) {
        Some(&node) => node,
        None => rng.random_range(0..graph.nodes.len().max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::streets::StreetNode;
    use rand::SeedableRng;

    fn grid() -> StreetGraph {
        let nodes = (0..400)
            .map(|i| StreetNode {
                pos: LatLon::new(
                    60.16 + (i / 20) as f64 * 0.001,
                    24.93 + (i % 20) as f64 * 0.002,
                ),
                traffic_signals: false,
                intersection: true,
            })
            .collect();
        StreetGraph {
            nodes,
            edges: vec![Vec::new(); 400],
        }
    }

    fn stores(g: &StreetGraph) -> Vec<Store> {
        (0..5)
            .map(|i| Store {
                id: format!("s{i}"),
                name: format!("Store {i}"),
                pos: g.nodes[i * 80 + 10].pos,
                node: i * 80 + 10,
                snap_m: 0.0,
            })
            .collect()
    }

    #[test]
    fn same_seed_same_world_and_customers_at_delivery_distance() {
        let g = grid();
        let s = stores(&g);
        let a = build(&g, &s, 4, 9, &mut ChaCha8Rng::seed_from_u64(5));
        let b = build(&g, &s, 4, 9, &mut ChaCha8Rng::seed_from_u64(5));
        let ids = |f: &Fleet| f.stores.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(
            a.orders.iter().map(|o| o.customer_node).collect::<Vec<_>>(),
            b.orders.iter().map(|o| o.customer_node).collect::<Vec<_>>()
        );
        assert_eq!(a.drivers.len(), 4);
        assert_eq!(a.orders.len(), 9);
        for o in &a.orders {
            let d = distance_m(a.stores[o.store].pos, o.customer_pos);
            assert!(
                (CUSTOMER_DISTANCE_M.0..=CUSTOMER_DISTANCE_M.1).contains(&d),
                "{d}"
            );
        }
        assert!(a
            .orders
            .windows(2)
            .all(|w| w[0].placed_at_s < w[1].placed_at_s));
    }
}
