//! A Lost & Found mini-homeserver: the part of a Matrix homeserver that
//! the 2021 incident is about, speaking the real client-server API.
//!
//! The server is an [`axum`] application over a [`Store`]. HTTP stays at
//! the edge: handlers parse requests, call into the domain modules, and turn
//! errors into the spec's `{"errcode", "error"}` JSON ([`ApiError`]).
//!
//! | module | what it is for |
//! |---|---|
//! | [`cors`] | the CORS headers web clients need, and answers to preflight `OPTIONS` |
//! | [`config`] | what a server is: its name, signing key seed, data directory, limits |
//! | [`error`] | [`ApiError`]: every failure as an HTTP status and a Matrix `errcode` |
//! | [`state`] | [`Homeserver`]: the shared state every handler gets |
//! | [`extract`] | request extractors: the access token, Matrix-style JSON bodies |
//! | [`client`] | the client-server API routes, one module per spec area |
//! | [`federation`] | the server-server API: keys, signed requests, serving and receiving PDUs |
//! | [`hooks`] | exercise hooks: a student's code in place of parts of federation (none by default) |
//! | [`rooms`] | room logic without HTTP: building, authorising and persisting events |
//! | [`password`] | argon2id password hashing, off the async runtime |
//! | [`tokens`] | random access tokens, device IDs, media IDs |
//! | [`logging`] | one log line per request |
//!
//! A server starts the way mini-redis does: bind a listener, hand it over
//! with a shutdown future. Tests bind `127.0.0.1:0` and run servers
//! in-process.
//!
//! **Invariant:** only this crate knows HTTP.
//!
//! [`Store`]: lostfound_store::Store

pub mod client;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod federation;
pub mod hooks;
pub mod logging;
pub mod password;
pub mod rooms;
pub mod state;
pub mod tokens;

pub use config::Config;
pub use error::ApiError;
pub use state::Homeserver;

use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

/// The whole HTTP application of one homeserver.
pub fn app(homeserver: Homeserver) -> Router {
    let max_body = homeserver.config().max_request_bytes;
    Router::new()
        .merge(client::routes())
        .merge(federation::routes())
        .fallback(error::unrecognized)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::Extension(client::uia::UiaSessions::default()))
        .layer(axum::middleware::from_fn(cors::cors))
        .layer(axum::middleware::from_fn(logging::log_request))
        .with_state(homeserver)
}

/// Serves `homeserver` on `listener` until `shutdown` completes, then
/// finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    homeserver: Homeserver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let name = homeserver.config().server_name.clone();
    tracing::info!(server = %name, address = ?listener.local_addr().ok(), "homeserver listening");
    let stopping = homeserver.clone();
    let shutdown = async move {
        shutdown.await;
        // Wake long-polling syncs, or the graceful shutdown waits them out.
        stopping.begin_shutdown();
    };
    // Delivers our events to other servers until the shutdown begins.
    let sender = federation::sender::spawn_sender(homeserver.clone());
    let sender_stop = homeserver.clone();
    let served = axum::serve(listener, app(homeserver))
        .with_graceful_shutdown(shutdown)
        .await;
    // Stop the sender (also when serving failed) and wait for it, so that a
    // restarted server on the same data directory never runs beside its
    // predecessor's sender.
    sender_stop.begin_shutdown();
    let _ = sender.await;
    served
}
