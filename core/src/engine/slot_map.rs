//! A hash map keyed by fence slot. Slots are small integers the engine hands out itself (nobody can
//! choose them to collide), so SipHash's protection against hostile keys buys nothing and costs a
//! few hundred instructions per fix; a multiplicative (Fibonacci) hash spreads them as well.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub(crate) type SlotMap<V> = HashMap<u32, V, BuildHasherDefault<SlotHasher>>;

#[derive(Default)]
pub(crate) struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u32; fold them in byte by byte.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, slot: u32) {
        self.0 = u64::from(slot).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
