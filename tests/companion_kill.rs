//! A companion in its own process (`fencepost companion-agent`) is SIGKILLed mid-delivery with messages
//! waiting (the server unreachable), started again on the same storage directory, and resumes: same
//! dispatch and phase, the waiting messages delivered, the delivery completed, every step exactly once
//! on the server's store feed.

mod companion_support;
mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use companion_support::proxy::{Mode, Proxy};
use companion_support::{munich_points, now_ms, read_feed, read_feed_until};
use serde_json::{json, Value};
use support::server::{binary, TestServer};

const START: usize = 250;
const STORE: usize = 445;
const DROPOFF: usize = 600;
const KILL_AT: usize = 390;
const LAST_STORE_FIX: usize = 475;
const LAST_FIX: usize = 612;

struct Agent {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Agent {
    fn spawn(backend: &str, dir: &std::path::Path, token: &str) -> Self {
        let mut child = Command::new(binary())
            .arg("companion-agent")
            .arg("--backend")
            .arg(backend)
            .arg("--dir")
            .arg(dir)
            .env("FENCEPOST_DRIVER_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn companion-agent");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn cmd(&mut self, cmd: Value) -> Value {
        writeln!(self.stdin, "{cmd}").expect("write command");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read answer");
        let answer: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        assert_eq!(answer["ok"], true, "{cmd} → {line}");
        answer
    }

    fn fix(&mut self, points: &[(f64, f64)], i: usize, t: i64) {
        let (lat, lon) = points[i];
        self.cmd(json!({"op": "fix", "time_ms": t, "lat": lat, "lon": lon, "accuracy_m": 8.0}));
    }

    fn sync(&mut self) {
        assert_eq!(
            self.cmd(json!({"op": "sync"}))["synced"],
            true,
            "agent synced"
        );
    }

    /// SIGKILL: no destructor, no flush.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

#[test]
fn a_killed_companion_process_resumes_its_dispatch_and_pending_messages() {
    let server = TestServer::start();
    let api = server.api();
    let admin = server.admin_token.clone();
    let points = munich_points();
    let (slat, slon) = points[STORE];
    let (store_id, store) = api.create_store(
        &admin,
        &json!({"storeId": "munich-k", "name": "Kill Pizza", "location": {"latitude": slat, "longitude": slon},
                "fence": {"radiusM": 40}}),
    );
    let (_, driver) = api.create_driver(&admin);
    let (_, customer) = api.create_customer(&admin);
    let proxy = Proxy::start(&server.base);
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = now_ms();
    let time_of = |i: usize| t0 + (i as i64 - START as i64) * 1000;
    let mut advanced = 0i64;
    let mut catch_up = |i: usize| {
        let target = i as i64 - START as i64;
        if target > advanced {
            api.advance(&admin, target - advanced);
            advanced = target;
        }
    };

    let mut agent = Agent::spawn(&proxy.url, dir.path(), &driver);
    agent.cmd(json!({"op": "available"}));
    agent.fix(&points, START, time_of(START));
    agent.sync();

    let (dlat, dlon) = points[DROPOFF];
    let placed = api.post(
        "/order",
        Some(&customer),
        &json!({"storeId": store_id, "paymentId": "p", "pies": [{"size": "small", "cheese": "small", "toppings": []}],
                "deliveryAddress": {"coordinates": {"latitude": dlat, "longitude": dlon}, "streetAddress": "a",
                    "city": "München", "postalCode": "80339", "province": "Bayern"}}),
    );
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order_id = placed.body["order"]["orderId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let feed = read_feed_until(&server.base, "/store/events", &store, |k, d| {
        k == "order_placed" && d["orderId"] == order_id.as_str()
    });
    let token = feed
        .last()
        .map(|(_, d)| d["taskToken"].clone())
        .unwrap_or(Value::Null);
    let decided = api.post(
        "/order/decision",
        Some(&store),
        &json!({"orderId": order_id, "storeId": store_id, "accepted": true, "taskToken": token}),
    );
    assert_eq!(decided.status, 200, "{}", decided.text);
    agent.cmd(json!({"op": "accept_first"}));
    agent.sync();

    for i in START + 1..KILL_AT {
        agent.fix(&points, i, time_of(i));
        if i % 10 == 0 && i < 350 {
            agent.sync();
            catch_up(i);
        }
        if i == 350 {
            proxy.set(Mode::Refuse);
        }
    }
    let before = agent.cmd(json!({"op": "state"}));
    assert_eq!(before["phase"], "EnRouteToStore");
    assert!(
        before["pending_messages"].as_u64().unwrap_or(0) > 0,
        "messages waiting at the kill: {before}"
    );
    agent.kill();

    proxy.set(Mode::Pass);
    let mut agent = Agent::spawn(&proxy.url, dir.path(), &driver);
    let after = agent.cmd(json!({"op": "state"}));
    assert_eq!(
        after["order_id"],
        order_id.as_str(),
        "the dispatch survived the kill"
    );
    assert_eq!(after["phase"], "EnRouteToStore");
    agent.sync();
    catch_up(KILL_AT);

    for i in KILL_AT..LAST_STORE_FIX {
        agent.fix(&points, i, time_of(i));
        if i % 10 == 0 {
            agent.sync();
            catch_up(i);
        }
    }
    assert_eq!(agent.cmd(json!({"op": "state"}))["phase"], "ArrivedAtStore");
    let code = api.get(&format!("/order/{order_id}/pickup-code"), Some(&store));
    assert_eq!(code.status, 200, "{}", code.text);
    agent.cmd(json!({"op": "pickup", "code": code.body["qr"]}));
    agent.sync();
    for i in LAST_STORE_FIX..LAST_FIX {
        agent.fix(&points, i, time_of(i));
        if i % 10 == 0 {
            agent.sync();
            catch_up(i);
        }
    }
    agent.cmd(json!({"op": "deliver"}));
    agent.sync();
    drop(agent.stdin);
    let _ = agent.child.wait();

    let feed: Vec<String> = read_feed(&server.base, "/store/events", &store, "delivered")
        .into_iter()
        .filter(|(k, d)| d["orderId"] == order_id.as_str() && k != "driver_eta")
        .map(|(k, d)| match d["place"].as_str() {
            Some(p) => format!("{k}/{p}"),
            None => k,
        })
        .collect();
    assert_eq!(
        feed,
        vec![
            "order_placed",
            "driver_assigned",
            "driver_approaching/store",
            "driver_arrived/store",
            "picked_up",
            "driver_approaching/customer",
            "driver_arrived/customer",
            "delivered"
        ],
        "every step once, in order"
    );
}
