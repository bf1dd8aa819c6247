//! One SVG map per delivery: the streets driven, the phone's fixes, the store and drop-off fences and
//! where the companion's events fired.

use std::fmt::Write;

use super::svg::{escape, points_attr, Projection};
use crate::simulate::geo::LatLon;
use crate::simulate::record::{DeliveryRecord, LegKind};

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 300.0;

pub fn delivery_map(d: &DeliveryRecord) -> String {
    let mut all: Vec<LatLon> = vec![d.store_pos, d.customer_pos];
    for leg in &d.legs {
        all.extend(&leg.truth_path);
    }
    let proj = Projection::fit(&all, WIDTH, HEIGHT, 24.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="map of order {}">"##,
        escape(&d.order_id)
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#f4f1ea"/>"##);
    for leg in &d.legs {
        let colour = match leg.kind {
            LegKind::ToStore => "#3867d6",
            LegKind::ToCustomer => "#20bf6b",
        };
        let _ = write!(
            svg,
            r##"<polyline class="route" points="{}" fill="none" stroke="{colour}" stroke-width="3" stroke-linejoin="round" opacity="0.8"/>"##,
            points_attr(&proj, &leg.truth_path)
        );
        for fix in leg.fixes.iter().step_by(3) {
            let (x, y) = proj.xy(*fix);
            let _ = write!(
                svg,
                r##"<circle class="fix" cx="{x:.1}" cy="{y:.1}" r="1.2" fill="#555" opacity="0.5"/>"##
            );
        }
    }
    fence(
        &mut svg,
        &proj,
        d.store_pos,
        d.store_radius_m,
        "#fa8231",
        "store fence",
    );
    fence(
        &mut svg,
        &proj,
        d.customer_pos,
        d.dropoff_radius_m,
        "#8854d0",
        "drop-off fence",
    );
    for (i, e) in d.events.iter().enumerate() {
        let (x, y) = proj.xy(e.pos);
        let _ = write!(
            svg,
            r##"<g class="event"><circle cx="{x:.1}" cy="{y:.1}" r="4" fill="#eb3b5a" stroke="#fff" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="9" fill="#222">{}</text><title>{}</title></g>"##,
            x + 5.0,
            y - 4.0 - (i % 3) as f64 * 9.0,
            escape(&e.label),
            escape(&e.label)
        );
    }
    // Scale bar: 100 m.
    let bar = proj.scale_100m();
    let _ = write!(
        svg,
        r##"<g class="scale"><line x1="10" y1="{y}" x2="{x2:.1}" y2="{y}" stroke="#222" stroke-width="2"/><text x="10" y="{ty}" font-size="9">100 m</text></g>"##,
        y = HEIGHT - 10.0,
        x2 = 10.0 + bar,
        ty = HEIGHT - 14.0
    );
    svg.push_str("</svg>");
    svg
}

fn fence(
    svg: &mut String,
    proj: &Projection,
    centre: LatLon,
    radius_m: f64,
    colour: &str,
    label: &str,
) {
    let (x, y) = proj.xy(centre);
    let r = proj.metres(radius_m).max(3.0);
    let _ = write!(
        svg,
        r##"<circle class="fence" cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{colour}" fill-opacity="0.18" stroke="{colour}" stroke-width="1.5"><title>{label}</title></circle>"##
    );
}
