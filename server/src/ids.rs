//! Random identifiers and secrets: order ids (21-character nanoids, as in the seed), bearer tokens and task
//! tokens, and the one-way hash under which bearer tokens are stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

const NANOID_ALPHABET: &[u8; 64] =
    b"_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A 21-character nanoid (126 random bits), the seed's order id format.
pub fn nanoid() -> String {
    let mut rng = rand::rng();
    (0..21)
        .map(|_| NANOID_ALPHABET[rng.random_range(0..64)] as char)
        .collect()
}

/// 32 random bytes, base64url, behind a prefix naming what the secret is for (e.g. `fpd_` for drivers).
pub fn secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Bearer tokens are stored only as their SHA-256 (hex), so a copy of the database grants no access.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of request bytes, for idempotency-key replay checks.
pub fn hash_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanoids_have_the_seed_shape_and_differ() {
        let a = nanoid();
        let b = nanoid();
        assert_eq!(a.len(), 21);
        assert!(a.bytes().all(|c| NANOID_ALPHABET.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_carry_their_prefix_and_hash_stably() {
        let t = secret("fpd_");
        assert!(t.starts_with("fpd_") && t.len() == 4 + 43);
        assert_eq!(hash_token(&t), hash_token(&t));
        assert_ne!(hash_token(&t), hash_token(&secret("fpd_")));
    }
}
