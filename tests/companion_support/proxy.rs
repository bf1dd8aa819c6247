//! A TCP proxy between the companion and the real server, to take the server away from the phone
//! without touching the server: `Pass` forwards, `Refuse` drops every connection and every request on a
//! pooled one, `Swallow` forwards requests but drops the answers (the server did the work, the phone
//! never hears of it: the case idempotency keys exist for). Plain threads: it only serves one test.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass = 0,
    Refuse = 1,
    Swallow = 2,
}

pub struct Proxy {
    pub url: String,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (free port) and forwards to `target` (`http://127.0.0.1:PORT`).
    pub fn start(target: &str) -> Self {
        let upstream = target.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let m = mode.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let (upstream, m) = (upstream.clone(), m.clone());
                std::thread::spawn(move || handle(client, &upstream, m));
            }
        });
        Self { url, mode }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

fn mode_of(m: &AtomicU8) -> Mode {
    match m.load(Ordering::SeqCst) {
        0 => Mode::Pass,
        1 => Mode::Refuse,
        _ => Mode::Swallow,
    }
}

fn handle(client: TcpStream, upstream: &str, mode: Arc<AtomicU8>) {
    if mode_of(&mode) == Mode::Refuse {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let (client2, server2) = (client.try_clone(), server.try_clone());
    let m = mode.clone();
    // Requests: phone → server, unless refused.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if mode_of(&m) == Mode::Refuse || server_w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        close(&client_r, &server_w);
    });
    // Answers: server → phone, only while passing; a swallowed answer closes the phone's connection.
    let (mut server_r, mut client_w) = (server, client);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match server_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if mode_of(&mode) != Mode::Pass || client_w.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    if let (Ok(c), Ok(s)) = (client2, server2) {
        close(&c, &s);
    }
}

fn close(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}
