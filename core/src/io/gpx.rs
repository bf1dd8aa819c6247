//! GPX traces: every `<trkpt>` of every track and segment, in document order; each needs a `<time>`.
//!
//! The `gpx` crate parses, but keeps no positions. Lines come from two cheaper places:
//! - for a file that parses, a byte search for `<trkpt` tags, counting newlines; if its count differs
//!   from the gpx crate's (a namespace prefix, a tag inside a comment), a full xml-rs pass instead;
//! - for a file that does not, an xml-rs pass (the parser the gpx crate itself uses) reports XML syntax
//!   errors with their line and finds the first track point whose attributes or numbers the gpx crate
//!   refuses. Only failures pay for it.
//!
//! Routes (`<rtept>`) and waypoints (`<wpt>`) are not traces.

use super::time::parse_time_ms;
use super::{parse_error, point, TracePoint};
use crate::error::Result;
use crate::fix::LocationFix;
use xml::common::Position;
use xml::reader::{EventReader, XmlEvent};

pub(crate) fn parse(text: &str, name: &str) -> Result<Vec<TracePoint>> {
    let gpx = match ::gpx::read(text.as_bytes()) {
        Ok(gpx) => gpx,
        Err(e) => {
            let scan = scan(text).map_err(|(line, reason)| parse_error(name, line, reason))?;
            // The scan's first suspect is the best line we have; without one, the gpx crate's error
            // has no position at all and we fall back to line 1.
            let (line, reason) = scan.first_suspect.unwrap_or_else(|| (1, gpx_reason(&e)));
            return Err(parse_error(name, line, reason));
        }
    };

    let count = gpx
        .tracks
        .iter()
        .flat_map(|t| &t.segments)
        .map(|s| s.points.len())
        .sum();
    let mut lines = trkpt_lines_quick(text);
    if lines.len() != count {
        lines = scan(text).map(|s| s.trkpt_lines).unwrap_or_default();
    }

    let waypoints = gpx
        .tracks
        .iter()
        .flat_map(|t| &t.segments)
        .flat_map(|s| &s.points);
    let mut points = Vec::with_capacity(count);
    for (i, waypoint) in waypoints.enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let time = waypoint
            .time
            .ok_or_else(|| parse_error(name, line, "track point has no <time>"))?;
        let time_ms =
            time_ms(time).ok_or_else(|| parse_error(name, line, "time is out of range"))?;
        let position = waypoint.point();
        let mut fix = LocationFix::new(time_ms, position.y(), position.x());
        // Only GPX 1.0 has <speed>; 1.1 loggers put it in extensions, which the gpx crate drops.
        fix.speed_mps = waypoint.speed;
        points.push(point(line, fix));
    }
    if points.is_empty() {
        return Err(parse_error(
            name,
            1,
            "no track points (<trk><trkseg><trkpt>); routes and waypoints are not traces",
        ));
    }
    Ok(points)
}

fn time_ms(time: ::gpx::Time) -> Option<i64> {
    let t: ::time::OffsetDateTime = time.into();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Line of each `<trkpt` start tag found by plain byte search.
fn trkpt_lines_quick(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let (mut line, mut counted_to) = (1, 0);
    let mut from = 0;
    while let Some(offset) = text[from..].find("<trkpt") {
        let at = from + offset;
        from = at + "<trkpt".len();
        // `<trkpt` must end the tag name here (not `<trkpts…`).
        if !matches!(
            bytes.get(from),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        ) {
            continue;
        }
        line += bytes[counted_to..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = at;
        lines.push(line);
    }
    lines
}

/// What the xml-rs pass learned.
struct Scan {
    /// Line of each `<trkpt>` start tag, in document order.
    trkpt_lines: Vec<usize>,
    /// The first track point the gpx crate is expected to reject, with a coordinate-free reason.
    first_suspect: Option<(usize, String)>,
}

/// Child elements of a track point that the gpx crate parses as numbers.
const NUMERIC_CHILDREN: &[&str] = &[
    "ele",
    "speed",
    "course",
    "magvar",
    "geoidheight",
    "sat",
    "hdop",
    "vdop",
    "pdop",
    "ageofdgpsdata",
    "dgpsid",
];

fn scan(text: &str) -> std::result::Result<Scan, (usize, String)> {
    let mut reader = EventReader::new(text.as_bytes());
    let mut scan = Scan {
        trkpt_lines: Vec::new(),
        first_suspect: None,
    };
    // The innermost open element, and the line of the enclosing trkpt while inside one.
    let mut current: Option<String> = None;
    let mut in_trkpt: Option<usize> = None;
    loop {
        let event = reader.next().map_err(|e| {
            let line = e.position().row as usize + 1;
            (line, format!("malformed XML: {}", e.msg()))
        })?;
        let line = reader.position().row as usize + 1;
        match event {
            XmlEvent::StartElement {
                name, attributes, ..
            } => {
                if name.local_name == "trkpt" {
                    scan.trkpt_lines.push(line);
                    in_trkpt = Some(line);
                    let attr = |n: &str| {
                        attributes
                            .iter()
                            .find(|a| a.name.local_name == n)
                            .map(|a| a.value.as_str())
                    };
                    if let Err(reason) = check_coordinates(attr("lat"), attr("lon")) {
                        scan.suspect(line, reason);
                    }
                }
                current = Some(name.local_name);
            }
            XmlEvent::Characters(value) => {
                if let (Some(element), Some(_)) = (current.as_deref(), in_trkpt) {
                    if let Err(reason) = check_child(element, value.trim()) {
                        scan.suspect(line, reason);
                    }
                }
            }
            XmlEvent::EndElement { name } => {
                if name.local_name == "trkpt" {
                    in_trkpt = None;
                }
                current = None;
            }
            XmlEvent::EndDocument => return Ok(scan),
            _ => {}
        }
    }
}

impl Scan {
    fn suspect(&mut self, line: usize, reason: String) {
        self.first_suspect.get_or_insert((line, reason));
    }
}

/// Mirrors the gpx crate's checks (it rejects lon = 180 too), without echoing values.
fn check_coordinates(lat: Option<&str>, lon: Option<&str>) -> std::result::Result<(), String> {
    let lat: f64 = lat
        .ok_or("track point has no lat attribute")?
        .trim()
        .parse()
        .map_err(|_| "lat is not a number")?;
    let lon: f64 = lon
        .ok_or("track point has no lon attribute")?
        .trim()
        .parse()
        .map_err(|_| "lon is not a number")?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err("lat is not a number within -90..=90".into());
    }
    if !(-180.0..180.0).contains(&lon) {
        return Err("lon is not a number within -180..180".into());
    }
    Ok(())
}

fn check_child(element: &str, value: &str) -> std::result::Result<(), String> {
    if element == "time" {
        let naive_ok = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
        if parse_time_ms(value).is_none() && !naive_ok {
            return Err("<time> is not an ISO 8601 date-time".into());
        }
    } else if NUMERIC_CHILDREN.contains(&element) && value.parse::<f64>().is_err() {
        return Err(format!("<{element}> is not a number"));
    }
    Ok(())
}

/// A coordinate-free description of a gpx crate error for when the scan found no suspect.
fn gpx_reason(e: &::gpx::errors::GpxError) -> String {
    use ::gpx::errors::GpxError as G;
    match e {
        G::LonLatOutOfBoundsError(field, range, _) => format!("{field} is outside {range}"),
        other => format!("invalid GPX: {other}"),
    }
}
