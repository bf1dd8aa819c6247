//! A minimal HTTP/1.1 server on 127.0.0.1 for the companion's unit-level tests and benchmark, where the
//! real middleware is not the point: it records every request and answers with a handler.
//! (End-to-end tests against the real `fencepost serve` are in tests/companion_*.rs.)

#![allow(dead_code)] // the tests and the benchmark use different parts

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub last_event_id: Option<String>,
    pub body: String,
}

pub type Handler = Arc<dyn Fn(&Request) -> (u16, String) + Send + Sync>;

pub struct Stub {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    pub fn start(handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("stub bind");
        let url = format!("http://{}", listener.local_addr().expect("stub addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (handler, log) = (handler.clone(), log.clone());
                std::thread::spawn(move || serve(stream, handler, log));
            }
        });
        Self { url, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn posts(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }
}

fn serve(stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Request>>>) {
    // Small request/answer pairs: without this, Nagle + delayed ACK add ~40 ms per exchange.
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, path) = (method.to_string(), path.to_string());
        let (mut length, mut key, mut auth, mut last_id) = (0usize, None, None, None);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim().to_string();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap_or(0),
                    "idempotency-key" => key = Some(value),
                    "authorization" => auth = Some(value),
                    "last-event-id" => last_id = Some(value),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request {
            method,
            path,
            idempotency_key: key,
            authorization: auth,
            last_event_id: last_id,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let (status, answer) = handler(&request);
        let is_feed = request.path.starts_with("/driver/events") && status == 200;
        if let Ok(mut log) = log.lock() {
            log.push(request);
        }
        if is_feed {
            hold_feed(&mut writer, &answer);
            return;
        }
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The driver feed as the real server serves it: an event stream that stays open (closed-delimited
/// body), `answer` first, then a keep-alive comment every 200 ms until the client hangs up.
fn hold_feed(writer: &mut TcpStream, answer: &str) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    if writer.write_all(head.as_bytes()).is_err() || writer.write_all(answer.as_bytes()).is_err() {
        return;
    }
    while writer.write_all(b": keep-alive\n\n").is_ok() {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// An offer as `GET /driver/offers` lists it: store at (lat, lon) with a 40 m fence, drop-off 1 km north.
pub fn offers_body(offer_id: &str, order_id: &str, lat: f64, lon: f64, expires: &str) -> String {
    serde_json::json!({"offers": [{
        "offerId": offer_id, "orderId": order_id, "storeId": "s1", "storeName": "Stub Pizza",
        "storeLocation": {"latitude": lat, "longitude": lon}, "storeFence": {"radiusM": 40.0},
        "deliveryAddress": {"coordinates": {"latitude": lat + 0.009, "longitude": lon}},
        "pies": [], "dispatchEstimatedAt": expires, "expiresAt": expires
    }]})
    .to_string()
}
