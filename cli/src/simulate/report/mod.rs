//! `--report FILE.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! summary, the charts and a map per delivery.

mod chart;
mod map;
mod svg;

use std::fmt::Write;
use std::path::Path;

use super::error::Result;
use super::record::DeliveryRecord;
use super::summary::Summary;
use svg::escape;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse}\
td{padding:2px 10px;border-bottom:1px solid #ddd}td:first-child{color:#555}\
.maps{display:flex;flex-wrap:wrap;gap:14px}.delivery{background:#fff;padding:8px;border:1px solid #ddd}\
.delivery h3{font-size:13px;margin:0 0 4px}.legend span{margin-right:12px}";

pub fn render(summary: &Summary, deliveries: &[DeliveryRecord]) -> String {
    let mut html = String::new();
    html.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        html,
        "<title>fencepost simulate — seed {}</title><style>{STYLE}</style></head><body>",
        summary.seed
    );
    let _ = write!(
        html,
        "<h1>fencepost simulate</h1><p>Seed {}, {} drivers, backend {}, injected faults {:.0} %. \
         Street network and stores © OpenStreetMap contributors (ODbL).</p>",
        summary.seed,
        summary.drivers,
        escape(&summary.backend),
        summary.fault_rate * 100.0
    );
    html.push_str("<h2>Summary</h2><table id=\"summary\">");
    for (k, v) in summary.rows() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&k),
            escape(&v)
        );
    }
    html.push_str("</table>");

    let eta_points: Vec<(f64, f64)> = deliveries
        .iter()
        .flat_map(|d| &d.legs)
        .flat_map(|leg| {
            leg.truth_arrival_ms.into_iter().flat_map(move |arrival| {
                leg.etas.iter().map(move |&(at, eta)| {
                    (
                        (arrival - at) as f64 / 1000.0,
                        eta - (arrival - at) as f64 / 1000.0,
                    )
                })
            })
        })
        .collect();
    html.push_str("<h2>ETA error over time</h2><p>Each dot is one ETA the companion reported: how far it was from the true remaining time, as the car closed in.</p>");
    html.push_str(&chart::eta_error_chart(&eta_points));

    let latencies: Vec<f64> = deliveries
        .iter()
        .flat_map(|d| &d.legs)
        .filter(|leg| !leg.abandoned)
        .filter_map(|leg| Some((leg.detected_arrival_ms? - leg.truth_arrival_ms?) as f64 / 1000.0))
        // Detections far ahead of the stop are false arrivals, counted in the summary, not latency.
        .filter(|&s| s >= -(super::metrics::EARLY_TOLERANCE_MS as f64) / 1000.0)
        .collect();
    html.push_str("<h2>Arrival detection latency</h2><p>Seconds from the car coming to rest inside the fence (ground truth) to the companion's <code>arrived</code> event, both legs.</p>");
    html.push_str(&chart::latency_chart(&latencies));

    html.push_str("<h2>Deliveries</h2><p class=\"legend\"><span style=\"color:#3867d6\">■ to the store</span><span style=\"color:#20bf6b\">■ to the customer</span><span style=\"color:#fa8231\">○ store fence</span><span style=\"color:#8854d0\">○ drop-off fence</span><span style=\"color:#eb3b5a\">● companion event</span><span style=\"color:#555\">· GPS fix</span></p><div class=\"maps\">");
    for d in deliveries {
        let _ = write!(
            html,
            "<div class=\"delivery\"><h3>{} — {} → customer, {} ({})</h3>{}</div>",
            escape(&d.order_id),
            escape(&d.store_name),
            escape(&d.driver),
            escape(&d.status),
            map::delivery_map(d)
        );
    }
    html.push_str("</div></body></html>\n");
    html
}

pub fn write(path: &Path, summary: &Summary, deliveries: &[DeliveryRecord]) -> Result<()> {
    std::fs::write(path, render(summary, deliveries))?;
    Ok(())
}
