//! One log line per request: method, path, status, duration.
//!
//! It is an axum middleware (`axum::middleware::from_fn`), so it sees every
//! request, including those rejected before a handler runs (unknown paths,
//! bodies over the limit).
//!
//! Only the *path* is logged, never the query string: clients may send
//! their access token as `?access_token=`, and logs are not a place for
//! secrets.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Logs `GET /_matrix/client/v3/account/whoami 200 1.2ms` at `info`, and
/// passes the request on unchanged.
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!("{method} {path} {status} {duration_ms:.1}ms");
    response
}
