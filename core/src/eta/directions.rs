//! Road routes from a directions service. Optional: everything works offline without one; a route only
//! makes the ETA follow the road instead of straight-line × circuity.
//!
//! The trait returns a boxed future so it stays object-safe (`Arc<dyn DirectionsProvider>`) and runs on
//! whatever runtime the caller already has.

use std::future::Future;
use std::pin::Pin;

use serde::Deserialize;

/// A route as a directions service returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub distance_m: f64,
    pub duration_s: f64,
    /// (lat, lon) vertices from start to end.
    pub polyline: Vec<(f64, f64)>,
}

/// Messages never contain the request URL: it holds the API key and the driver's position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DirectionsError {
    #[error("directions request failed: {reason}")]
    Network { reason: String },
    #[error("directions service answered HTTP {status}: {message}")]
    Service { status: u16, message: String },
    #[error("unreadable directions response: {reason}")]
    Parse { reason: String },
}

pub type RouteFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Route, DirectionsError>> + Send + 'a>>;

pub trait DirectionsProvider: Send + Sync {
    /// The driving route between two (lat, lon) points.
    fn route(&self, from: (f64, f64), to: (f64, f64)) -> RouteFuture<'_>;
}

/// openrouteservice (the seed's choice): `GET {base}/v2/directions/driving-car?api_key=…&start=lon,lat
/// &end=lon,lat`, answered with a GeoJSON FeatureCollection whose first feature carries
/// `properties.summary.{distance (m), duration (s)}` and a LineString geometry.
pub struct OpenRouteService {
    base_url: String,
    api_key: String,
    client: reqwest::Client,
}

/// The public endpoint, used when no base URL is given.
pub const ORS_PUBLIC_BASE: &str = "https://api.openrouteservice.org";

impl OpenRouteService {
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key: api_key.into(),
            client: reqwest::Client::new(),
        }
    }

    /// A provider only when a key is configured (non-empty); `None` means: stay offline.
    pub fn from_key(base_url: Option<&str>, api_key: Option<&str>) -> Option<Self> {
        let key = api_key.map(str::trim).filter(|k| !k.is_empty())?;
        Some(Self::new(base_url.unwrap_or(ORS_PUBLIC_BASE), key))
    }

    /// The request URL; openrouteservice takes positions as `lon,lat`.
    pub fn request_url(
        &self,
        from: (f64, f64),
        to: (f64, f64),
    ) -> Result<reqwest::Url, DirectionsError> {
        let base = format!("{}/v2/directions/driving-car", self.base_url);
        reqwest::Url::parse_with_params(
            &base,
            [
                ("api_key", self.api_key.clone()),
                ("start", format!("{},{}", from.1, from.0)),
                ("end", format!("{},{}", to.1, to.0)),
            ],
        )
        .map_err(|e| DirectionsError::Network {
            reason: format!("bad base URL: {e}"),
        })
    }

    /// Parses a successful response body.
    pub fn parse_response(body: &str) -> Result<Route, DirectionsError> {
        let parse = |reason: String| DirectionsError::Parse { reason };
        let doc: OrsResponse = serde_json::from_str(body).map_err(|e| parse(e.to_string()))?;
        let feature = doc
            .features
            .into_iter()
            .next()
            .ok_or_else(|| parse("no route in the response".into()))?;
        let summary = feature.properties.summary;
        let (distance_m, duration_s) = (
            summary.distance.unwrap_or(0.0),
            summary.duration.unwrap_or(0.0),
        );
        if !distance_m.is_finite()
            || distance_m < 0.0
            || !duration_s.is_finite()
            || duration_s < 0.0
        {
            return Err(parse("distance or duration is not a number ≥ 0".into()));
        }
        if feature.geometry.kind != "LineString" {
            return Err(parse(format!(
                "geometry is a {}, expected a LineString",
                feature.geometry.kind
            )));
        }
        let polyline = feature
            .geometry
            .coordinates
            .iter()
            .map(|c| match c.as_slice() {
                [lon, lat, ..] if lat.abs() <= 90.0 && lon.abs() <= 180.0 => Ok((*lat, *lon)),
                _ => Err(parse(
                    "a route position is malformed or out of range".into(),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Route {
            distance_m,
            duration_s,
            polyline,
        })
    }

    async fn fetch(&self, from: (f64, f64), to: (f64, f64)) -> Result<Route, DirectionsError> {
        let url = self.request_url(from, to)?;
        let network = |e: reqwest::Error| DirectionsError::Network {
            reason: e.without_url().to_string(),
        };
        let response = self
            .client
            .get(url)
            .header("Accept", "application/geo+json, application/json")
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let body = response.text().await.map_err(network)?;
        if !status.is_success() {
            let message = serde_json::from_str::<OrsError>(&body)
                .map(|e| scrub_coordinates(&e.error.message()))
                .unwrap_or_else(|_| "no error message".to_string());
            return Err(DirectionsError::Service {
                status: status.as_u16(),
                message,
            });
        }
        Self::parse_response(&body)
    }
}

impl DirectionsProvider for OpenRouteService {
    fn route(&self, from: (f64, f64), to: (f64, f64)) -> RouteFuture<'_> {
        Box::pin(self.fetch(from, to))
    }
}

/// openrouteservice error messages can quote the request's coordinates ("… of specified coordinate
/// 1: 8.68 49.41"); decimal numbers are replaced so that no position reaches logs.
fn scrub_coordinates(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let is_decimal = token.contains('.') && token.chars().any(|c| c.is_ascii_digit());
        out.push_str(if is_decimal { "…" } else { token });
        token.clear();
    };
    for c in message.chars() {
        if c.is_ascii_digit() || c == '.' || c == '-' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[derive(Deserialize)]
struct OrsResponse {
    features: Vec<OrsFeature>,
}

#[derive(Deserialize)]
struct OrsFeature {
    geometry: OrsGeometry,
    properties: OrsProperties,
}

#[derive(Deserialize)]
struct OrsGeometry {
    #[serde(rename = "type")]
    kind: String,
    coordinates: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct OrsProperties {
    summary: OrsSummary,
}

/// openrouteservice omits `distance`/`duration` when they are 0 (start = end).
#[derive(Deserialize)]
struct OrsSummary {
    distance: Option<f64>,
    duration: Option<f64>,
}

#[derive(Deserialize)]
struct OrsError {
    error: OrsErrorBody,
}

/// The service sends either `{"error": "text"}` or `{"error": {"code": n, "message": "text"}}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OrsErrorBody {
    Text(String),
    Detailed { message: String },
}

impl OrsErrorBody {
    fn message(self) -> String {
        match self {
            OrsErrorBody::Text(m) | OrsErrorBody::Detailed { message: m } => m,
        }
    }
}
