//! The timeouts the execution uses, passed in its input (`$.timing`), so the same definition serves
//! production defaults and the short timings of the contract tests. Defaults follow the embedded engine
//! (`Timing`); `FENCEPOST_SFN_TIMING` (a JSON object with any of the fields below) overrides them.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::workflow::machine::Timing;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AslTiming {
    pub decision_timeout_s: i64,
    pub offer_timeout_s: i64,
    pub dispatch_retry_s: i64,
    pub dispatch_window_s: i64,
    pub pickup_heartbeat_s: i64,
    pub pickup_timeout_s: i64,
    pub delivery_timeout_s: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Overrides {
    decision_timeout_s: Option<i64>,
    offer_timeout_s: Option<i64>,
    dispatch_retry_s: Option<i64>,
    dispatch_window_s: Option<i64>,
    pickup_heartbeat_s: Option<i64>,
    pickup_timeout_s: Option<i64>,
    delivery_timeout_s: Option<i64>,
}

pub const ENV: &str = "FENCEPOST_SFN_TIMING";

impl AslTiming {
    pub fn from_timing(t: &Timing) -> Self {
        Self {
            decision_timeout_s: t.decision_timeout_s,
            offer_timeout_s: t.offer_timeout_s,
            dispatch_retry_s: t.dispatch_retry_s,
            dispatch_window_s: t.dispatch_window_s,
            pickup_heartbeat_s: t.pickup_heartbeat_s,
            pickup_timeout_s: t.pickup_timeout_s,
            delivery_timeout_s: t.delivery_timeout_s,
        }
    }

    /// Applies a JSON object of overrides; every value must be a whole number of seconds, 1 ..= 1 year
    /// (Step Functions' own limits for TimeoutSeconds).
    pub fn with_overrides(mut self, json: &str) -> Result<Self, Error> {
        let o: Overrides = serde_json::from_str(json)
            .map_err(|e| Error::Config(format!("{ENV} must be a JSON object of timings: {e}")))?;
        let pairs = [
            (&mut self.decision_timeout_s, o.decision_timeout_s),
            (&mut self.offer_timeout_s, o.offer_timeout_s),
            (&mut self.dispatch_retry_s, o.dispatch_retry_s),
            (&mut self.dispatch_window_s, o.dispatch_window_s),
            (&mut self.pickup_heartbeat_s, o.pickup_heartbeat_s),
            (&mut self.pickup_timeout_s, o.pickup_timeout_s),
            (&mut self.delivery_timeout_s, o.delivery_timeout_s),
        ];
        for (field, value) in pairs {
            if let Some(v) = value {
                if !(1..=31_536_000).contains(&v) {
                    return Err(Error::Config(format!(
                        "{ENV}: every timing must be 1..=31536000 seconds, got {v}"
                    )));
                }
                *field = v;
            }
        }
        Ok(self)
    }

    pub fn from_env(t: &Timing) -> Result<Self, Error> {
        let base = Self::from_timing(t);
        match std::env::var(ENV) {
            Ok(json) if !json.trim().is_empty() => base.with_overrides(&json),
            _ => Ok(base),
        }
    }

    /// The execution input's `timing` object.
    pub fn to_input(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The embedded `Timing` the projector uses, with the overrides applied.
    pub fn apply_to(&self, t: &Timing) -> Timing {
        Timing {
            decision_timeout_s: self.decision_timeout_s,
            offer_timeout_s: self.offer_timeout_s,
            dispatch_window_s: self.dispatch_window_s,
            dispatch_retry_s: self.dispatch_retry_s,
            pickup_heartbeat_s: self.pickup_heartbeat_s,
            pickup_timeout_s: self.pickup_timeout_s,
            delivery_timeout_s: self.delivery_timeout_s,
            driver_fresh_s: t.driver_fresh_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_and_bad_values_are_refused() {
        let base = AslTiming::from_timing(&Timing::default());
        assert_eq!(base.decision_timeout_s, 300);
        let short = base
            .clone()
            .with_overrides(r#"{"decisionTimeoutS": 2, "pickupHeartbeatS": 3}"#)
            .expect("valid");
        assert_eq!(
            (
                short.decision_timeout_s,
                short.pickup_heartbeat_s,
                short.offer_timeout_s
            ),
            (2, 3, 60)
        );
        assert!(base
            .clone()
            .with_overrides(r#"{"decisionTimeoutS": 0}"#)
            .is_err());
        assert!(base
            .clone()
            .with_overrides(r#"{"decisionTimeout": 5}"#)
            .is_err());
        assert!(base.with_overrides("[1]").is_err());
    }

    #[test]
    fn the_input_and_the_definition_agree_on_timing_fields() {
        let input = AslTiming::from_timing(&Timing::default()).to_input();
        let fields: Vec<&String> = input
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        let asl = crate::workflow::stepfunctions::definition::ORDER_ASL;
        // Every `$.timing.x` the definition reads is in the input (a missing one fails the execution).
        for read in asl.split("$.timing.").skip(1) {
            let name: String = read
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                fields.iter().any(|f| **f == name),
                "the definition reads $.timing.{name}, the input lacks it"
            );
        }
        // And every input field but the middleware's own dispatch window is read by some state.
        for field in fields.iter().filter(|f| f.as_str() != "dispatchWindowS") {
            assert!(
                asl.contains(&format!("$.timing.{field}")),
                "{field} is never read by the definition"
            );
        }
    }
}
