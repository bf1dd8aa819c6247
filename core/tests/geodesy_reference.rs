//! Distances checked against GeographicLib, computed outside the code under test.
//!
//! The reference numbers were produced once by hand with the Python package `geographiclib` 2.1
//! (`pip install geographiclib`):
//! ```text
//! from geographiclib.geodesic import Geodesic
//! r = Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2); print(r["s12"], r["azi1"] % 360)
//! ```
//! and pasted below. The edge distances for polygons are `Inverse(lat, edge_lon, lat, point_lon)`;
//! a scan of ±2e-5° of latitude along the edge confirmed that the same-latitude point is the nearest.

use fencepost_core::geodesy::{bearing_deg, distance_m, signed_distance_m, wrap_lon_delta};
use fencepost_core::FenceShape;
use geo::{LineString, MultiPolygon, Polygon};

/// (name, lat1, lon1, lat2, lon2, distance m, initial azimuth °) from GeographicLib.
const REFERENCE: [(&str, f64, f64, f64, f64, f64, f64); 9] = [
    (
        "Munich short hop",
        48.16350662940509,
        11.564388282625075,
        48.1635196321328,
        11.56422821621019,
        11.994675,
        276.92323533,
    ),
    (
        "Limerick stop pair",
        52.6634001430296,
        -8.62543559687248,
        52.6290759231599,
        -8.65184502110292,
        4217.159774,
        205.08944659,
    ),
    (
        "Tromso 70N 50 m east",
        69.6496,
        18.956,
        69.6496,
        18.9573,
        50.475019,
        89.99939057,
    ),
    (
        "Tromso 70N 1 km NE",
        69.6496,
        18.956,
        69.658,
        18.98,
        1321.408841,
        44.82252637,
    ),
    (
        "Hammerfest 70.66N 100 m",
        70.6634,
        23.6821,
        70.6634,
        23.6848,
        99.819387,
        89.99872615,
    ),
    (
        "antimeridian Fiji",
        -16.5,
        179.9995,
        -16.5,
        -179.9995,
        106.764155,
        90.00014201,
    ),
    (
        "antimeridian 65N",
        65.0,
        179.99,
        65.0005,
        -179.99,
        945.147235,
        86.60957706,
    ),
    (
        "Helsinki POI 60N",
        60.1699,
        24.9384,
        60.1712,
        24.941,
        204.476047,
        44.89839384,
    ),
    (
        "Quito equator",
        -0.1807,
        -78.4678,
        -0.18,
        -78.467,
        117.991060,
        49.00456906,
    ),
];

#[test]
fn geodesic_distance_and_bearing_match_geographiclib() {
    for (name, lat1, lon1, lat2, lon2, s12, azi1) in REFERENCE {
        let d = distance_m(lat1, lon1, lat2, lon2);
        assert!((d - s12).abs() < 1e-3, "{name}: {d} vs {s12}");
        let b = bearing_deg(lat1, lon1, lat2, lon2);
        assert!((b - azi1).abs() < 1e-6, "{name}: bearing {b} vs {azi1}");
    }
}

#[test]
fn circle_signed_distance_is_exact_geodesic_minus_radius() {
    for (name, lat1, lon1, lat2, lon2, s12, _) in REFERENCE {
        let shape = FenceShape::Circle {
            lat: lat2,
            lon: lon2,
            radius_m: 30.0,
        };
        let d = signed_distance_m(&shape, lat1, lon1);
        assert!((d - (s12 - 30.0)).abs() < 1e-3, "{name}: {d}");
    }
}

fn rectangle(lon_min: f64, lon_max: f64, lat_min: f64, lat_max: f64) -> FenceShape {
    let ring = LineString::from(vec![
        (lon_min, lat_min),
        (lon_max, lat_min),
        (lon_max, lat_max),
        (lon_min, lat_max),
        (lon_min, lat_min),
    ]);
    FenceShape::Polygon(MultiPolygon(vec![Polygon::new(ring, vec![])]))
}

#[test]
fn polygon_edge_distance_matches_geographiclib_at_70_degrees_and_across_the_antimeridian() {
    // (shape, point lat, point lon, GeographicLib distance to the nearest edge); points outside.
    let outside = [
        // 70° N: an east edge at 18.95, the point at 18.952 on the edge's middle latitude.
        (
            rectangle(18.94, 18.95, 69.99, 70.01),
            70.0,
            18.952,
            76.373083,
        ),
        // A rectangle across ±180 (179.998 .. -179.999 going east); the point east of it.
        (
            rectangle(179.998, -179.999, -16.51, -16.49),
            -16.5,
            -179.997,
            213.528310,
        ),
    ];
    for (i, (shape, lat, lon, reference)) in outside.into_iter().enumerate() {
        let d = signed_distance_m(&shape, lat, lon);
        assert!(
            (d - reference).abs() < reference * 1e-3,
            "case {i}: {d} vs {reference}"
        );
    }
    // Inside a rectangle across ±180 at 65° N: the point at 179.9995 is 0.0015° east of the west edge
    // (179.998); GeographicLib gives 70.763297 m for 0.0015° at 65° N. The other edges are farther.
    let shape = rectangle(179.998, -179.99, 64.99, 65.01);
    let d = signed_distance_m(&shape, 65.0, 179.9995);
    assert!((d + 70.763297).abs() < 0.07, "inside distance {d}");
}

#[test]
fn longitude_differences_wrap_across_the_antimeridian() {
    assert!((wrap_lon_delta(-179.9 - 179.9) - 0.2).abs() < 1e-9);
    assert!((wrap_lon_delta(179.9 - -179.9) + 0.2).abs() < 1e-9);
    assert_eq!(wrap_lon_delta(540.0), 180.0);
}
