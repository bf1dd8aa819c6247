//! Reading GPS traces and geofences from files (the CLI contract in docs/ARCHITECTURE.md).
//!
//! Traces are chosen by extension: `.gpx` ([`gpx`]), `.csv` ([`csv`]), `.geojson`/`.json`
//! ([`geojson_trace`]). Fences are GeoJSON ([`fences`]). Every reader has a `*_str` twin so tests, the
//! companion and the simulator can parse text they already hold.
//!
//! Two levels of strictness:
//! - [`read_trace_points`] keeps going past fixes whose *values* are bad (NaN, |lat| > 90, negative
//!   accuracy …): each [`TracePoint`] carries the fix or the reason it was rejected, with its line. A
//!   broken *file* (malformed XML/CSV/JSON, a missing column, an unparseable time) is still an error.
//!   `fencepost replay` uses this and warns per rejected fix.
//! - [`read_trace`] is strict: the first rejected fix, or a fix older than the one before it, is an
//!   [`Error::Parse`] naming its line.
//!
//! Line numbers are 1-based. CSV: the record's line from the csv crate. GPX: the line of the `<trkpt>`
//! start tag (found by a separate xml-rs pass, since the gpx crate keeps no positions). GeoJSON: the line
//! where the offending feature, coordinate pair or `coordTimes` entry starts (found by [`json_lines`]).
//! Error reasons never contain coordinates or other values from the file (they may be personal data).

mod csv;
mod fences;
mod geojson_doc;
mod geojson_trace;
mod gpx;
mod json_lines;
mod replay;
mod time;

pub use fences::{parse_fences_str, read_fences};
pub use replay::{replay, write_event, ReplaySummary, ReplayWarning};

use crate::error::{Error, Result};
use crate::fix::{FixError, LocationFix};
use std::path::Path;

/// One fix as read from a file, before the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TracePoint {
    /// 1-based line in the source file (see the module doc for what "line" means per format).
    pub line: usize,
    /// The normalised fix ([`LocationFix::normalized`]), or why its values were rejected.
    pub fix: std::result::Result<LocationFix, FixError>,
}

/// A trace file format, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    Gpx,
    Csv,
    GeoJson,
}

impl TraceFormat {
    /// `.gpx`, `.csv`, `.geojson` or `.json` (case-insensitive); anything else is an error.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("gpx") => Ok(Self::Gpx),
            Some("csv") => Ok(Self::Csv),
            Some("geojson") | Some("json") => Ok(Self::GeoJson),
            _ => Err(Error::UnsupportedFormat {
                path: path.display().to_string(),
                expected: ".gpx, .csv or .geojson",
            }),
        }
    }
}

/// Reads a trace by extension, strictly: every fix valid and time never running backwards.
pub fn read_trace(path: impl AsRef<Path>) -> Result<Vec<LocationFix>> {
    let path = path.as_ref();
    let format = TraceFormat::from_path(path)?;
    let text = read_text(path)?;
    parse_trace_str(&text, format, &path.display().to_string())
}

/// Reads a trace by extension, keeping rejected fixes (with their line and reason) for the caller.
pub fn read_trace_points(path: impl AsRef<Path>) -> Result<Vec<TracePoint>> {
    let path = path.as_ref();
    let format = TraceFormat::from_path(path)?;
    let text = read_text(path)?;
    parse_trace_points_str(&text, format, &path.display().to_string())
}

/// Strict parse of trace text; `name` is used as the path in errors.
pub fn parse_trace_str(text: &str, format: TraceFormat, name: &str) -> Result<Vec<LocationFix>> {
    strict(parse_trace_points_str(text, format, name)?, name)
}

/// Lenient parse of trace text (see [`read_trace_points`]); `name` is used as the path in errors.
pub fn parse_trace_points_str(
    text: &str,
    format: TraceFormat,
    name: &str,
) -> Result<Vec<TracePoint>> {
    match format {
        TraceFormat::Gpx => gpx::parse(text, name),
        TraceFormat::Csv => csv::parse(text, name),
        TraceFormat::GeoJson => geojson_trace::parse(text, name),
    }
}

/// Turns the first rejected fix, or the first fix older than its predecessor, into an error.
fn strict(points: Vec<TracePoint>, name: &str) -> Result<Vec<LocationFix>> {
    let mut fixes: Vec<LocationFix> = Vec::with_capacity(points.len());
    for point in points {
        let fix = point.fix.map_err(|e| parse_error(name, point.line, e))?;
        if let Some(prev) = fixes.last() {
            if fix.time_ms < prev.time_ms {
                let e = FixError::TimeWentBackwards {
                    behind_ms: prev.time_ms - fix.time_ms,
                };
                return Err(parse_error(name, point.line, e));
            }
        }
        fixes.push(fix);
    }
    Ok(fixes)
}

/// Reads a whole file as UTF-8 text, mapping failures to [`Error::Io`] / [`Error::Parse`].
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The line of the first invalid byte: newlines in the valid prefix + 1.
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        parse_error(path.display(), line, "the file is not valid UTF-8")
    })
}

pub(crate) fn parse_error(
    path: impl std::fmt::Display,
    line: usize,
    reason: impl std::fmt::Display,
) -> Error {
    Error::Parse {
        path: path.to_string(),
        line,
        reason: reason.to_string(),
    }
}

/// Builds a [`TracePoint`] from raw values, normalising the fix.
pub(crate) fn point(line: usize, fix: LocationFix) -> TracePoint {
    TracePoint {
        line,
        fix: fix.normalized(),
    }
}
