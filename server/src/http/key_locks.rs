//! Turns per key: requests holding the same key run one after another, in arrival order. A turn is a
//! guard released when it is dropped, so a request that fails, panics or whose client goes away never
//! leaves its key held; a key nobody holds or waits for takes no memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

/// The lock of one key and how many tickets (holder + waiters) name it.
struct Entry {
    lock: Arc<TurnLock<()>>,
    tickets: usize,
}

type Table<K> = Arc<Mutex<HashMap<K, Entry>>>;

pub struct KeyLocks<K> {
    table: Table<K>,
}

impl<K> Default for KeyLocks<K> {
    fn default() -> Self {
        Self {
            table: Arc::default(),
        }
    }
}

/// A place in the queue of one key; dropping it (even while still waiting) gives the place up.
struct Ticket<K: Eq + Hash> {
    table: Table<K>,
    key: K,
}

/// The key's turn: held until dropped.
pub struct Turn<K: Eq + Hash> {
    // Field order matters: the lock is released before the ticket leaves the table.
    _held: OwnedMutexGuard<()>,
    _ticket: Ticket<K>,
}

/// The table is only ever locked for a map operation that cannot panic halfway: a poisoned lock
/// still holds a consistent map.
fn lock<K>(table: &Table<K>) -> MutexGuard<'_, HashMap<K, Entry>> {
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<K: Eq + Hash + Clone> KeyLocks<K> {
    /// Waits until every earlier holder of `key` has dropped its turn.
    pub async fn turn(&self, key: K) -> Turn<K> {
        let lock = {
            let mut table = lock(&self.table);
            let entry = table.entry(key.clone()).or_insert_with(|| Entry {
                lock: Arc::default(),
                tickets: 0,
            });
            entry.tickets += 1;
            entry.lock.clone()
        };
        // Taken before waiting: a caller dropped while it waits still gives its ticket back.
        let ticket = Ticket {
            table: self.table.clone(),
            key,
        };
        let held = lock.lock_owned().await;
        Turn {
            _held: held,
            _ticket: ticket,
        }
    }

    /// Holders and waiters of `key`.
    pub fn tickets(&self, key: &K) -> usize {
        lock(&self.table).get(key).map_or(0, |e| e.tickets)
    }

    /// Keys held or waited for.
    pub fn len(&self) -> usize {
        lock(&self.table).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash> Drop for Ticket<K> {
    fn drop(&mut self) {
        let mut table = lock(&self.table);
        if let Some(entry) = table.get_mut(&self.key) {
            entry.tickets = entry.tickets.saturating_sub(1);
            if entry.tickets == 0 {
                table.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_holder_at_a_time_then_the_next_in_line() {
        let locks = Arc::new(KeyLocks::<&str>::default());
        let first = locks.turn("k").await;
        let other_key = locks.turn("other").await; // other keys are not held up
        let waiter = tokio::spawn({
            let locks = locks.clone();
            async move {
                let _turn = locks.turn("k").await;
            }
        });
        wait_for(|| locks.tickets(&"k") == 2).await;
        assert!(!waiter.is_finished(), "the second holder must wait");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .ok()
            .and_then(Result::ok)
            .expect("the waiter gets its turn once the first is dropped");
        drop(other_key);
        assert!(locks.is_empty(), "nothing left once every turn is dropped");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_nothing_behind() {
        let locks = Arc::new(KeyLocks::<u32>::default());
        let first = locks.turn(7).await;
        let waiter = tokio::spawn({
            let locks = locks.clone();
            async move {
                let _turn = locks.turn(7).await;
            }
        });
        wait_for(|| locks.tickets(&7) == 2).await;
        waiter.abort(); // as when the client of a waiting request disconnects
        let _ = waiter.await;
        assert_eq!(locks.tickets(&7), 1);
        drop(first);
        assert!(locks.is_empty());
        // The key is free again.
        let again = tokio::time::timeout(Duration::from_secs(5), locks.turn(7)).await;
        assert!(again.is_ok());
    }

    /// Polls `cond` every millisecond, for at most 5 s.
    async fn wait_for(cond: impl Fn() -> bool) {
        for _ in 0..5000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("condition not reached within 5 s");
    }
}
