//! The server's clock. Every timeout and timestamp reads it, so tests can move time forward
//! (`--test-clock` + `POST /admin/clock/advance`) instead of sleeping.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time plus an offset that only the test clock may move.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    adjustable: bool,
}

impl Clock {
    pub fn system() -> Self {
        Self {
            offset_ms: AtomicI64::new(0),
            adjustable: false,
        }
    }
    pub fn adjustable() -> Self {
        Self {
            offset_ms: AtomicI64::new(0),
            adjustable: true,
        }
    }
    pub fn is_adjustable(&self) -> bool {
        self.adjustable
    }
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::SeqCst)
    }
    pub fn now(&self) -> DateTime<Utc> {
        from_ms(self.now_ms())
    }
    /// Moves the clock forward; returns false (and does nothing) on the system clock.
    pub fn advance(&self, seconds: i64) -> bool {
        if !self.adjustable {
            return false;
        }
        self.offset_ms
            .fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst);
        true
    }
}

/// Converts stored milliseconds to a UTC time; out-of-range values clamp to the epoch rather than panic.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_adjustable_clock_moves() {
        let system = Clock::system();
        assert!(!system.advance(100));
        let test = Clock::adjustable();
        let before = test.now_ms();
        assert!(test.advance(300));
        let moved = test.now_ms() - before;
        assert!((300_000..310_000).contains(&moved), "moved {moved} ms");
    }
}
