//! Checks on the fix a driver sends as proof of a handoff (pickup at the store, delivery at the customer).
//! The device's own verdict (`insideFence`) must agree with the server's geometry; mock locations, stale
//! or imprecise fixes are refused. Messages name the rule, never the coordinates.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::geometry::{distance_outside_fence_m, haversine_m};
use crate::model::{Coordinates, Evidence, StoreFence};

pub const MAX_AGE_S: i64 = 120;
pub const MAX_AHEAD_S: i64 = 30;
pub const MAX_ACCURACY_M: f64 = 100.0;
/// How close to the delivery address a delivery must be proven (plus the fix's accuracy).
pub const DELIVERY_RADIUS_M: f64 = 100.0;

pub enum Place<'a> {
    Store {
        location: Coordinates,
        fence: &'a StoreFence,
    },
    Customer {
        location: Coordinates,
    },
}

pub fn check(evidence: &Evidence, place: Place<'_>, now: DateTime<Utc>) -> Result<(), ApiError> {
    if evidence.mock {
        return Err(ApiError::unprocessable(
            "mock_location",
            "Evidence comes from a mock location provider.",
        ));
    }
    let age_s = (now - evidence.time).num_seconds();
    if !(-MAX_AHEAD_S..=MAX_AGE_S).contains(&age_s) {
        return Err(ApiError::unprocessable(
            "stale_evidence",
            format!("Evidence fix time must be within {MAX_AGE_S} s before and {MAX_AHEAD_S} s after the server clock."),
        ));
    }
    let fix = Coordinates {
        latitude: evidence.latitude,
        longitude: evidence.longitude,
    };
    fix.check("evidence").map_err(ApiError::invalid_body)?;
    if !evidence.accuracy_m.is_finite() || evidence.accuracy_m < 0.0 {
        return Err(ApiError::invalid_body(
            "evidence.accuracyM must be a non-negative number",
        ));
    }
    if evidence.accuracy_m > MAX_ACCURACY_M {
        return Err(ApiError::unprocessable(
            "inaccurate_evidence",
            format!("Evidence accuracy must be {MAX_ACCURACY_M} m or better."),
        ));
    }
    let outside_m = match place {
        Place::Store { location, fence } => distance_outside_fence_m(fix, location, fence),
        Place::Customer { location } => (haversine_m(fix, location) - DELIVERY_RADIUS_M).max(0.0),
    };
    if !evidence.inside_fence || outside_m > evidence.accuracy_m {
        return Err(ApiError::unprocessable(
            "outside_fence",
            "Evidence fix is not inside the handoff fence.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(now: DateTime<Utc>, lat: f64) -> Evidence {
        Evidence {
            time: now,
            latitude: lat,
            longitude: 24.94,
            accuracy_m: 10.0,
            inside_fence: true,
            mock: false,
        }
    }

    #[test]
    fn each_rule_refuses_with_its_code() {
        let now = Utc::now();
        let fence = StoreFence {
            radius_m: Some(40.0),
            polygon: None,
        };
        let store = || Place::Store {
            location: Coordinates {
                latitude: 60.17,
                longitude: 24.94,
            },
            fence: &fence,
        };
        assert!(check(&evidence(now, 60.17), store(), now).is_ok());
        let code = |e: Evidence| check(&e, store(), now).err().map(|e| e.code);
        assert_eq!(
            code(Evidence {
                mock: true,
                ..evidence(now, 60.17)
            }),
            Some("mock_location")
        );
        assert_eq!(
            code(evidence(now - chrono::Duration::seconds(121), 60.17)),
            Some("stale_evidence")
        );
        assert_eq!(
            code(Evidence {
                accuracy_m: 150.0,
                ..evidence(now, 60.17)
            }),
            Some("inaccurate_evidence")
        );
        assert_eq!(code(evidence(now, 60.172)), Some("outside_fence"));
        assert_eq!(
            code(Evidence {
                inside_fence: false,
                ..evidence(now, 60.17)
            }),
            Some("outside_fence")
        );
        assert_eq!(code(evidence(now, 91.0)), Some("invalid_body"));
    }
}
