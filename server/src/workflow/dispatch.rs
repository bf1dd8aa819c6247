//! Who gets the next dispatch offer for an order — the one choice both engines share (the embedded engine
//! when it enters Dispatch, the Step Functions projector when OfferToDriver sends its message).
//!
//! 1. The nearest available driver (geodesic distance to the store) not yet asked for this order.
//! 2. Once every available driver has been asked: a driver whose offers for this order all *expired*
//!    (missed, not refused) is asked again — fewest misses first, then nearest — so an order is not left
//!    waiting for new drivers while someone nearby simply did not see the offer in time.
//!
//! Never asked again: a driver who declined the order (an explicit answer is final for that order) or who
//! accepted it and lost it (heartbeat or pickup timeout).

use std::collections::{HashMap, HashSet};

use crate::db::Repository;
use crate::error::Result;
use crate::geometry::haversine_m;
use crate::model::{OrderRecord, Store};
use crate::workflow::TaskKind;

/// The state an offer task is closed with when nobody answered it in time.
const MISSED: &str = "timed_out";

/// The driver to offer `order` to now, among drivers who reported since `fresh_since_ms`; `None` when
/// nobody can be asked.
pub fn choose_driver(
    repo: &dyn Repository,
    order: &OrderRecord,
    store: &Store,
    fresh_since_ms: i64,
) -> Result<Option<String>> {
    let available: Vec<(f64, String)> = repo
        .available_drivers(fresh_since_ms)?
        .into_iter()
        .map(|(id, at)| (haversine_m(at, store.location), id))
        .collect();
    let tried: HashSet<String> = repo
        .dispatch_attempts(&order.order_id)?
        .into_iter()
        .collect();
    let untried = available
        .iter()
        .filter(|(_, id)| !tried.contains(id))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, id)) = untried {
        return Ok(Some(id.clone()));
    }
    let mut misses: HashMap<String, usize> = HashMap::new();
    let mut refused: HashSet<String> = HashSet::new();
    for offer in repo.order_tasks(&order.order_id, TaskKind::Offer.as_str())? {
        let Some(driver) = offer.driver_id else {
            continue;
        };
        if offer.state == MISSED {
            *misses.entry(driver).or_default() += 1;
        } else {
            refused.insert(driver);
        }
    }
    let again = available
        .iter()
        .filter(|(_, id)| !refused.contains(id))
        .filter_map(|(distance, id)| misses.get(id).map(|n| (*n, *distance, id)))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    Ok(again.map(|(_, _, id)| id.clone()))
}
