//! `TestServer`: the real `fencepost serve` process for end-to-end tests.
//!
//! ```ignore
//! let server = TestServer::start();                 // temp --db, --test-clock, random admin token
//! let api = server.api();                           // blocking JSON client bound to its base URL
//! let server = server.restart();                    // kill and start again on the same database
//! ```
//! The server listens on 127.0.0.1 port 0; the address it prints is read back, so there is no port race.
//! Its stderr (logs) goes to `<tempdir>/server.log`, printed when a test fails while the server is alive.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::api::Api;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
const START_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub test_clock: bool,
    pub seed_stores: Option<PathBuf>,
    pub extra_args: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            test_clock: true,
            seed_stores: None,
            extra_args: Vec::new(),
        }
    }
}

pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub admin_token: String,
    options: ServerOptions,
    dir: tempfile::TempDir,
}

/// The `fencepost` binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_fencepost")
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for the test database");
        Self::spawn(dir, options)
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("fencepost.db")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn api(&self) -> Api {
        Api::new(&self.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process (SIGKILL: no graceful shutdown, as in a crash) and starts a new one on the same
    /// database. The new server listens on a new port.
    pub fn restart(mut self) -> Self {
        self.kill();
        let dir = std::mem::replace(
            &mut self.dir,
            tempfile::tempdir().expect("placeholder temp dir"),
        );
        let options = self.options.clone();
        drop(self);
        Self::spawn(dir, options)
    }

    fn spawn(dir: tempfile::TempDir, options: ServerOptions) -> Self {
        let db = dir.path().join("fencepost.db");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))
            .expect("server log file");
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(&db);
        if options.test_clock {
            cmd.arg("--test-clock");
        }
        if let Some(stores) = &options.seed_stores {
            cmd.arg("--seed-stores").arg(stores);
        }
        cmd.args(&options.extra_args)
            .env("FENCEPOST_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = cmd.spawn().expect("spawning fencepost serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("fencepost: listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let base = match rx.recv_timeout(START_TIMEOUT) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server did not start: {}",
                    read_log(&dir.path().join("server.log"))
                );
            }
        };
        let server = Self {
            child: Some(child),
            base,
            admin_token: ADMIN_TOKEN.to_string(),
            options,
            dir,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let client = reqwest::blocking::Client::new();
        while Instant::now() < deadline {
            if let Ok(resp) = client
                .get(self.url("/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
            {
                if resp.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "server never became healthy: {}",
            read_log(&self.log_path())
        );
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!("--- server log ---\n{}", self.log());
        }
        self.kill();
    }
}
