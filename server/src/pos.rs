//! The point-of-sale check run before a store is notified: open now (by its opening hours) and under
//! capacity. Opening-hours strings are validated when a store is created, so this only reads them.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use crate::model::{OpeningHours, Store, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosVerdict {
    Open,
    Closed,
    AtCapacity,
}

/// Parses "HH:MM" (00:00–24:00) into minutes of the day.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    (m < 60 && total <= 24 * 60).then_some(total)
}

fn weekday_of(day: chrono::Weekday) -> Weekday {
    match day {
        chrono::Weekday::Mon => Weekday::Mon,
        chrono::Weekday::Tue => Weekday::Tue,
        chrono::Weekday::Wed => Weekday::Wed,
        chrono::Weekday::Thu => Weekday::Thu,
        chrono::Weekday::Fri => Weekday::Fri,
        chrono::Weekday::Sat => Weekday::Sat,
        chrono::Weekday::Sun => Weekday::Sun,
    }
}

/// No opening hours means always open. A `close` earlier than `open` runs past midnight into the next day;
/// `open == close` means open all day.
pub fn is_open(hours: &[OpeningHours], utc_offset_minutes: i32, now: DateTime<Utc>) -> bool {
    if hours.is_empty() {
        return true;
    }
    let local = now + Duration::minutes(i64::from(utc_offset_minutes));
    let today = weekday_of(local.weekday());
    let yesterday = weekday_of(local.weekday().pred());
    let minute = local.hour() * 60 + local.minute();
    hours.iter().any(|h| {
        let (Some(open), Some(close)) = (parse_hhmm(&h.open), parse_hhmm(&h.close)) else {
            return false;
        };
        let on = |d: Weekday| h.days.contains(&d);
        if open == close {
            on(today)
        } else if open < close {
            on(today) && (open..close).contains(&minute)
        } else {
            (on(today) && minute >= open) || (on(yesterday) && minute < close)
        }
    })
}

pub fn check(store: &Store, active_orders: u32, now: DateTime<Utc>) -> PosVerdict {
    if !is_open(&store.opening_hours, store.utc_offset_minutes, now) {
        PosVerdict::Closed
    } else if active_orders >= store.capacity {
        PosVerdict::AtCapacity
    } else {
        PosVerdict::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hours(days: &[Weekday], open: &str, close: &str) -> Vec<OpeningHours> {
        vec![OpeningHours {
            days: days.to_vec(),
            open: open.into(),
            close: close.into(),
        }]
    }

    #[test]
    fn opening_hours_respect_day_time_offset_and_midnight() {
        // 2026-11-20 is a Friday.
        let fri_10_utc = Utc
            .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
            .single()
            .expect("valid date");
        let weekdays = hours(&[Weekday::Mon, Weekday::Fri], "09:00", "17:00");
        assert!(is_open(&weekdays, 0, fri_10_utc));
        assert!(
            !is_open(&weekdays, 8 * 60, fri_10_utc),
            "18:00 local is after closing"
        );
        assert!(!is_open(
            &hours(&[Weekday::Sat], "09:00", "17:00"),
            0,
            fri_10_utc
        ));
        let late = hours(&[Weekday::Thu], "20:00", "02:00");
        let fri_01 = Utc
            .with_ymd_and_hms(2026, 11, 20, 1, 0, 0)
            .single()
            .expect("valid date");
        assert!(
            is_open(&late, 0, fri_01),
            "Thursday's hours run past midnight"
        );
        assert!(!is_open(&late, 0, fri_10_utc));
        assert!(is_open(&[], 0, fri_10_utc));
    }

    #[test]
    fn hhmm_parsing_rejects_nonsense() {
        assert_eq!(parse_hhmm("09:30"), Some(570));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        for bad in ["9:30", "25:00", "10:60", "ab:cd", "", "24:01"] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }
}
