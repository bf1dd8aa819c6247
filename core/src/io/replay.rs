//! Replaying a read trace through the engine and writing its events as JSON lines — the heart of
//! `fencepost replay`, here so the CLI and the pipeline benchmark run the same code.
//!
//! One line per event, in time order: `{"event", "fence_id", "time" (RFC 3339 UTC)}` plus `distance_m`
//! and `eta_s` when the event carries them (docs/ARCHITECTURE.md, "CLI").

use super::time::format_rfc3339_ms;
use super::TracePoint;
use crate::engine::GeofenceEngine;
use crate::event::{EventKind, GeofenceEvent};
use crate::fix::FixError;
use chrono::{DateTime, SecondsFormat};
use serde::Serialize;
use std::io::Write;

/// A fix that was skipped, and why: rejected while reading (bad values) or by the engine (e.g. time
/// running backwards). Displays as `line N: reason`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayWarning {
    pub line: usize,
    pub reason: FixError,
}

impl std::fmt::Display for ReplayWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: fix skipped: {}", self.line, self.reason)
    }
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Fixes handed to the engine and accepted by it (including duplicates and quarantined jumps,
    /// which the engine takes without producing events).
    pub fixes: usize,
    /// Fixes skipped with a warning.
    pub skipped: usize,
    pub events: usize,
}

/// The JSON line for one event.
#[derive(Serialize)]
struct EventLine<'a> {
    event: EventKind,
    fence_id: &'a str,
    time: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_s: Option<f64>,
}

/// Feeds `points` to `engine` in order, writes each event as a JSON line to `out`, and reports every
/// skipped fix to `warn`. Only a failing writer stops it. `out` is not flushed: the caller owns it.
pub fn replay<W: Write>(
    points: &[TracePoint],
    engine: &mut GeofenceEngine,
    out: &mut W,
    mut warn: impl FnMut(ReplayWarning),
) -> std::io::Result<ReplaySummary> {
    let mut summary = ReplaySummary::default();
    for point in points {
        let events = point.fix.clone().and_then(|fix| engine.process(fix));
        match events {
            Ok(events) => {
                summary.fixes += 1;
                for event in &events {
                    write_event(out, event)?;
                }
                summary.events += events.len();
            }
            Err(reason) => {
                summary.skipped += 1;
                warn(ReplayWarning {
                    line: point.line,
                    reason,
                });
            }
        }
    }
    Ok(summary)
}

/// Writes one event as a JSON line.
pub fn write_event<W: Write>(out: &mut W, event: &GeofenceEvent) -> std::io::Result<()> {
    let mut buf = [0u8; 24];
    let chrono_time;
    let time = match format_rfc3339_ms(event.time_ms, &mut buf) {
        Some(time) => time,
        None => {
            chrono_time = DateTime::from_timestamp_millis(event.time_ms)
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "event time is outside the representable range",
                    )
                })?
                .to_rfc3339_opts(SecondsFormat::AutoSi, true);
            &chrono_time
        }
    };
    let line = EventLine {
        event: event.kind,
        fence_id: &event.fence_id,
        time,
        // Decimetres and tenths of a second: more digits would be noise from the GPS, not precision.
        distance_m: event.distance_m.map(round1),
        eta_s: event.eta_s.map(round1),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lines_follow_the_contract() {
        let mut out = Vec::new();
        let arrived = GeofenceEvent {
            kind: EventKind::Arrived,
            fence_id: "stop-2".into(),
            time_ms: 1_608_272_385_000,
            distance_m: None,
            eta_s: None,
        };
        let eta = GeofenceEvent {
            kind: EventKind::Eta,
            fence_id: "stop-2".into(),
            time_ms: 1_608_272_385_250,
            distance_m: Some(123.456),
            eta_s: Some(17.04),
        };
        write_event(&mut out, &arrived).expect("writes to a Vec");
        write_event(&mut out, &eta).expect("writes to a Vec");
        let text = String::from_utf8(out).expect("JSON is UTF-8");
        assert_eq!(
            text,
            "{\"event\":\"arrived\",\"fence_id\":\"stop-2\",\"time\":\"2020-12-18T06:19:45Z\"}\n\
             {\"event\":\"eta\",\"fence_id\":\"stop-2\",\"time\":\"2020-12-18T06:19:45.250Z\",\
             \"distance_m\":123.5,\"eta_s\":17.0}\n"
        );
    }
}
