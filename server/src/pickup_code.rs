//! The store's pickup code: HMAC-SHA256(server secret, "pickup:" + orderId), first 60 bits in Crockford
//! base32 (12 characters). Short enough for a small QR code, unforgeable without the server secret,
//! and bound to one order.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Prefix of the QR payload: `FP1:<orderId>:<code>`.
pub const QR_PREFIX: &str = "FP1";

pub struct PickupCodes {
    secret: Vec<u8>,
}

impl PickupCodes {
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    pub fn code_for(&self, order_id: &str) -> String {
        // HMAC accepts keys of any length, so construction cannot fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(b"pickup:");
        mac.update(order_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bits: u64 = 0;
        for byte in digest.iter().take(8) {
            bits = (bits << 8) | u64::from(*byte);
        }
        let bits = bits >> 4; // keep 60 bits = 12 base32 digits
        (0..12)
            .rev()
            .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
            .collect()
    }

    pub fn qr_for(&self, order_id: &str) -> String {
        format!("{QR_PREFIX}:{order_id}:{}", self.code_for(order_id))
    }

    /// Accepts the bare code or the whole QR string; for a QR string the embedded order id must match.
    /// Case-insensitive, and Crockford's look-alikes (O→0, I/L→1) are folded, as a human may type it.
    pub fn verify(&self, order_id: &str, presented: &str) -> bool {
        let code = match presented.split(':').collect::<Vec<_>>().as_slice() {
            [code] => *code,
            [prefix, qr_order, code] if *prefix == QR_PREFIX => {
                if *qr_order != order_id {
                    return false;
                }
                *code
            }
            _ => return false,
        };
        let normalized: String = code
            .trim()
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        let expected = self.code_for(order_id);
        normalized.len() == expected.len()
            && bool::from(normalized.as_bytes().ct_eq(expected.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_verify_only_for_their_order_and_secret() {
        let codes = PickupCodes::new(b"secret-one".to_vec());
        let code = codes.code_for("order-a");
        assert_eq!(code.len(), 12);
        assert!(codes.verify("order-a", &code));
        assert!(codes.verify("order-a", &code.to_lowercase()));
        assert!(codes.verify("order-a", &codes.qr_for("order-a")));
        assert!(!codes.verify("order-b", &code));
        assert!(!codes.verify("order-b", &codes.qr_for("order-a")));
        let other = PickupCodes::new(b"secret-two".to_vec());
        assert!(!other.verify("order-a", &code));
        assert!(!codes.verify("order-a", "000000000000"));
        assert!(!codes.verify("order-a", ""));
    }
}
