//! Wakes server-sent-event streams when events were written. The events themselves are rows (so a
//! reconnecting client resumes with Last-Event-ID); this is only the doorbell.

use tokio::sync::watch;

pub struct Feed {
    bell: watch::Sender<u64>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            bell: watch::Sender::new(0),
        }
    }
}

impl Feed {
    pub fn ring(&self) {
        self.bell.send_modify(|n| *n = n.wrapping_add(1));
    }
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.bell.subscribe()
    }
}

/// Audiences of the event table.
pub const STORE: &str = "store";
pub const DRIVER: &str = "driver";
