//! Pickup evidence: before a scan is sent, the companion checks that the code names the active order and
//! that the latest fix proves the driver is at the store. Each failure is a [`PickupRefusal`] the UI can
//! show ("move closer", "wait for a better GPS fix"); nothing here touches the network.

use serde::{Deserialize, Serialize};

/// Why a pickup scan was refused. Values are ages and accuracies, never positions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickupRefusal {
    /// The scanned text is not a pickup code at all.
    #[error("the scanned code is not a pickup code")]
    UnreadableCode,
    /// The code belongs to another order (or the server found it forged).
    #[error("the scanned code is for another order")]
    WrongOrder,
    /// No usable fix since the dispatch was accepted.
    #[error("no location fix yet")]
    NoFix,
    /// The latest fix is too old (or stamped too far in the future).
    #[error("the latest location fix is {age_s} s old")]
    StaleFix { age_s: i64 },
    /// The latest fix's accuracy is unknown or worse than the limit.
    #[error("the latest location fix is not accurate enough")]
    Inaccurate { accuracy_m: Option<f64> },
    /// The latest fix is not confidently inside the store fence.
    #[error("the latest location fix is outside the store fence")]
    OutsideFence,
    /// The platform flagged the fix as coming from a mock location provider.
    #[error("the location comes from a mock provider")]
    Mocked,
    /// The latest fix was an implausible jump the cleaner quarantined.
    #[error("the latest location fix is an implausible jump")]
    QuarantinedJump,
}

/// The latest fix as the engine saw it: what a pickup check needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct FixFacts {
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub is_mock: bool,
    pub quarantined: bool,
    /// The engine's verdict for the store fence (`None`: not evaluated yet).
    pub inside_fence: Option<bool>,
}

/// Limits a pickup's evidence must meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvidenceLimits {
    pub max_age_ms: i64,
    pub max_accuracy_m: f64,
}

/// A fix stamped further ahead of the phone's clock than this is as suspect as a stale one. The server
/// allows 30 s ahead (docs/http-api.md); the same limit here.
const MAX_FUTURE_MS: i64 = 30_000;

/// The evidence sent with a pickup or delivery (docs/http-api.md, "evidence").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub time_ms: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: f64,
    pub inside_fence: bool,
    pub mock: bool,
}

/// The order id a scanned code names, when it names one: the store's QR text is
/// `FP1:<orderId>:<code>`; a bare 12-character code names no order (the server checks it).
pub fn code_order_id(scanned: &str) -> Result<Option<&str>, PickupRefusal> {
    let scanned = scanned.trim();
    if let Some(rest) = scanned.strip_prefix("FP1:") {
        let (order_id, code) = rest.split_once(':').ok_or(PickupRefusal::UnreadableCode)?;
        if order_id.is_empty() || !is_code(code) {
            return Err(PickupRefusal::UnreadableCode);
        }
        return Ok(Some(order_id));
    }
    if is_code(scanned) {
        Ok(None)
    } else {
        Err(PickupRefusal::UnreadableCode)
    }
}

/// Twelve Crockford base32 characters (the server's HMAC code).
fn is_code(code: &str) -> bool {
    code.len() == 12
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"ILOU".contains(&b)))
}

/// Checks a scan against the active order and the latest fix, in the order a driver can fix them:
/// the code first, then the fix's trustworthiness, then where it is.
pub fn check_pickup(
    scanned: &str,
    active_order_id: &str,
    latest: Option<&FixFacts>,
    now_ms: i64,
    limits: EvidenceLimits,
) -> Result<Evidence, PickupRefusal> {
    if let Some(order_id) = code_order_id(scanned)? {
        if order_id != active_order_id {
            return Err(PickupRefusal::WrongOrder);
        }
    }
    check_fix(latest, now_ms, limits)
}

/// The location half of the check, shared with delivery confirmation.
pub fn check_fix(
    latest: Option<&FixFacts>,
    now_ms: i64,
    limits: EvidenceLimits,
) -> Result<Evidence, PickupRefusal> {
    let fix = latest.ok_or(PickupRefusal::NoFix)?;
    if fix.is_mock {
        return Err(PickupRefusal::Mocked);
    }
    let age_ms = now_ms.saturating_sub(fix.time_ms);
    if age_ms > limits.max_age_ms || age_ms < -MAX_FUTURE_MS {
        return Err(PickupRefusal::StaleFix {
            age_s: age_ms / 1000,
        });
    }
    if fix.quarantined {
        return Err(PickupRefusal::QuarantinedJump);
    }
    let accuracy_m = match fix.accuracy_m {
        Some(a) if a <= limits.max_accuracy_m => a,
        other => return Err(PickupRefusal::Inaccurate { accuracy_m: other }),
    };
    if fix.inside_fence != Some(true) {
        return Err(PickupRefusal::OutsideFence);
    }
    Ok(Evidence {
        time_ms: fix.time_ms,
        latitude: fix.lat,
        longitude: fix.lon,
        accuracy_m,
        inside_fence: true,
        mock: false,
    })
}
