//! Two charts as inline SVG: ETA error against true time remaining, and detection latency.

use std::fmt::Write;

use super::svg::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const BOTTOM: f64 = 34.0;
const TOP: f64 = 14.0;
const RIGHT: f64 = 14.0;

/// Scatter of (true remaining seconds, ETA error seconds): how wrong the ETA was as the car closed in.
pub fn eta_error_chart(points: &[(f64, f64)]) -> String {
    let max_x = points.iter().map(|p| p.0).fold(60.0_f64, f64::max);
    let max_abs_y = points.iter().map(|p| p.1.abs()).fold(30.0_f64, f64::max);
    let x = |v: f64| LEFT + (max_x - v) / max_x * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (max_abs_y - v) / (2.0 * max_abs_y) * (HEIGHT - TOP - BOTTOM);
    let mut svg = open("eta-error", "ETA error against true time remaining");
    axes(
        &mut svg,
        "true time to arrival (s, counting down)",
        "ETA − truth (s)",
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{z:.1}" x2="{}" y2="{z:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
        WIDTH - RIGHT,
        z = y(0.0)
    );
    for (label, v) in [
        (format!("+{max_abs_y:.0}"), max_abs_y),
        (format!("−{max_abs_y:.0}"), -max_abs_y),
    ] {
        let _ = write!(
            svg,
            r##"<text x="4" y="{:.1}" font-size="10">{label}</text>"##,
            y(v) + 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{}" font-size="10">{max_x:.0}</text>"##,
        HEIGHT - 20.0
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" font-size="10">0</text>"##,
        WIDTH - RIGHT - 8.0,
        HEIGHT - 20.0
    );
    for &(rem, err) in points {
        let _ = write!(
            svg,
            r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="2" fill="#3867d6" opacity="0.55"/>"##,
            x(rem),
            y(err)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Histogram of detection latency (seconds from the car stopping to `arrived`), 5 s bins.
pub fn latency_chart(latencies_s: &[f64]) -> String {
    const BIN_S: f64 = 5.0;
    let lo = latencies_s
        .iter()
        .copied()
        .fold(0.0_f64, f64::min)
        .div_euclid(BIN_S)
        * BIN_S;
    let hi = latencies_s.iter().copied().fold(BIN_S, f64::max);
    let bins = (((hi - lo) / BIN_S).floor() as usize + 1).min(60);
    let mut counts = vec![0usize; bins];
    for &l in latencies_s {
        let i = (((l - lo) / BIN_S).floor() as usize).min(bins - 1);
        counts[i] += 1;
    }
    let max_count = counts.iter().copied().max().unwrap_or(0).max(1);
    let bar_w = (WIDTH - LEFT - RIGHT) / bins as f64;
    let mut svg = open("latency", "arrival detection latency histogram");
    axes(
        &mut svg,
        "seconds from stopping to the arrived event",
        "arrivals",
    );
    for (i, &c) in counts.iter().enumerate() {
        let h = c as f64 / max_count as f64 * (HEIGHT - TOP - BOTTOM);
        let x = LEFT + i as f64 * bar_w;
        let _ = write!(
            svg,
            r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#fa8231"><title>{}–{} s: {c}</title></rect>"##,
            x + 1.0,
            HEIGHT - BOTTOM - h,
            (bar_w - 2.0).max(1.0),
            lo + i as f64 * BIN_S,
            lo + (i + 1) as f64 * BIN_S
        );
        if i % bins.div_ceil(12) == 0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" font-size="9">{:.0}</text>"##,
                x + 1.0,
                HEIGHT - BOTTOM + 11.0,
                lo + i as f64 * BIN_S
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="4" y="{}" font-size="10">{max_count}</text>"##,
        TOP + 8.0
    );
    svg.push_str("</svg>");
    svg
}

fn open(class: &str, label: &str) -> String {
    format!(
        r##"<svg class="chart {class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}"><rect width="100%" height="100%" fill="#fff"/>"##,
        escape(label)
    )
}

fn axes(svg: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="#222"/><line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="#222"/><text x="{cx}" y="{ly}" font-size="11" text-anchor="middle">{}</text><text x="12" y="{cy}" font-size="11" transform="rotate(-90 12 {cy})" text-anchor="middle">{}</text>"##,
        escape(x_label),
        escape(y_label),
        b = HEIGHT - BOTTOM,
        r = WIDTH - RIGHT,
        cx = (LEFT + WIDTH - RIGHT) / 2.0,
        ly = HEIGHT - 4.0,
        cy = (TOP + HEIGHT - BOTTOM) / 2.0
    );
}
