//! The Amazon delivery-driver chunks (`trajectories.zip`: `timestamp,x,y,groundtruth`, x/y metres from
//! an arbitrary origin, ~5 s sampling) and the ground truth the acceptance tests derive from them.
//!
//! Ground truth, decided from the labels and the x/y geometry only (never from the engine):
//! - a stop is a `Driving` run of ≥ 3 fixes in which the vehicle really moved (some step ≥ 4 m/s),
//!   followed by an `OnFoot` run lasting ≥ 20 s; the label time is the first `OnFoot` fix and the stop
//!   position is where that fix lies;
//! - a stop is a new visit to its fence if the track was farther than radius + 20 m from the stop at
//!   some earlier time ([`Chunk::entered_from_outside`]); otherwise the vehicle only re-parked within
//!   a visit already under way, and no new arrival is due;
//! - a road stretch is a point where every fix of the chunk within 100 m of it moves at ≥ 4 m/s
//!   (driven through at speed: no stop, no traffic light wait) and no `OnFoot` fix lies within 150 m;
//! - a beside-road spot is 40 m + radius from the nearest point of the whole polyline of the chunk, so
//!   the fence's edge is at least 40 m from anywhere the vehicle drove.

use std::io::Read;

use fencepost_core::LocationFix;

use super::{fixture, offset};

#[derive(Debug, Clone)]
pub struct Point {
    pub t_ms: i64,
    pub x: f64,
    pub y: f64,
    pub driving: bool,
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub name: String,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone)]
pub struct Stop {
    /// Index of the first `OnFoot` fix.
    pub index: usize,
    pub label_ms: i64,
    /// End of the `OnFoot` run (time of its last fix).
    pub until_ms: i64,
    pub x: f64,
    pub y: f64,
}

pub fn chunks() -> Vec<Chunk> {
    let file = std::fs::File::open(fixture("traces/amazon_delivery_activity/trajectories.zip"))
        .expect("the Amazon fixture is in the repository");
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("a zip entry");
        let name = entry.name().expect("a UTF-8 entry name").to_string();
        if !name.ends_with(".csv") {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("UTF-8 CSV");
        let points = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let t = chrono::NaiveDateTime::parse_from_str(f[0], "%Y-%m-%d %H:%M:%S%.f")
                    .expect("fixture timestamp");
                Point {
                    t_ms: t.and_utc().timestamp_millis(),
                    x: f[1].parse().expect("x"),
                    y: f[2].parse().expect("y"),
                    driving: f[3].trim() == "Driving",
                }
            })
            .collect();
        out.push(Chunk { name, points });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn speed(a: &Point, b: &Point) -> f64 {
    let dt = (b.t_ms - a.t_ms) as f64 / 1000.0;
    ((b.x - a.x).hypot(b.y - a.y)) / dt.max(0.001)
}

impl Chunk {
    pub fn stops(&self) -> Vec<Stop> {
        let p = &self.points;
        let mut stops = Vec::new();
        let mut i = 1;
        while i < p.len() {
            if p[i - 1].driving && !p[i].driving {
                let run_start = (0..i)
                    .rev()
                    .take_while(|&k| p[k].driving)
                    .last()
                    .unwrap_or(i);
                let drove = i - run_start >= 3
                    && (run_start + 1..i).any(|k| speed(&p[k - 1], &p[k]) >= 4.0);
                let end = (i..p.len())
                    .take_while(|&k| !p[k].driving)
                    .last()
                    .unwrap_or(i);
                if drove && p[end].t_ms - p[i].t_ms >= 20_000 {
                    stops.push(Stop {
                        index: i,
                        label_ms: p[i].t_ms,
                        until_ms: p[end].t_ms,
                        x: p[i].x,
                        y: p[i].y,
                    });
                }
                i = end + 1;
            } else {
                i += 1;
            }
        }
        stops
    }

    /// The time of the last fix before the stop's label that lies farther than `outside_m` from the
    /// stop, going back through the drive that ends at the stop (and the walk before it, if the
    /// vehicle never left). `None` if the vehicle stayed within `outside_m` all along.
    pub fn entered_from_outside(&self, stop: &Stop, outside_m: f64) -> Option<i64> {
        self.points[..stop.index]
            .iter()
            .rev()
            .find(|p| (p.x - stop.x).hypot(p.y - stop.y) > outside_m)
            .map(|p| p.t_ms)
    }

    /// Whether the true track goes farther than `outside_m` from the stop between its label and the
    /// end of its `OnFoot` run (the driver walked out of the fence and back).
    pub fn strays_from(&self, stop: &Stop, outside_m: f64) -> bool {
        self.points[stop.index..]
            .iter()
            .take_while(|p| p.t_ms <= stop.until_ms)
            .any(|p| (p.x - stop.x).hypot(p.y - stop.y) > outside_m)
    }

    /// Indices of fixes on road stretches driven through at speed (see the module doc).
    pub fn road_points(&self) -> Vec<usize> {
        let p = &self.points;
        (1..p.len().saturating_sub(1))
            .filter(|&j| {
                let near = |k: usize, r: f64| (p[k].x - p[j].x).hypot(p[k].y - p[j].y) <= r;
                let fast = (1..p.len())
                    .filter(|&k| near(k, 100.0) || near(k - 1, 100.0))
                    .all(|k| speed(&p[k - 1], &p[k]) >= 4.0);
                let no_foot = (0..p.len()).all(|k| p[k].driving || !near(k, 150.0));
                fast && no_foot
            })
            .collect()
    }

    /// Distance from (x, y) to the nearest point of the chunk's polyline.
    pub fn distance_to_path(&self, x: f64, y: f64) -> f64 {
        self.points
            .windows(2)
            .map(|w| segment_distance(x, y, &w[0], &w[1]))
            .fold(f64::INFINITY, f64::min)
    }

    /// The chunk as fixes with unknown accuracy, placed with its origin at (lat0, lon0).
    pub fn fixes_at(&self, lat0: f64, lon0: f64) -> Vec<LocationFix> {
        self.points
            .iter()
            .map(|p| {
                let (lat, lon) = offset(lat0, lon0, p.x, p.y);
                LocationFix::new(p.t_ms, lat, lon)
            })
            .collect()
    }
}

fn segment_distance(x: f64, y: f64, a: &Point, b: &Point) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((x - a.x) * dx + (y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (x - (a.x + t * dx)).hypot(y - (a.y + t * dy))
}

/// Where chunk `i` is placed: the equator, mid-latitudes, Helsinki, 70° N (Hammerfest), the southern
/// hemisphere, and straddling the antimeridian (Fiji; the chunk's origin 50 m west of ±180°).
pub fn origin_for(i: usize) -> (f64, f64) {
    const ORIGINS: [(f64, f64); 6] = [
        (0.5, 10.0),
        (45.0, 7.0),
        (60.17, 24.94),
        (70.66, 23.68),
        (-33.9, 151.2),
        (-16.5, 179.9995),
    ];
    ORIGINS[i % ORIGINS.len()]
}
