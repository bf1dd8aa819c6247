//! The default backend: the middleware itself (fencepost-server as a library) on a loopback port, with
//! its SQLite database in a temporary directory and the test clock, so the simulator can run simulated
//! time faster than real time.

use std::sync::Arc;

use fencepost_server::{EngineChoice, ServeConfig, Timing};

use super::error::{Error, Result};

pub struct InProcessServer {
    pub base: String,
    /// Keeps the database directory alive for the run.
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl InProcessServer {
    pub async fn start(admin_token: String) -> Result<Self> {
        let dir = super::fast_tempdir()?;
        let config = ServeConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            db_path: dir.path().join("fencepost.db"),
            engine: EngineChoice::Embedded,
            aws_endpoint: None,
            seed_stores: None,
            admin_token: admin_token.clone(),
            // Time moves only when the simulator says so; every advance runs the timers that fell due.
            test_clock: true,
            timing: Timing::default(),
            journal: Default::default(),
        };
        let (_state, router): (Arc<_>, axum::Router) = fencepost_server::server::build(&config)
            .map_err(|e| Error::Backend(format!("starting the in-process server: {e}")))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // Ends when the run drops the task; a serve error shows up as failing requests.
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            base: format!("http://{addr}"),
            _dir: dir,
            task,
        })
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
