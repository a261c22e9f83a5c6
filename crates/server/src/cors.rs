//! CORS, so that web clients (Element Web, for one) can talk to us
//! (<https://spec.matrix.org/v1.16/client-server-api/#web-browser-clients>).
//!
//! A browser asks first with an `OPTIONS` "preflight" request, and then
//! only lets the page read answers that carry `Access-Control-Allow-Origin`.
//! The spec asks every endpoint to answer both with the headers below.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The headers the spec lists, added to every response.
fn add_cors_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("X-Requested-With, Content-Type, Authorization"),
    );
}

/// Answers preflight requests at once and adds the headers to the rest.
pub async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::OK.into_response()
    } else {
        next.run(request).await
    };
    add_cors_headers(response.headers_mut());
    response
}
