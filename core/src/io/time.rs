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

/// Epoch milliseconds as RFC 3339 UTC the way chrono writes them with `SecondsFormat::AutoSi` and
/// `Z` (`2020-12-18T06:19:45Z`, or `…:45.250Z` when there are milliseconds), into `buf`, without
/// chrono's intermediate `String`: replay writes one per event. `None` outside the years
/// 1970..=9999 (the caller falls back to chrono, which also knows how to write those).
pub(crate) fn format_rfc3339_ms(time_ms: i64, buf: &mut [u8; 24]) -> Option<&str> {
    // 253402300800000 ms is 10000-01-01T00:00:00Z.
    if !(0..253_402_300_800_000).contains(&time_ms) {
        return None;
    }
    let (days, ms_of_day) = (time_ms / 86_400_000, time_ms % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    let mut put = |at: usize, value: i64, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, h, 2);
    put(14, m, 2);
    put(17, s, 2);
    put(20, ms, 3);
    for (at, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        buf[at] = sep;
    }
    let len = if ms == 0 {
        buf[19] = b'Z';
        20
    } else {
        buf[23] = b'Z';
        24
    };
    std::str::from_utf8(&buf[..len]).ok()
}

/// (year, month, day) of a day count since 1970-01-01 (≥ 0), in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_time_ms("1970-01-01T01:00:01.5+01:00"), Some(1500));
    }

    /// The fast formatter writes exactly what chrono writes, over leap days, year ends, with and
    /// without milliseconds, and leaves the years it does not handle to chrono.
    #[test]
    fn formats_like_chrono() {
        use chrono::SecondsFormat;
        let mut state: u64 = 3;
        let mut samples = vec![0, 1, 999, 1000, 951_782_400_000, 253_402_300_799_999];
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let ms = (state >> 20) as i64 % 253_402_300_800_000;
            samples.push(ms);
            samples.push(ms - ms % 1000);
        }
        for ms in samples {
            let expected = DateTime::from_timestamp_millis(ms)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            let mut buf = [0u8; 24];
            assert_eq!(format_rfc3339_ms(ms, &mut buf), expected.as_deref(), "{ms}");
        }
        let mut buf = [0u8; 24];
        assert_eq!(format_rfc3339_ms(-1, &mut buf), None);
        assert_eq!(format_rfc3339_ms(253_402_300_800_000, &mut buf), None);
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
