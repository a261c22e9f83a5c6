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

/// The target of the one-line-per-federation-request trace, so that it
/// can be switched on alone: `RUST_LOG=lostfound::federation=info`.
pub const FEDERATION_TARGET: &str = "lostfound::federation";

/// Logs `GET /_matrix/client/v3/account/whoami 200 1.2ms` at `info`, and
/// passes the request on unchanged. A signed federation request is logged
/// instead under [`FEDERATION_TARGET`], with who sent it to whom:
/// `matrix.lab -> tomesh.lab PUT /_matrix/federation/v1/send/12 200 3.1ms`.
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let parties = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(x_matrix_parties);
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    match parties {
        // Refused: the names are only what the header claimed.
        Some((origin, _)) if status == 401 => tracing::info!(
            "{method} {path} {status} {duration_ms:.1}ms (claimed origin {origin:?})"
        ),
        Some((origin, destination)) => tracing::info!(
            target: FEDERATION_TARGET,
            "{origin} -> {destination} {method} {path} {status} {duration_ms:.1}ms"
        ),
        None => tracing::info!("{method} {path} {status} {duration_ms:.1}ms"),
    }
    response
}

/// `(origin, destination)` from an `X-Matrix` authorization header, as
/// claimed (the request's handler checks the signature; a log line only
/// needs the names).
fn x_matrix_parties(header: &str) -> Option<(String, String)> {
    let params = header.strip_prefix("X-Matrix ")?;
    let value = |name: &str| {
        params.split(',').find_map(|param| {
            let (key, value) = param.trim().split_once('=')?;
            (key == name).then(|| value.trim_matches('"').to_owned())
        })
    };
    Some((value("origin")?, value("destination").unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::x_matrix_parties;

    #[test]
    fn parties_are_read_from_an_x_matrix_header() {
        let header =
            r#"X-Matrix origin="matrix.lab",destination="tomesh.lab",key="ed25519:1",sig="abc""#;
        assert_eq!(
            x_matrix_parties(header),
            Some(("matrix.lab".into(), "tomesh.lab".into()))
        );
        assert_eq!(x_matrix_parties("Bearer lf_token"), None);
        assert_eq!(x_matrix_parties("X-Matrix key=\"k\""), None);
    }
}
