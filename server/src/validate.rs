//! Input rules beyond what the JSON types enforce. Errors name the field and the rule, never the value.

use chrono::{DateTime, Duration, Utc};

use crate::model::{CreateStoreRequest, LocationReport, PlaceOrderRequest, Store, StoreFence};
use crate::pos::parse_hhmm;

pub const MAX_FIXES_PER_REPORT: usize = 600;
/// Fixes stamped further ahead of the server clock than this are refused (a device clock gone wrong).
pub const MAX_FIX_AHEAD_S: i64 = 300;

fn text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    Ok(())
}

pub fn id(field: &str, value: &str) -> Result<(), String> {
    text(field, value, 64)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "{field} may only contain letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

pub fn order(req: &PlaceOrderRequest) -> Result<(), String> {
    text("storeId", &req.store_id, 64)?;
    text("paymentId", &req.payment_id, 128)?;
    if req.pies.is_empty() || req.pies.len() > 50 {
        return Err("pies must hold 1 to 50 pies".into());
    }
    for (i, pie) in req.pies.iter().enumerate() {
        if pie.toppings.len() > 20 {
            return Err(format!("pies[{i}].toppings must hold at most 20 toppings"));
        }
        for (j, topping) in pie.toppings.iter().enumerate() {
            text(&format!("pies[{i}].toppings[{j}]"), topping, 64)?;
        }
    }
    let a = &req.delivery_address;
    a.coordinates.check("deliveryAddress.coordinates")?;
    text("deliveryAddress.streetAddress", &a.street_address, 256)?;
    text("deliveryAddress.city", &a.city, 128)?;
    text("deliveryAddress.postalCode", &a.postal_code, 32)?;
    text("deliveryAddress.province", &a.province, 128)
}

pub fn fence(fence: &StoreFence) -> Result<(), String> {
    match (&fence.radius_m, &fence.polygon) {
        (Some(_), Some(_)) => Err("fence takes either radiusM or polygon, not both".into()),
        (None, None) => Err("fence needs radiusM or polygon".into()),
        (Some(r), None) if !r.is_finite() || !(5.0..=5000.0).contains(r) => {
            Err("fence.radiusM must be within 5..5000".into())
        }
        (None, Some(ring)) if ring.len() < 3 || ring.len() > 1000 => {
            Err("fence.polygon must have 3 to 1000 points".into())
        }
        (None, Some(ring)) => {
            for (i, [lon, lat]) in ring.iter().enumerate() {
                let ok = lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(lon)
                    && (-90.0..=90.0).contains(lat);
                if !ok {
                    return Err(format!(
                        "fence.polygon[{i}] must be [longitude, latitude] within range"
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks a store definition and fills in defaults.
pub fn store(req: CreateStoreRequest, generated_id: String) -> Result<Store, String> {
    let store_id = req.store_id.unwrap_or(generated_id);
    id("storeId", &store_id)?;
    text("name", &req.name, 128)?;
    req.location.check("location")?;
    let fence = req.fence.unwrap_or_default();
    self::fence(&fence)?;
    let opening_hours = req.opening_hours.unwrap_or_default();
    if opening_hours.len() > 50 {
        return Err("openingHours must hold at most 50 entries".into());
    }
    for (i, h) in opening_hours.iter().enumerate() {
        if parse_hhmm(&h.open).is_none() || parse_hhmm(&h.close).is_none() {
            return Err(format!(
                "openingHours[{i}] open/close must be HH:MM between 00:00 and 24:00"
            ));
        }
        if h.days.is_empty() {
            return Err(format!("openingHours[{i}].days must not be empty"));
        }
    }
    let utc_offset_minutes = req.utc_offset_minutes.unwrap_or(0);
    if !(-840..=840).contains(&utc_offset_minutes) {
        return Err("utcOffsetMinutes must be within -840..840".into());
    }
    let capacity = req.capacity.unwrap_or(10);
    if !(1..=100_000).contains(&capacity) {
        return Err("capacity must be within 1..100000".into());
    }
    Ok(Store {
        store_id,
        name: req.name,
        location: req.location,
        fence,
        opening_hours,
        utc_offset_minutes,
        capacity,
    })
}

pub fn location_report(report: &LocationReport, now: DateTime<Utc>) -> Result<(), String> {
    if report.fixes.is_empty() || report.fixes.len() > MAX_FIXES_PER_REPORT {
        return Err(format!("fixes must hold 1 to {MAX_FIXES_PER_REPORT} fixes"));
    }
    let latest_allowed = now + Duration::seconds(MAX_FIX_AHEAD_S);
    let mut previous: Option<DateTime<Utc>> = None;
    for (i, fix) in report.fixes.iter().enumerate() {
        crate::model::Coordinates {
            latitude: fix.latitude,
            longitude: fix.longitude,
        }
        .check(&format!("fixes[{i}]"))?;
        if fix.accuracy_m.is_some_and(|a| !a.is_finite() || a < 0.0) {
            return Err(format!(
                "fixes[{i}].accuracyM must be a non-negative number"
            ));
        }
        if previous.is_some_and(|p| fix.time < p) {
            return Err(format!("fixes[{i}].time runs backwards"));
        }
        if fix.time > latest_allowed {
            return Err(format!(
                "fixes[{i}].time is more than {MAX_FIX_AHEAD_S} s ahead of the server clock"
            ));
        }
        previous = Some(fix.time);
    }
    if report.distance_m.is_some_and(|d| !d.is_finite() || d < 0.0) {
        return Err("distanceM must be a non-negative number".into());
    }
    if report.eta_s.is_some_and(|e| !e.is_finite() || e < 0.0) {
        return Err("etaS must be a non-negative number".into());
    }
    if report.distance_m.is_some() != report.eta_s.is_some() {
        return Err("distanceM and etaS come together".into());
    }
    if let Some(order_id) = &report.order_id {
        text("orderId", order_id, 64)?;
    }
    Ok(())
}
