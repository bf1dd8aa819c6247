//! Why a pickup scan was refused, for the UI to explain.

use fencepost_core::companion as core;

/// Why the companion (or the server) refused a pickup scan. Values are ages and accuracies, never
/// positions.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PickupRefusal {
    /// The scanned text is not a pickup code at all.
    UnreadableCode,
    /// The code belongs to another order (or the server found it forged).
    WrongOrder,
    /// No usable fix since the dispatch was accepted.
    NoFix,
    /// The latest fix is too old (or stamped too far in the future).
    StaleFix { age_s: i64 },
    /// The latest fix's accuracy is unknown or worse than the limit.
    Inaccurate { accuracy_m: Option<f64> },
    /// The latest fix is not confidently inside the store's fence.
    OutsideFence,
    /// The platform flagged the fix as coming from a mock location provider.
    Mocked,
    /// The latest fix was an implausible jump the cleaner quarantined.
    QuarantinedJump,
}

impl From<core::PickupRefusal> for PickupRefusal {
    fn from(r: core::PickupRefusal) -> Self {
        use core::PickupRefusal as R;
        match r {
            R::UnreadableCode => PickupRefusal::UnreadableCode,
            R::WrongOrder => PickupRefusal::WrongOrder,
            R::NoFix => PickupRefusal::NoFix,
            R::StaleFix { age_s } => PickupRefusal::StaleFix { age_s },
            R::Inaccurate { accuracy_m } => PickupRefusal::Inaccurate { accuracy_m },
            R::OutsideFence => PickupRefusal::OutsideFence,
            R::Mocked => PickupRefusal::Mocked,
            R::QuarantinedJump => PickupRefusal::QuarantinedJump,
        }
    }
}
