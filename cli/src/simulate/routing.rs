//! Fastest routes on the street graph: A* over travel time at each street's speed limit, with the
//! straight-line distance at the network's top speed as the (admissible) heuristic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::error::{Error, Result};
use super::geo::distance_m;
use super::streets::StreetGraph;

/// A route as a sequence of graph nodes, first = start, last = destination.
#[derive(Debug, Clone)]
pub struct Route {
    pub nodes: Vec<usize>,
    pub length_m: f64,
}

impl Route {
    /// Route length over straight-line distance between its ends (1.0 = a straight road).
    pub fn circuity(&self, graph: &StreetGraph) -> Option<f64> {
        let (first, last) = (*self.nodes.first()?, *self.nodes.last()?);
        let crow = distance_m(graph.nodes[first].pos, graph.nodes[last].pos);
        (crow > 1.0).then(|| self.length_m / crow)
    }
}

#[derive(PartialEq)]
struct Entry {
    estimate_s: f64,
    node: usize,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse to pop the smallest estimate first; tie-break on node id
        // so the search (and so every run with the same seed) is deterministic.
        other
            .estimate_s
            .total_cmp(&self.estimate_s)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Finds the fastest route from `from` to `to`.
pub fn fastest_route(graph: &StreetGraph, from: usize, to: usize) -> Result<Route> {
    let n = graph.nodes.len();
    if from >= n || to >= n {
        return Err(Error::NoRoute { from, to });
    }
    let top_speed = graph
        .edges
        .iter()
        .flatten()
        .map(|e| e.speed_limit_mps)
        .fold(1.0_f64, f64::max);
    let target = graph.nodes[to].pos;
    let heuristic = |node: usize| distance_m(graph.nodes[node].pos, target) / top_speed;

    let mut best_s = vec![f64::INFINITY; n];
    let mut previous = vec![usize::MAX; n];
    let mut heap = BinaryHeap::new();
    best_s[from] = 0.0;
    heap.push(Entry {
        estimate_s: heuristic(from),
        node: from,
    });
    while let Some(Entry { estimate_s, node }) = heap.pop() {
        if node == to {
            break;
        }
        // A stale entry: a faster way to `node` was found after this one was pushed.
        if estimate_s > best_s[node] + heuristic(node) + 1e-9 {
            continue;
        }
        for edge in &graph.edges[node] {
            let time = best_s[node] + edge.length_m / edge.speed_limit_mps;
            if time < best_s[edge.to] {
                best_s[edge.to] = time;
                previous[edge.to] = node;
                heap.push(Entry {
                    estimate_s: time + heuristic(edge.to),
                    node: edge.to,
                });
            }
        }
    }
    if !best_s[to].is_finite() {
        return Err(Error::NoRoute { from, to });
    }
    let mut nodes = vec![to];
    let mut at = to;
    while at != from {
        at = previous[at];
        nodes.push(at);
    }
    nodes.reverse();
    let length_m = nodes
        .windows(2)
        .filter_map(|w| graph.edge(w[0], w[1]))
        .map(|e| e.length_m)
        .sum();
    Ok(Route { nodes, length_m })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::geo::LatLon;
    use crate::simulate::streets::{Edge, StreetNode};

    /// A square 0-1-2-3 of ~111 m sides plus a slow diagonal 0->2.
    fn square() -> StreetGraph {
        let node = |lat: f64, lon: f64| StreetNode {
            pos: LatLon::new(lat, lon),
            traffic_signals: false,
            intersection: false,
        };
        let step = 0.001;
        let lon_step = step / 60f64.to_radians().cos();
        let nodes = vec![
            node(60.0, 25.0),
            node(60.0 + step, 25.0),
            node(60.0 + step, 25.0 + lon_step),
            node(60.0, 25.0 + lon_step),
        ];
        let mut edges = vec![Vec::new(); 4];
        let mut link = |a: usize, b: usize, speed: f64, g: &Vec<StreetNode>| {
            let length_m = distance_m(g[a].pos, g[b].pos);
            edges[a].push(Edge {
                to: b,
                length_m,
                speed_limit_mps: speed,
            });
        };
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 0)] {
            link(a, b, 10.0, &nodes);
        }
        link(0, 2, 1.0, &nodes);
        StreetGraph { nodes, edges }
    }

    #[test]
    fn prefers_the_faster_detour_over_the_slow_shortcut() {
        let g = square();
        let r = fastest_route(&g, 0, 2).expect("the square is connected");
        assert_eq!(r.nodes, vec![0, 1, 2]);
        assert!((r.length_m - 222.4).abs() < 1.0, "{}", r.length_m);
        let circuity = r.circuity(&g).expect("ends differ");
        assert!((circuity - 2f64.sqrt()).abs() < 0.01, "{circuity}");
    }

    #[test]
    fn respects_one_way_edges() {
        let g = square();
        // 1 -> 0 has no direct edge (only 0 -> 1): the way round is 1-2-3-0.
        let r = fastest_route(&g, 1, 0).expect("strongly connected");
        assert_eq!(r.nodes, vec![1, 2, 3, 0]);
    }

    #[test]
    fn unknown_nodes_are_an_error_not_a_panic() {
        assert!(fastest_route(&square(), 0, 99).is_err());
    }
}

#[cfg(test)]
mod helsinki_tests {
    use super::*;
    use crate::simulate::streets::StreetGraph;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::path::Path;

    /// Routes on the real network between random street nodes 300 m – 2 km apart: every pair is
    /// routable (strongly connected graph), and routes are longer than the straight line by a factor
    /// typical of a city centre with one-way streets and water in the way.
    #[test]
    fn helsinki_routes_exist_and_have_city_circuity() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/osm/Helsinki.osm.pbf");
        let g = StreetGraph::from_pbf(&path).expect("the bundled extract loads");
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let mut circuity = Vec::new();
        while circuity.len() < 60 {
            let (a, b) = (
                rng.random_range(0..g.nodes.len()),
                rng.random_range(0..g.nodes.len()),
            );
            let crow = distance_m(g.nodes[a].pos, g.nodes[b].pos);
            if !(300.0..2_000.0).contains(&crow) {
                continue;
            }
            let route = fastest_route(&g, a, b).expect("strongly connected: every pair routes");
            assert!(
                route.length_m >= crow * 0.999,
                "a route cannot beat the straight line"
            );
            circuity.push(route.circuity(&g).expect("ends differ"));
        }
        circuity.sort_by(f64::total_cmp);
        let median = circuity[circuity.len() / 2];
        eprintln!("Helsinki: median circuity over 60 random pairs 300 m - 2 km apart: {median:.2}");
        assert!((1.1..2.0).contains(&median), "median circuity {median:.2}");
    }
}
