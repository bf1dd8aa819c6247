//! CSV traces: a header row naming `time,lat,lon` and optionally `accuracy_m,speed_mps,bearing_deg`, in
//! any order (other columns are ignored). `time` is RFC 3339 or Unix seconds; an empty or 0 accuracy means
//! unknown. A header with `;` and no `,` switches the delimiter to `;` (European spreadsheets write that).

use super::time::{parse_time_ms, BAD_TIME};
use super::{parse_error, point, TracePoint};
use crate::error::{Error, Result};
use crate::fix::LocationFix;

/// Where each known column sits in a record.
struct Columns {
    time: usize,
    lat: usize,
    lon: usize,
    accuracy: Option<usize>,
    speed: Option<usize>,
    bearing: Option<usize>,
}

pub(crate) fn parse(text: &str, name: &str) -> Result<Vec<TracePoint>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(text))
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(name, &e))?.clone();
    let columns = Columns::find(&header).map_err(|reason| parse_error(name, 1, reason))?;

    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(name, &e))?;
        let line = record.position().map_or(1, |p| p.line() as usize);
        let fix = columns
            .fix(&record)
            .map_err(|reason| parse_error(name, line, reason))?;
        points.push(point(line, fix));
    }
    if points.is_empty() {
        return Err(parse_error(name, 1, "the trace has no fixes"));
    }
    Ok(points)
}

fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

impl Columns {
    fn find(header: &::csv::StringRecord) -> std::result::Result<Self, String> {
        let index = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let required = |name: &str| {
            index(name).ok_or_else(|| {
                format!("the header row has no `{name}` column (it must name time,lat,lon)")
            })
        };
        Ok(Self {
            time: required("time")?,
            lat: required("lat")?,
            lon: required("lon")?,
            accuracy: index("accuracy_m"),
            speed: index("speed_mps"),
            bearing: index("bearing_deg"),
        })
    }

    fn fix(&self, record: &::csv::StringRecord) -> std::result::Result<LocationFix, String> {
        let field = |i: usize| record.get(i).unwrap_or_default();
        let time = field(self.time);
        if time.is_empty() {
            return Err("time is empty".into());
        }
        let time_ms = parse_time_ms(time).ok_or(BAD_TIME)?;
        let mut fix = LocationFix::new(
            time_ms,
            number("lat", field(self.lat))?,
            number("lon", field(self.lon))?,
        );
        fix.accuracy_m = optional_number("accuracy_m", self.accuracy.map(field))?;
        fix.speed_mps = optional_number("speed_mps", self.speed.map(field))?;
        fix.bearing_deg = optional_number("bearing_deg", self.bearing.map(field))?;
        Ok(fix)
    }
}

/// A required number. "NaN"/"inf" parse here and are rejected later, per fix, by validation.
fn number(column: &str, text: &str) -> std::result::Result<f64, String> {
    if text.is_empty() {
        return Err(format!("{column} is empty"));
    }
    text.parse()
        .map_err(|_| format!("{column} is not a number"))
}

/// An optional number: a missing column or an empty cell is unknown.
fn optional_number(column: &str, text: Option<&str>) -> std::result::Result<Option<f64>, String> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => number(column, t).map(Some),
    }
}

/// The csv crate knows the line for most errors (e.g. a row with the wrong number of fields).
fn csv_error(name: &str, e: &::csv::Error) -> Error {
    let line = e.position().map_or(1, |p| p.line() as usize);
    let reason = match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} fields, the header has {expected_len}"),
        ::csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        ::csv::ErrorKind::Io(_) => "could not read the text".to_string(),
        _ => "malformed CSV".to_string(),
    };
    parse_error(name, line, reason)
}
