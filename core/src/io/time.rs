//! Timestamps as trace files write them: RFC 3339 text, or Unix seconds (fractions allowed).

use chrono::DateTime;

/// Why a timestamp could not be read. Deliberately does not echo the text (see the module doc of `io`).
pub(crate) const BAD_TIME: &str =
    "time is neither RFC 3339 (e.g. 2024-05-01T12:00:00Z) nor Unix seconds";

/// Parses RFC 3339 (any offset, converted to UTC) or Unix seconds into epoch milliseconds.
pub(crate) fn parse_time_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let seconds: f64 = text.parse().ok()?;
    unix_seconds_to_ms(seconds)
}

/// Unix seconds → milliseconds, rounded; `None` for NaN/inf or values outside chrono's range
/// (roughly ±262,000 years), so later date formatting can never fail.
pub(crate) fn unix_seconds_to_ms(seconds: f64) -> Option<i64> {
    // ±8.2e12 s is chrono's representable range; stay inside it.
    const LIMIT_S: f64 = 8.0e12;
    if !seconds.is_finite() || seconds.abs() > LIMIT_S {
        return None;
    }
    // In range by the check above, so the cast cannot saturate.
    Some((seconds * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_time_ms("1970-01-01T01:00:01.5+01:00"), Some(1500));
    }

    #[test]
    fn reads_unix_seconds() {
        assert_eq!(parse_time_ms("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time_ms(" 12.345 "), Some(12_345));
    }

    #[test]
    fn rejects_other_text_and_non_finite_numbers() {
        assert_eq!(parse_time_ms("2019-01-25 20:00:16"), None);
        assert_eq!(parse_time_ms("NaN"), None);
        assert_eq!(parse_time_ms("inf"), None);
        assert_eq!(parse_time_ms("1e300"), None);
        assert_eq!(parse_time_ms(""), None);
    }
}
