//! The openrouteservice provider: request building and response parsing, against a stub server on
//! 127.0.0.1 (a plain `TcpListener` answering one canned response); no real network.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use fencepost_core::eta::{DirectionsError, DirectionsProvider, OpenRouteService};

/// The shape of a real `GET /v2/directions/driving-car` answer (trimmed: one segment, no steps).
const ORS_BODY: &str = r#"{"type":"FeatureCollection","bbox":[8.681423,49.414599,8.690123,49.420514],
"features":[{"bbox":[8.681423,49.414599,8.690123,49.420514],"type":"Feature",
"properties":{"segments":[{"distance":1408.8,"duration":281.9,"steps":[]}],
"summary":{"distance":1408.8,"duration":281.9},"way_points":[0,3]},
"geometry":{"coordinates":[[8.681423,49.414599],[8.6816,49.41478],[8.68863,49.41988],[8.690123,49.420514]],
"type":"LineString"}}],"metadata":{"service":"routing"}}"#;

/// Serves one HTTP response and returns the request line it received.
fn stub(status: &str, body: &'static str) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let status = status.to_string();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("one connection");
        let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        // Drain the headers (bounded: a GET has no body).
        for _ in 0..100 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write response");
        request_line
    });
    (base, handle)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

#[test]
fn fetches_and_parses_a_route_from_a_local_stub() {
    let (base, server) = stub("200 OK", ORS_BODY);
    let ors = OpenRouteService::new(base, "test-key");
    let provider: &dyn DirectionsProvider = &ors;
    let route =
        block_on(provider.route((49.414599, 8.681423), (49.420514, 8.690123))).expect("a route");
    let request = server.join().expect("stub thread");
    assert!(
        request.starts_with("GET /v2/directions/driving-car?"),
        "{request}"
    );
    assert!(request.contains("api_key=test-key"), "{request}");
    // openrouteservice wants lon,lat (the comma is percent-encoded in the query).
    assert!(request.contains("start=8.681423%2C49.414599"), "{request}");
    assert!(request.contains("end=8.690123%2C49.420514"), "{request}");
    assert_eq!(route.distance_m, 1408.8);
    assert_eq!(route.duration_s, 281.9);
    assert_eq!(route.polyline.len(), 4);
    assert_eq!(route.polyline[0], (49.414599, 8.681423), "(lat, lon) order");
}

#[test]
fn a_service_error_is_typed_and_carries_no_coordinates() {
    const BODY: &str = r#"{"error":{"code":2010,"message":"Could not find routable point within a radius of 350.0 meters of specified coordinate 0: 8.6814230 49.4145990."}}"#;
    let (base, server) = stub("404 Not Found", BODY);
    let ors = OpenRouteService::new(base, "test-key");
    let err = block_on(ors.route((49.414599, 8.681423), (49.42, 8.69))).expect_err("an error");
    server.join().expect("stub thread");
    match &err {
        DirectionsError::Service { status, message } => {
            assert_eq!(*status, 404);
            assert!(
                message.starts_with("Could not find routable point"),
                "{message}"
            );
        }
        other => panic!("wrong error {other:?}"),
    }
    let text = err.to_string();
    assert!(!text.contains("49.41") && !text.contains("8.68"), "{text}");
}

#[test]
fn a_refused_connection_is_a_network_error_without_the_key() {
    // Bind and drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let ors = OpenRouteService::new(format!("http://127.0.0.1:{port}"), "secret-key");
    let err = block_on(ors.route((49.41, 8.68), (49.42, 8.69))).expect_err("nobody listens");
    assert!(matches!(err, DirectionsError::Network { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-key"), "{err}");
}

#[test]
fn malformed_responses_are_parse_errors() {
    let bad = [
        "not json",
        r#"{"features":[]}"#,
        r#"{"features":[{"geometry":{"type":"Point","coordinates":[[8.6,49.4]]},"properties":{"summary":{"distance":1,"duration":1}}}]}"#,
        r#"{"features":[{"geometry":{"type":"LineString","coordinates":[[8.6]]},"properties":{"summary":{"distance":1,"duration":1}}}]}"#,
        r#"{"features":[{"geometry":{"type":"LineString","coordinates":[[8.6,95.0]]},"properties":{"summary":{"distance":1,"duration":1}}}]}"#,
        r#"{"features":[{"geometry":{"type":"LineString","coordinates":[]},"properties":{"summary":{"distance":-1,"duration":1}}}]}"#,
    ];
    for body in bad {
        assert!(
            matches!(
                OpenRouteService::parse_response(body),
                Err(DirectionsError::Parse { .. })
            ),
            "{body}"
        );
    }
    // Start = end: openrouteservice leaves distance and duration out.
    let empty = r#"{"features":[{"geometry":{"type":"LineString","coordinates":[[8.6,49.4],[8.6,49.4]]},"properties":{"summary":{}}}]}"#;
    let route = OpenRouteService::parse_response(empty).expect("valid");
    assert_eq!((route.distance_m, route.duration_s), (0.0, 0.0));
}

#[test]
fn the_provider_exists_only_when_a_key_is_configured() {
    assert!(OpenRouteService::from_key(None, None).is_none());
    assert!(OpenRouteService::from_key(None, Some("  ")).is_none());
    let ors = OpenRouteService::from_key(None, Some("k")).expect("a key");
    let url = ors.request_url((48.1, 11.5), (48.2, 11.6)).expect("a URL");
    assert_eq!(url.host_str(), Some("api.openrouteservice.org"));
    assert_eq!(url.path(), "/v2/directions/driving-car");
}
