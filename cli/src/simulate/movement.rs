//! How a simulated car drives a route: speeds that vary around each street's limit, slowing for turns,
//! stopping at red lights and sometimes at junctions, accelerating and braking within a car's limits.
//! The result is the ground truth: where the car really was every second, and when it came to rest at
//! the destination (the true arrival that the companion's detection is measured against).

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::geo::{bearing_deg, distance_m, lerp, turn_angle_deg, LatLon};
use super::routing::Route;
use super::streets::StreetGraph;

/// Ground-truth samples are this far apart (the companion's "en route" tracking rate).
pub const SAMPLE_MS: i64 = 1_000;
/// Integration step: finer than the samples so braking lands on stop lines.
const STEP_S: f64 = 0.25;
const ACCEL_MPS2: f64 = 2.0;
const BRAKE_MPS2: f64 = 2.5;
/// Below this the car would creep forever towards a stop line: it rolls the last metres at this speed.
const CREEP_MPS: f64 = 0.8;
/// Chance that a signalised junction shows red on arrival, and how long the red lasts.
const RED_LIGHT_P: f64 = 0.45;
const RED_LIGHT_S: (f64, f64) = (8.0, 40.0);
/// Chance of yielding to cross traffic at an unsignalised junction, and for how long.
const YIELD_P: f64 = 0.12;
const YIELD_S: (f64, f64) = (1.5, 6.0);

/// Where the car was at one instant.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct TruthPoint {
    pub time_ms: i64,
    pub pos: LatLon,
    pub speed_mps: f64,
    pub bearing_deg: f64,
}

/// A driven route: samples every [`SAMPLE_MS`] from departure to the moment the car is at rest at the
/// destination (the last sample), and where it had to stop on the way.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// The last point is the car at rest at the destination: the ground-truth arrival.
    pub points: Vec<TruthPoint>,
    pub stops_at_lights: usize,
    pub stops_at_junctions: usize,
}

/// Something ahead on the route that limits speed: a corner, or a stop with a dwell.
#[derive(Debug, Clone, Copy)]
struct Constraint {
    at_m: f64,
    max_speed_mps: f64,
    dwell_s: f64,
    kind: StopKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum StopKind {
    Corner,
    Light,
    Junction,
    Destination,
}

/// A route as a polyline with cumulative distances, speed limits per segment and the constraints.
struct Path {
    points: Vec<LatLon>,
    cumulative_m: Vec<f64>,
    limit_mps: Vec<f64>,
    constraints: Vec<Constraint>,
}

impl Path {
    fn length_m(&self) -> f64 {
        self.cumulative_m.last().copied().unwrap_or(0.0)
    }

    fn segment_at(&self, s: f64) -> usize {
        let i = self.cumulative_m.partition_point(|&c| c <= s);
        i.saturating_sub(1).min(self.points.len().saturating_sub(2))
    }

    fn position_at(&self, s: f64) -> (LatLon, f64) {
        if self.points.len() < 2 {
            return (
                self.points
                    .first()
                    .copied()
                    .unwrap_or(LatLon::new(0.0, 0.0)),
                0.0,
            );
        }
        let i = self.segment_at(s);
        let (a, b) = (self.points[i], self.points[i + 1]);
        let seg = self.cumulative_m[i + 1] - self.cumulative_m[i];
        let t = if seg > 0.0 {
            ((s - self.cumulative_m[i]) / seg).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (lerp(a, b, t), bearing_deg(a, b))
    }
}

/// A driver's habits: how close to the limit they drive, how hard they accelerate.
#[derive(Debug, Clone, Copy)]
pub struct DriverStyle {
    pub speed_factor: f64,
    pub accel_mps2: f64,
}

impl DriverStyle {
    pub fn random(rng: &mut impl Rng) -> Self {
        Self {
            speed_factor: rng.random_range(0.75..1.05),
            accel_mps2: ACCEL_MPS2 * rng.random_range(0.7..1.2),
        }
    }
}

/// Drives `route` starting at `start_ms`.
pub fn drive(
    graph: &StreetGraph,
    route: &Route,
    style: DriverStyle,
    start_ms: i64,
    rng: &mut impl Rng,
) -> Trajectory {
    let path = build_path(graph, route, rng);
    let length = path.length_m();
    let mut constraints = path.constraints.clone();
    let mut next = 0usize;
    let (mut s, mut v, mut t_s) = (0.0_f64, 0.0_f64, 0.0_f64);
    // Speed wander: a mean-reverting factor so the car is not glued to the limit.
    let wander = Normal::new(0.0, 0.04).ok();
    let mut wobble = 0.0_f64;
    let mut points = Vec::new();
    let mut next_sample_s = 0.0;
    let (mut lights, mut junctions) = (0, 0);
    let sample = |t_s: f64, s: f64, v: f64, points: &mut Vec<TruthPoint>| {
        let (pos, bearing) = path.position_at(s);
        points.push(TruthPoint {
            time_ms: start_ms + (t_s * 1000.0).round() as i64,
            pos,
            speed_mps: v,
            bearing_deg: bearing,
        });
    };
    // Bounded: even creeping the whole route and waiting at every stop ends well within this.
    let max_steps =
        ((length / CREEP_MPS + 60.0 * (constraints.len() as f64 + 1.0)) / STEP_S) as usize;
    for _ in 0..max_steps {
        if t_s + 1e-9 >= next_sample_s {
            sample(t_s, s, v, &mut points);
            next_sample_s += SAMPLE_MS as f64 / 1000.0;
        }
        // Skip constraints already behind us.
        while next < constraints.len() && constraints[next].at_m < s - 1e-6 {
            next += 1;
        }
        let Some(ahead) = constraints.get(next).copied() else {
            break;
        };
        // At a stop line: stand still for the dwell, then carry on (or finish at the destination).
        if ahead.max_speed_mps == 0.0 && ahead.at_m - s < 0.05 {
            s = ahead.at_m;
            v = 0.0;
            if ahead.kind == StopKind::Destination {
                break;
            }
            match ahead.kind {
                StopKind::Light => lights += 1,
                StopKind::Junction => junctions += 1,
                _ => {}
            }
            let until = t_s + ahead.dwell_s;
            while t_s + STEP_S <= until {
                t_s += STEP_S;
                if t_s + 1e-9 >= next_sample_s {
                    sample(t_s, s, v, &mut points);
                    next_sample_s += SAMPLE_MS as f64 / 1000.0;
                }
            }
            // Passed: nudge past so the skip loop drops it.
            constraints[next].at_m = s - 1.0;
            continue;
        }
        if let Some(w) = wander {
            wobble += -0.05 * wobble * STEP_S + w.sample(rng) * STEP_S.sqrt();
            wobble = wobble.clamp(-0.2, 0.15);
        }
        let limit = path.limit_mps[path.segment_at(s)] * style.speed_factor * (1.0 + wobble);
        // The fastest speed from which every constraint ahead can still be met by braking.
        let brake_cap = constraints[next..]
            .iter()
            .take_while(|c| c.at_m - s < 300.0)
            .map(|c| (c.max_speed_mps.powi(2) + 2.0 * BRAKE_MPS2 * (c.at_m - s).max(0.0)).sqrt())
            .fold(f64::INFINITY, f64::min);
        let mut target = limit.min(brake_cap);
        if ahead.max_speed_mps == 0.0 {
            target = target.max(CREEP_MPS.min(ahead.at_m - s));
        }
        v = if target > v {
            (v + style.accel_mps2 * STEP_S).min(target)
        } else {
            (v - 2.0 * BRAKE_MPS2 * STEP_S).max(target)
        };
        s = (s + v * STEP_S).min(length);
        // Never overshoot a stop line.
        if ahead.max_speed_mps == 0.0 && s > ahead.at_m {
            s = ahead.at_m;
        }
        t_s += STEP_S;
    }
    // The final sample is the arrival: it replaces a sample taken in the same millisecond.
    let end_ms = start_ms + (t_s * 1000.0).round() as i64;
    if points.last().is_some_and(|p| p.time_ms >= end_ms) {
        points.pop();
    }
    sample(t_s, s, 0.0, &mut points);
    Trajectory {
        points,
        stops_at_lights: lights,
        stops_at_junctions: junctions,
    }
}

fn build_path(graph: &StreetGraph, route: &Route, rng: &mut impl Rng) -> Path {
    let points: Vec<LatLon> = route.nodes.iter().map(|&n| graph.nodes[n].pos).collect();
    let mut cumulative_m = vec![0.0];
    let mut limit_mps = Vec::new();
    for w in route.nodes.windows(2) {
        let (len, limit) = graph.edge(w[0], w[1]).map_or(
            (
                distance_m(graph.nodes[w[0]].pos, graph.nodes[w[1]].pos),
                8.0,
            ),
            |e| (e.length_m, e.speed_limit_mps),
        );
        cumulative_m.push(cumulative_m.last().copied().unwrap_or(0.0) + len);
        limit_mps.push(limit);
    }
    if limit_mps.is_empty() {
        limit_mps.push(8.0);
    }
    let mut constraints = Vec::new();
    // Interior nodes only: the start is where the car already is, the end is the destination.
    for i in 1..route.nodes.len().saturating_sub(1) {
        let node = &graph.nodes[route.nodes[i]];
        let at_m = cumulative_m[i];
        if node.traffic_signals && rng.random_bool(RED_LIGHT_P) {
            constraints.push(Constraint {
                at_m,
                max_speed_mps: 0.0,
                dwell_s: rng.random_range(RED_LIGHT_S.0..RED_LIGHT_S.1),
                kind: StopKind::Light,
            });
            continue;
        }
        if node.intersection && !node.traffic_signals && rng.random_bool(YIELD_P) {
            constraints.push(Constraint {
                at_m,
                max_speed_mps: 0.0,
                dwell_s: rng.random_range(YIELD_S.0..YIELD_S.1),
                kind: StopKind::Junction,
            });
            continue;
        }
        let turn = turn_angle_deg(
            bearing_deg(points[i - 1], points[i]),
            bearing_deg(points[i], points[i + 1]),
        );
        if turn > 30.0 {
            // ~8 m/s for a gentle bend down to ~3 m/s for a right-angle turn or tighter.
            let max_speed_mps = (8.0 - (turn - 30.0) / 60.0 * 5.0).max(3.0);
            constraints.push(Constraint {
                at_m,
                max_speed_mps,
                dwell_s: 0.0,
                kind: StopKind::Corner,
            });
        }
    }
    constraints.push(Constraint {
        at_m: cumulative_m.last().copied().unwrap_or(0.0),
        max_speed_mps: 0.0,
        dwell_s: 0.0,
        kind: StopKind::Destination,
    });
    Path {
        points,
        cumulative_m,
        limit_mps,
        constraints,
    }
}

/// Samples of a car standing at `pos` from `from_ms` for `duration_ms` (waiting for food, handing over).
pub fn parked(pos: LatLon, bearing: f64, from_ms: i64, duration_ms: i64) -> Vec<TruthPoint> {
    (1..=duration_ms / SAMPLE_MS)
        .map(|k| TruthPoint {
            time_ms: from_ms + k * SAMPLE_MS,
            pos,
            speed_mps: 0.0,
            bearing_deg: bearing,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::routing::fastest_route;
    use crate::simulate::streets::{Edge, StreetNode};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A straight 1 km street of 10 segments with a signal in the middle.
    fn street(signal: bool) -> StreetGraph {
        let nodes: Vec<StreetNode> = (0..=10)
            .map(|i| StreetNode {
                pos: LatLon::new(60.0 + i as f64 * 0.000_899_3, 25.0),
                traffic_signals: signal && i == 5,
                intersection: false,
            })
            .collect();
        let mut edges = vec![Vec::new(); nodes.len()];
        for i in 0..10 {
            edges[i].push(Edge {
                to: i + 1,
                length_m: distance_m(nodes[i].pos, nodes[i + 1].pos),
                speed_limit_mps: 50.0 / 3.6,
            });
        }
        StreetGraph { nodes, edges }
    }

    fn steady() -> DriverStyle {
        DriverStyle {
            speed_factor: 1.0,
            accel_mps2: ACCEL_MPS2,
        }
    }

    #[test]
    fn car_ends_at_rest_at_the_destination_within_physical_limits() {
        let g = street(false);
        let route = fastest_route(&g, 0, 10).expect("straight street");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let traj = drive(&g, &route, steady(), 1_000_000, &mut rng);
        let last = traj.points.last().expect("samples");
        assert!(distance_m(last.pos, g.nodes[10].pos) < 0.5);
        assert_eq!(last.speed_mps, 0.0);
        // 1 km at up to ~50 km/h with acceleration and braking: between 72 s (flat out) and 3 min.
        let secs = (last.time_ms - 1_000_000) as f64 / 1000.0;
        assert!((72.0..180.0).contains(&secs), "{secs}");
        for w in traj.points.windows(2) {
            let dt = (w[1].time_ms - w[0].time_ms) as f64 / 1000.0;
            assert!(dt > 0.0);
            let moved = distance_m(w[0].pos, w[1].pos);
            assert!(moved / dt < 50.0 / 3.6 * 1.2, "speed {} m/s", moved / dt);
        }
    }

    #[test]
    fn speeds_vary_rather_than_sitting_on_the_limit() {
        let g = street(false);
        let route = fastest_route(&g, 0, 10).expect("straight street");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let traj = drive(&g, &route, steady(), 0, &mut rng);
        let cruising: Vec<f64> = traj
            .points
            .iter()
            .map(|p| p.speed_mps)
            .filter(|v| *v > 8.0)
            .collect();
        let (lo, hi) = cruising
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        assert!(hi - lo > 0.5, "cruise speeds {lo}..{hi}");
    }

    #[test]
    fn red_lights_make_the_car_stand_still() {
        let g = street(true);
        let route = fastest_route(&g, 0, 10).expect("straight street");
        // Find a seed that draws a red light, then check the car really stood at the signal.
        let traj = (0..50)
            .map(|seed| {
                drive(
                    &g,
                    &route,
                    steady(),
                    0,
                    &mut ChaCha8Rng::seed_from_u64(seed),
                )
            })
            .find(|t| t.stops_at_lights == 1)
            .expect("45 % red: one of 50 seeds draws red");
        let signal = g.nodes[5].pos;
        let standing = traj
            .points
            .iter()
            .filter(|p| p.speed_mps == 0.0 && distance_m(p.pos, signal) < 1.0)
            .count();
        assert!(standing as f64 >= RED_LIGHT_S.0 - 1.0, "stood {standing} s");
    }

    #[test]
    fn same_seed_same_trajectory() {
        let g = street(true);
        let route = fastest_route(&g, 0, 10).expect("straight street");
        let a = drive(&g, &route, steady(), 0, &mut ChaCha8Rng::seed_from_u64(11));
        let b = drive(&g, &route, steady(), 0, &mut ChaCha8Rng::seed_from_u64(11));
        assert_eq!(
            a.points.last().map(|p| p.time_ms),
            b.points.last().map(|p| p.time_ms)
        );
        assert_eq!(a.points.len(), b.points.len());
    }
}
