//! The companion's pure rules: pickup evidence refusals, the lifecycle, the adaptive tracking profile,
//! which driver-feed events end an order.

use fencepost_core::companion::evidence::{
    check_fix, check_pickup, code_order_id, EvidenceLimits, FixFacts, PickupRefusal,
};
use fencepost_core::companion::lifecycle::{next, Phase, Trigger};
use fencepost_core::companion::tracking::{profile_for, TrackingAccuracy, TrackingProfile};
use fencepost_core::companion::wire::{parse_order_ended, OrderEnded};
use fencepost_core::companion::CompanionConfig;

const ORDER: &str = "V1StGXR8_Z5jdHi6B-myT";
const NOW: i64 = 1_800_000_000_000;
const LIMITS: EvidenceLimits = EvidenceLimits {
    max_age_ms: 30_000,
    max_accuracy_m: 50.0,
};

fn good_fix() -> FixFacts {
    FixFacts {
        time_ms: NOW - 2_000,
        lat: 60.17,
        lon: 24.94,
        accuracy_m: Some(8.0),
        is_mock: false,
        quarantined: false,
        inside_fence: Some(true),
    }
}

fn qr(order: &str) -> String {
    format!("FP1:{order}:K7M2Q9XW4RBT")
}

#[test]
fn a_good_scan_yields_evidence_from_the_latest_fix() {
    let evidence =
        check_pickup(&qr(ORDER), ORDER, Some(&good_fix()), NOW, LIMITS).expect("accepted");
    assert_eq!(evidence.time_ms, NOW - 2_000);
    assert!(evidence.inside_fence && !evidence.mock);
    assert_eq!(evidence.accuracy_m, 8.0);
    // A bare code names no order: the server checks it.
    assert!(check_pickup("K7M2Q9XW4RBT", ORDER, Some(&good_fix()), NOW, LIMITS).is_ok());
}

#[test]
fn every_refusal_is_typed() {
    let cases: Vec<(&str, String, Option<FixFacts>, PickupRefusal)> = vec![
        (
            "wrong order",
            qr("AnotherOrder_12345678"),
            Some(good_fix()),
            PickupRefusal::WrongOrder,
        ),
        (
            "unreadable",
            "hello".into(),
            Some(good_fix()),
            PickupRefusal::UnreadableCode,
        ),
        (
            "bad code chars",
            format!("FP1:{ORDER}:K7M2Q9XW4RBI"),
            Some(good_fix()),
            PickupRefusal::UnreadableCode,
        ),
        ("no fix", qr(ORDER), None, PickupRefusal::NoFix),
        (
            "stale",
            qr(ORDER),
            Some(FixFacts {
                time_ms: NOW - 45_000,
                ..good_fix()
            }),
            PickupRefusal::StaleFix { age_s: 45 },
        ),
        (
            "from the future",
            qr(ORDER),
            Some(FixFacts {
                time_ms: NOW + 60_000,
                ..good_fix()
            }),
            PickupRefusal::StaleFix { age_s: -60 },
        ),
        (
            "inaccurate",
            qr(ORDER),
            Some(FixFacts {
                accuracy_m: Some(697.0),
                ..good_fix()
            }),
            PickupRefusal::Inaccurate {
                accuracy_m: Some(697.0),
            },
        ),
        (
            "unknown accuracy",
            qr(ORDER),
            Some(FixFacts {
                accuracy_m: None,
                ..good_fix()
            }),
            PickupRefusal::Inaccurate { accuracy_m: None },
        ),
        (
            "outside",
            qr(ORDER),
            Some(FixFacts {
                inside_fence: Some(false),
                ..good_fix()
            }),
            PickupRefusal::OutsideFence,
        ),
        (
            "not evaluated",
            qr(ORDER),
            Some(FixFacts {
                inside_fence: None,
                ..good_fix()
            }),
            PickupRefusal::OutsideFence,
        ),
        (
            "mocked",
            qr(ORDER),
            Some(FixFacts {
                is_mock: true,
                ..good_fix()
            }),
            PickupRefusal::Mocked,
        ),
        (
            "quarantined jump",
            qr(ORDER),
            Some(FixFacts {
                quarantined: true,
                ..good_fix()
            }),
            PickupRefusal::QuarantinedJump,
        ),
    ];
    for (name, code, fix, expected) in cases {
        let got = check_pickup(&code, ORDER, fix.as_ref(), NOW, LIMITS);
        assert_eq!(got, Err(expected), "{name}");
    }
}

#[test]
fn refusal_messages_carry_no_position() {
    let fix = FixFacts {
        inside_fence: Some(false),
        ..good_fix()
    };
    let err = check_fix(Some(&fix), NOW, LIMITS).expect_err("outside");
    let text = err.to_string();
    assert!(!text.contains("60.17") && !text.contains("24.94"), "{text}");
}

#[test]
fn qr_text_names_its_order() {
    assert_eq!(code_order_id(&qr(ORDER)), Ok(Some(ORDER)));
    assert_eq!(code_order_id(" K7M2Q9XW4RBT "), Ok(None));
    assert_eq!(
        code_order_id("FP1::K7M2Q9XW4RBT"),
        Err(PickupRefusal::UnreadableCode)
    );
}

#[test]
fn the_lifecycle_runs_offer_to_delivery_and_refuses_shortcuts() {
    let mut phase = Phase::Offered;
    for (trigger, expected) in [
        (Trigger::Accept, Phase::Accepted),
        (Trigger::Fix, Phase::EnRouteToStore),
        (Trigger::ArrivedAtStore, Phase::ArrivedAtStore),
        (Trigger::Pickup, Phase::PickedUp),
        (Trigger::Fix, Phase::EnRouteToCustomer),
        (Trigger::ArrivedAtCustomer, Phase::ArrivedAtCustomer),
        (Trigger::Delivered, Phase::Delivered),
    ] {
        phase = next(phase, trigger).expect("allowed");
        assert_eq!(phase, expected);
    }
    assert!(next(Phase::Accepted, Trigger::Delivered).is_err());
    assert!(next(Phase::Idle, Trigger::Pickup).is_err());
    assert!(next(Phase::Delivered, Trigger::Cancelled).is_err());
    assert_eq!(
        next(Phase::EnRouteToStore, Trigger::Cancelled).ok(),
        Some(Phase::Cancelled)
    );
    assert_eq!(
        next(Phase::Accepted, Trigger::Expired).ok(),
        Some(Phase::Expired)
    );
    assert_eq!(
        next(Phase::PickedUp, Trigger::PickupRejected).ok(),
        Some(Phase::ArrivedAtStore)
    );
    assert!(Phase::EnRouteToStore.is_active() && !Phase::Offered.is_active());
}

#[test]
fn tracking_is_off_without_a_dispatch_unless_available() {
    let cfg = CompanionConfig::new("http://127.0.0.1:1");
    for phase in [
        Phase::Idle,
        Phase::Offered,
        Phase::Delivered,
        Phase::Cancelled,
    ] {
        assert_eq!(
            profile_for(phase, false, None, None, &cfg),
            TrackingProfile::OFF
        );
        assert_eq!(
            profile_for(phase, true, None, None, &cfg),
            TrackingProfile::STANDBY
        );
    }
}

#[test]
fn tracking_tightens_as_the_target_gets_closer() {
    let cfg = CompanionConfig::new("http://127.0.0.1:1");
    let far = profile_for(
        Phase::EnRouteToStore,
        false,
        Some(8_000.0),
        Some(12.0),
        &cfg,
    );
    let mid = profile_for(Phase::EnRouteToStore, false, Some(900.0), Some(12.0), &cfg);
    let near = profile_for(Phase::EnRouteToStore, false, Some(300.0), Some(12.0), &cfg);
    assert_eq!(far.accuracy, TrackingAccuracy::Balanced);
    assert!(far.interval_ms >= 10_000);
    assert!(far.interval_ms > mid.interval_ms && mid.interval_ms > near.interval_ms);
    assert_eq!(near.interval_ms, 1_000);
    assert_eq!(near.accuracy, TrackingAccuracy::High);
    // Faster means the near ring comes sooner: a shorter interval at the same distance.
    let fast = profile_for(Phase::EnRouteToStore, false, Some(900.0), Some(25.0), &cfg);
    assert!(fast.interval_ms < mid.interval_ms);
    let waiting = profile_for(Phase::ArrivedAtStore, false, Some(0.0), Some(0.0), &cfg);
    assert_eq!(waiting.accuracy, TrackingAccuracy::High);
    assert!(waiting.active);
}

#[test]
fn nonsense_configs_are_refused() {
    let mut cfg = CompanionConfig::new("ftp://x");
    assert!(cfg.validate().is_err());
    cfg = CompanionConfig::new("http://127.0.0.1:1");
    assert!(cfg.validate().is_ok());
    cfg.near_distance_m = f64::NAN;
    assert!(cfg.validate().is_err());
    cfg = CompanionConfig::new("http://127.0.0.1:1");
    cfg.far_distance_m = 10.0;
    assert!(cfg.validate().is_err());
}

#[test]
fn driver_feed_events_that_end_an_order_and_those_that_do_not() {
    let ended = |kind, data| parse_order_ended(kind, data);
    assert_eq!(
        ended(
            "unassigned",
            r#"{"orderId": "o1", "reason": "pickup_timeout"}"#
        ),
        Ok(Some(OrderEnded {
            order_id: "o1".to_owned(),
            why: "unassigned (pickup_timeout)".to_owned(),
        }))
    );
    assert_eq!(
        ended("delivery_overdue", r#"{"orderId": "o2"}"#),
        Ok(Some(OrderEnded {
            order_id: "o2".to_owned(),
            why: "delivery_overdue".to_owned(),
        }))
    );
    assert!(matches!(
        ended("order_cancelled", r#"{"orderId": "o3", "reason": "store_timeout"}"#),
        Ok(Some(OrderEnded { order_id, .. })) if order_id == "o3"
    ));
    // Offers and withdrawals do not end a dispatch, whatever their data.
    assert_eq!(ended("offer", "not json"), Ok(None));
    assert_eq!(ended("offer_withdrawn", r#"{"orderId": "o1"}"#), Ok(None));
    // An order-ending kind without an order id is a typed error, not a panic.
    assert!(ended("order_cancelled", r#"{"reason": "x"}"#).is_err());
    assert!(ended("unassigned", "\u{0}garbage").is_err());
}
