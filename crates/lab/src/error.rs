//! [`LabError`]: why a lab step failed, one variant per reason.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0:?} is not a valid server name: {1}")]
    BadServerName(String, String),
    #[error("the lab already has a server named {0}")]
    DuplicateServer(String),
    #[error("the lab has no server named {0}")]
    UnknownServer(String),
    #[error("server {0} is not running")]
    NotRunning(String),
    #[error("the lab has already started")]
    AlreadyStarted,
    #[error("cannot listen on 127.0.0.1 for {server}: {source}")]
    Listen {
        server: String,
        source: std::io::Error,
    },
    #[error("the store of {server} failed: {source}")]
    Store {
        server: String,
        source: lostfound_store::StoreError,
    },
    #[error("server {server} stopped with an error: {message}")]
    Stopped { server: String, message: String },
    /// `settle` gave up: these servers still had events to deliver to a
    /// running peer, or were still persisting new ones.
    #[error("the lab did not settle within {patience:?}; still busy: {}", busy.join(", "))]
    Unsettled {
        patience: Duration,
        busy: Vec<String>,
    },
    /// A file operation of a chaos step (backup, migrate, restore) failed.
    #[error("{path}: {message}")]
    Files { path: String, message: String },
    /// A server answered a client request with a Matrix error.
    #[error("{request} was refused: {status} {errcode}: {message}")]
    Refused {
        request: String,
        status: u16,
        errcode: String,
        message: String,
    },
    /// A client request failed or was answered with an error status.
    #[error("{request} failed: {message}")]
    Client { request: String, message: String },
}
