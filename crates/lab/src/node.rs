//! [`Node`]: one homeserver of a lab, running or stopped.
//!
//! A node owns what survives a restart (its name, its port, its data
//! directory, its seeded ID source) and, while it runs, the server task
//! and a handle on its store. Stopping ends the server task and its
//! federation sender; starting again opens the store afresh from disk, as
//! a restarted process would.

use crate::error::LabError;
use crate::seeds::SeededIds;
use lostfound_server::state::Clock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::SqliteStore;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One homeserver of a lab.
pub struct Node {
    pub(crate) config: Config,
    pub(crate) address: SocketAddr,
    ids: Arc<SeededIds>,
    pub(crate) running: Option<Running>,
}

/// What exists only while the server runs.
pub(crate) struct Running {
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) homeserver: Homeserver,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Node {
    pub(crate) fn new(config: Config, address: SocketAddr, ids: SeededIds) -> Self {
        Self {
            config,
            address,
            ids: Arc::new(ids),
            running: None,
        }
    }

    fn name(&self) -> String {
        self.config.server_name.to_string()
    }

    /// Opens the store in the data directory and serves on `listener`.
    pub(crate) fn start(
        &mut self,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> Result<(), LabError> {
        let store_error = |source| LabError::Store {
            server: self.name(),
            source,
        };
        let store = Arc::new(SqliteStore::open(&self.config.data_dir).map_err(store_error)?);
        let ids = Arc::clone(&self.ids);
        let homeserver = Homeserver::with_ids(self.config.clone(), store.clone(), clock, ids)
            .map_err(store_error)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(lostfound_server::serve(
            listener,
            homeserver.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        self.running = Some(Running {
            store,
            homeserver,
            stop,
            task,
        });
        Ok(())
    }

    /// Binds the node's own port again and starts it (after a stop).
    pub(crate) async fn start_again(&mut self, clock: Arc<dyn Clock>) -> Result<(), LabError> {
        let listener =
            TcpListener::bind(self.address)
                .await
                .map_err(|source| LabError::Listen {
                    server: self.name(),
                    source,
                })?;
        self.start(listener, clock)
    }

    /// Stops the server the way a crash looks from outside: the lab has
    /// already severed its connections (see [`crate::network`]), so peers
    /// see them drop mid-request. What is on disk is what a power cut
    /// would leave, because every acknowledged write was committed with
    /// `fsync` first (the CLI's `serve_cli` test proves it with a real
    /// `SIGKILL`); the server task itself is ended like [`Node::stop`],
    /// so that no task of the old server outlives it beside its successor.
    pub(crate) async fn crash(&mut self) -> Result<(), LabError> {
        self.stop().await
    }

    /// Stops the server and its sender and waits for both; the data
    /// directory stays. Stopping a stopped node does nothing.
    pub(crate) async fn stop(&mut self) -> Result<(), LabError> {
        let Some(running) = self.running.take() else {
            return Ok(());
        };
        let _ = running.stop.send(());
        let stopped = |message: String| LabError::Stopped {
            server: self.name(),
            message,
        };
        running
            .task
            .await
            .map_err(|e| stopped(e.to_string()))?
            .map_err(|e| stopped(e.to_string()))
    }
}
