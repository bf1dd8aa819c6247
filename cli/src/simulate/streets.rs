//! The drivable street network, read from an OpenStreetMap PBF extract.
//!
//! Every node of a drivable way becomes a graph node and every consecutive pair an edge (both directions
//! unless the way is one-way). Only the largest strongly connected component is kept, so that every
//! node can reach every other one: a route always exists and no driver is stranded on a one-way spur
//! that leaves the extract.

use std::collections::HashMap;
use std::path::Path;

use osmpbf::{Element, ElementReader};

use super::error::{Error, Result};
use super::geo::{distance_m, LatLon};

/// Highway types a delivery car may drive on (OSM `highway=*`).
const DRIVABLE: &[&str] = &[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
];

#[derive(Debug, Clone)]
pub struct StreetNode {
    pub pos: LatLon,
    /// OSM `highway=traffic_signals` on this node: drivers may have to stop here.
    pub traffic_signals: bool,
    /// Three or more distinct neighbours (in or out): a real choice point where drivers slow down.
    pub intersection: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: usize,
    pub length_m: f64,
    /// Legal or typical speed on this street, metres per second.
    pub speed_limit_mps: f64,
}

#[derive(Debug, Default)]
pub struct StreetGraph {
    pub nodes: Vec<StreetNode>,
    /// Outgoing edges per node.
    pub edges: Vec<Vec<Edge>>,
}

/// Which directions a way may be driven in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    Both,
    Forward,
    Backward,
}

struct DrivableWay {
    refs: Vec<i64>,
    direction: Direction,
    speed_limit_mps: f64,
}

impl StreetGraph {
    /// Reads the drivable streets of an `.osm.pbf` file.
    pub fn from_pbf(path: &Path) -> Result<Self> {
        let read_err = |e: osmpbf::Error| Error::StreetNetwork {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let reader = ElementReader::from_path(path).map_err(read_err)?;
        let mut coords: HashMap<i64, (LatLon, bool)> = HashMap::new();
        let mut ways: Vec<DrivableWay> = Vec::new();
        reader
            .for_each(|element| match element {
                Element::Node(n) => {
                    let signals = n.tags().any(is_signal_tag);
                    coords.insert(n.id(), (LatLon::new(n.lat(), n.lon()), signals));
                }
                Element::DenseNode(n) => {
                    let signals = n.tags().any(is_signal_tag);
                    coords.insert(n.id(), (LatLon::new(n.lat(), n.lon()), signals));
                }
                Element::Way(w) => {
                    let tags: HashMap<&str, &str> = w.tags().collect();
                    if let Some(way) = drivable_way(&tags, w.refs().collect()) {
                        ways.push(way);
                    }
                }
                Element::Relation(_) => {}
            })
            .map_err(read_err)?;
        let graph = Self::build(&coords, &ways);
        let mut graph = graph.largest_strong_component();
        graph.mark_intersections();
        if graph.nodes.is_empty() {
            return Err(Error::NoStreets {
                path: path.to_path_buf(),
            });
        }
        Ok(graph)
    }

    fn build(coords: &HashMap<i64, (LatLon, bool)>, ways: &[DrivableWay]) -> Self {
        let mut graph = StreetGraph::default();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for way in ways {
            // A way may reference nodes cut off by the extract's boundary: skip those pairs.
            let ids: Vec<Option<usize>> = way
                .refs
                .iter()
                .map(|id| {
                    let (pos, signals) = *coords.get(id)?;
                    Some(*index.entry(*id).or_insert_with(|| {
                        graph.nodes.push(StreetNode {
                            pos,
                            traffic_signals: signals,
                            intersection: false,
                        });
                        graph.edges.push(Vec::new());
                        graph.nodes.len() - 1
                    }))
                })
                .collect();
            for pair in ids.windows(2) {
                let (Some(a), Some(b)) = (pair[0], pair[1]) else {
                    continue;
                };
                if a == b {
                    continue;
                }
                let length_m = distance_m(graph.nodes[a].pos, graph.nodes[b].pos);
                let edge = |to| Edge {
                    to,
                    length_m,
                    speed_limit_mps: way.speed_limit_mps,
                };
                if way.direction != Direction::Backward {
                    graph.edges[a].push(edge(b));
                }
                if way.direction != Direction::Forward {
                    graph.edges[b].push(edge(a));
                }
            }
        }
        graph
    }

    #[cfg(test)]
    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }

    pub fn edge(&self, from: usize, to: usize) -> Option<&Edge> {
        self.edges.get(from)?.iter().find(|e| e.to == to)
    }

    /// The node closest to `pos` (linear scan: the network has a few thousand nodes and we snap a few
    /// hundred points once per run).
    pub fn nearest_node(&self, pos: LatLon) -> Option<usize> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (i, distance_m(pos, n.pos)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    fn mark_intersections(&mut self) {
        let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (from, out) in self.edges.iter().enumerate() {
            for e in out {
                neighbours[from].push(e.to);
                neighbours[e.to].push(from);
            }
        }
        for (node, mut list) in self.nodes.iter_mut().zip(neighbours) {
            list.sort_unstable();
            list.dedup();
            node.intersection = list.len() >= 3;
        }
    }

    /// Keeps only the largest strongly connected component (Kosaraju, iterative), renumbering nodes.
    fn largest_strong_component(self) -> Self {
        let n = self.nodes.len();
        let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (from, out) in self.edges.iter().enumerate() {
            for e in out {
                reverse[e.to].push(from);
            }
        }
        // Pass 1: finishing order on the forward graph.
        let mut visited = vec![false; n];
        let mut order = Vec::with_capacity(n);
        for start in 0..n {
            if visited[start] {
                continue;
            }
            visited[start] = true;
            let mut stack = vec![(start, 0usize)];
            while let Some((node, next)) = stack.pop() {
                if let Some(e) = self.edges[node].get(next) {
                    stack.push((node, next + 1));
                    if !visited[e.to] {
                        visited[e.to] = true;
                        stack.push((e.to, 0));
                    }
                } else {
                    order.push(node);
                }
            }
        }
        // Pass 2: components on the reverse graph in reverse finishing order.
        let mut component = vec![usize::MAX; n];
        let mut sizes: Vec<usize> = Vec::new();
        for &start in order.iter().rev() {
            if component[start] != usize::MAX {
                continue;
            }
            let id = sizes.len();
            sizes.push(0);
            component[start] = id;
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                sizes[id] += 1;
                for &prev in &reverse[node] {
                    if component[prev] == usize::MAX {
                        component[prev] = id;
                        stack.push(prev);
                    }
                }
            }
        }
        let Some(biggest) = (0..sizes.len()).max_by_key(|&c| sizes[c]) else {
            return self;
        };
        let mut renumber = vec![usize::MAX; n];
        let mut graph = StreetGraph::default();
        for (old, node) in self.nodes.iter().enumerate() {
            if component[old] == biggest {
                renumber[old] = graph.nodes.len();
                graph.nodes.push(node.clone());
            }
        }
        graph.edges = vec![Vec::new(); graph.nodes.len()];
        for (old, out) in self.edges.iter().enumerate() {
            if renumber[old] == usize::MAX {
                continue;
            }
            for e in out {
                if renumber[e.to] != usize::MAX {
                    graph.edges[renumber[old]].push(Edge {
                        to: renumber[e.to],
                        ..*e
                    });
                }
            }
        }
        graph
    }
}

fn is_signal_tag((key, value): (&str, &str)) -> bool {
    key == "highway" && value == "traffic_signals"
}

fn drivable_way(tags: &HashMap<&str, &str>, refs: Vec<i64>) -> Option<DrivableWay> {
    let highway = *tags.get("highway")?;
    if !DRIVABLE.contains(&highway) || refs.len() < 2 {
        return None;
    }
    if matches!(tags.get("access"), Some(&"no") | Some(&"private")) {
        return None;
    }
    if matches!(tags.get("motor_vehicle"), Some(&"no")) {
        return None;
    }
    if highway == "service" && matches!(tags.get("service"), Some(&"parking_aisle")) {
        return None;
    }
    let direction = match tags.get("oneway").copied() {
        Some("yes") | Some("true") | Some("1") => Direction::Forward,
        Some("-1") | Some("reverse") => Direction::Backward,
        Some("no") => Direction::Both,
        _ if tags.get("junction") == Some(&"roundabout") => Direction::Forward,
        _ if highway == "motorway" => Direction::Forward,
        _ => Direction::Both,
    };
    let speed_limit_mps = tags
        .get("maxspeed")
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|kmh| (5.0..=130.0).contains(kmh))
        .unwrap_or_else(|| default_speed_kmh(highway))
        / 3.6;
    Some(DrivableWay {
        refs,
        direction,
        speed_limit_mps,
    })
}

/// Typical urban speeds (Helsinki's default inside built-up areas is 40 km/h; 30 on residential
/// streets), used when a way has no usable `maxspeed`.
fn default_speed_kmh(highway: &str) -> f64 {
    match highway {
        "motorway" | "trunk" => 70.0,
        "primary" | "secondary" | "motorway_link" | "trunk_link" => 50.0,
        "tertiary" | "primary_link" | "secondary_link" | "tertiary_link" => 40.0,
        "living_street" => 10.0,
        "service" => 15.0,
        _ => 30.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags<'a>(pairs: &[(&'a str, &'a str)]) -> HashMap<&'a str, &'a str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn footways_and_private_roads_are_not_drivable() {
        assert!(drivable_way(&tags(&[("highway", "footway")]), vec![1, 2]).is_none());
        assert!(drivable_way(
            &tags(&[("highway", "residential"), ("access", "private")]),
            vec![1, 2]
        )
        .is_none());
    }

    #[test]
    fn oneway_tags_set_the_direction() {
        let fwd = drivable_way(
            &tags(&[("highway", "primary"), ("oneway", "yes")]),
            vec![1, 2],
        );
        assert_eq!(fwd.map(|w| w.direction), Some(Direction::Forward));
        let back = drivable_way(
            &tags(&[("highway", "primary"), ("oneway", "-1")]),
            vec![1, 2],
        );
        assert_eq!(back.map(|w| w.direction), Some(Direction::Backward));
        let round = drivable_way(
            &tags(&[("highway", "tertiary"), ("junction", "roundabout")]),
            vec![1, 2],
        );
        assert_eq!(round.map(|w| w.direction), Some(Direction::Forward));
    }

    #[test]
    fn maxspeed_is_used_when_sane() {
        let w = drivable_way(
            &tags(&[("highway", "primary"), ("maxspeed", "30")]),
            vec![1, 2],
        );
        assert!(w.is_some_and(|w| (w.speed_limit_mps - 30.0 / 3.6).abs() < 1e-9));
        let w = drivable_way(
            &tags(&[("highway", "primary"), ("maxspeed", "FI:urban")]),
            vec![1, 2],
        );
        assert!(w.is_some_and(|w| (w.speed_limit_mps - 50.0 / 3.6).abs() < 1e-9));
    }

    #[test]
    fn one_way_spurs_are_dropped_by_the_strong_component() {
        // 0 <-> 1 <-> 2, and 2 -> 3 one-way out: node 3 cannot come back, so it is dropped.
        let p = |i: f64| (LatLon::new(60.0 + i * 0.001, 25.0), false);
        let coords: HashMap<i64, _> = (0..4).map(|i| (i, p(i as f64))).collect();
        let ways = vec![
            DrivableWay {
                refs: vec![0, 1, 2],
                direction: Direction::Both,
                speed_limit_mps: 10.0,
            },
            DrivableWay {
                refs: vec![2, 3],
                direction: Direction::Forward,
                speed_limit_mps: 10.0,
            },
        ];
        let g = StreetGraph::build(&coords, &ways).largest_strong_component();
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(g.edge_count(), 4);
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    pub fn helsinki() -> StreetGraph {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/osm/Helsinki.osm.pbf");
        StreetGraph::from_pbf(&path).expect("the bundled Helsinki extract loads")
    }

    #[test]
    fn helsinki_network_is_a_real_city_grid() {
        let g = helsinki();
        // Central Helsinki: thousands of street nodes, with one-way streets and traffic signals.
        assert!(g.nodes.len() > 1_000, "{} nodes", g.nodes.len());
        let one_way_edges = g
            .edges
            .iter()
            .enumerate()
            .flat_map(|(a, out)| out.iter().map(move |e| (a, e.to)))
            .filter(|&(a, b)| g.edge(b, a).is_none())
            .count();
        assert!(one_way_edges > 50, "{one_way_edges} one-way edges");
        assert!(g.nodes.iter().filter(|n| n.traffic_signals).count() > 20);
        // Everything sits in central Helsinki.
        assert!(g
            .nodes
            .iter()
            .all(|n| (60.1..60.3).contains(&n.pos.lat) && (24.8..25.1).contains(&n.pos.lon)));
    }

    #[test]
    fn a_missing_file_is_a_typed_error() {
        let err = StreetGraph::from_pbf(Path::new("/nonexistent/x.osm.pbf"));
        assert!(matches!(err, Err(Error::StreetNetwork { .. })));
    }
}
