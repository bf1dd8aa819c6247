//! Property tests for fence geometry: circles and polygons agree, shapes do not care where the
//! antimeridian is, and a fence's index cap holds all of it.

use fencepost_core::geodesy::{distance_m, signed_distance_m, wrap_lon, Cap};
use fencepost_core::FenceShape;
use geo::{Destination, Geodesic, LineString, MultiPolygon, Point, Polygon};
use proptest::prelude::*;

/// A 360-gon on the geodesic circle (vertices from `geo`'s direct geodesic problem).
fn polygon_circle(lat: f64, lon: f64, radius_m: f64) -> FenceShape {
    let ring: Vec<(f64, f64)> = (0..=360)
        .map(|deg| {
            let p = Geodesic.destination(Point::new(lon, lat), deg as f64, radius_m);
            (p.x(), p.y())
        })
        .collect();
    FenceShape::Polygon(MultiPolygon(vec![Polygon::new(
        LineString::from(ring),
        vec![],
    )]))
}

fn point_at(lat: f64, lon: f64, bearing: f64, distance: f64) -> (f64, f64) {
    let p = Geodesic.destination(Point::new(lon, lat), bearing, distance);
    (p.y(), p.x())
}

fn shift_lon(shape: &FenceShape, by: f64) -> FenceShape {
    match shape {
        FenceShape::Circle { lat, lon, radius_m } => FenceShape::Circle {
            lat: *lat,
            lon: wrap_lon(lon + by),
            radius_m: *radius_m,
        },
        FenceShape::Polygon(multi) => FenceShape::Polygon(MultiPolygon(
            multi
                .0
                .iter()
                .map(|p| {
                    let ring: Vec<(f64, f64)> = p
                        .exterior()
                        .0
                        .iter()
                        .map(|c| (wrap_lon(c.x + by), c.y))
                        .collect();
                    Polygon::new(LineString::from(ring), vec![])
                })
                .collect(),
        )),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The polygon approximation of a circle has the circle's signed distance, anywhere on Earth up
    /// to 75° and across ±180.
    #[test]
    fn polygon_and_circle_agree(
        lat in -75.0f64..75.0,
        lon in -180.0f64..180.0,
        radius in 20.0f64..500.0,
        bearing in 0.0f64..360.0,
        along in 0.0f64..3.0,
    ) {
        let circle = FenceShape::Circle { lat, lon, radius_m: radius };
        let polygon = polygon_circle(lat, lon, radius);
        let (plat, plon) = point_at(lat, lon, bearing, along * radius);
        let dc = signed_distance_m(&circle, plat, plon);
        let dp = signed_distance_m(&polygon, plat, plon);
        // 0.2 % of the radius for the local plane and the 360-gon's chords, plus 5 cm.
        prop_assert!((dc - dp).abs() <= radius * 2e-3 + 0.05, "circle {dc} polygon {dp}");
        prop_assert_eq!(dc < 0.0, dp < 0.0);
    }

    /// Moving a fence and a fix by the same longitude (so the pair may straddle ±180) changes nothing.
    #[test]
    fn shapes_do_not_care_where_the_antimeridian_is(
        lat in -72.0f64..72.0,
        radius in 20.0f64..300.0,
        bearing in 0.0f64..360.0,
        along in 0.0f64..2.5,
        shift in -0.01f64..0.01,
    ) {
        // Centred on the antimeridian plus a small shift, so the shape usually straddles it.
        let lon = wrap_lon(180.0 + shift);
        let (plat, plon) = point_at(lat, lon, bearing, along * radius);
        for shape in [FenceShape::Circle { lat, lon, radius_m: radius }, polygon_circle(lat, lon, radius)] {
            let here = signed_distance_m(&shape, plat, plon);
            let moved = signed_distance_m(&shift_lon(&shape, 90.0), plat, wrap_lon(plon + 90.0));
            prop_assert!((here - moved).abs() < 0.01 + radius * 1e-6, "{here} vs {moved}");
        }
    }

    /// Every vertex of a polygon lies within its index cap.
    #[test]
    fn the_cap_holds_every_vertex(
        lat in -80.0f64..80.0,
        lon in -180.0f64..180.0,
        radii in proptest::collection::vec(10.0f64..2000.0, 3..24),
    ) {
        let n = radii.len();
        let ring: Vec<(f64, f64)> = radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (la, lo) = point_at(lat, lon, 360.0 * i as f64 / n as f64, *r);
                (lo, la)
            })
            .collect();
        let shape = FenceShape::Polygon(MultiPolygon(vec![Polygon::new(LineString::from(ring.clone()), vec![])]));
        let cap = Cap::of(&shape);
        for (lo, la) in ring {
            prop_assert!(distance_m(cap.lat, cap.lon, la, lo) <= cap.radius_m);
        }
    }
}
