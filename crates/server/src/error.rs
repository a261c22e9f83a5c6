//! Every failure as the spec's error JSON: an HTTP status, an `errcode`,
//! and a message (<https://spec.matrix.org/v1.16/client-server-api/#standard-error-response>).
//!
//! Errors carry their `errcode` from where they arise to the HTTP edge, so
//! a client always learns *why*, in a form its library understands.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lostfound_store::StoreError;
use serde_json::json;

/// A Matrix error response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {errcode}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub errcode: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, errcode: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            errcode,
            message: message.into(),
        }
    }
    /// The body was not JSON at all.
    pub fn not_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_NOT_JSON", message)
    }
    /// The body was JSON, but not the right shape (or it had floats).
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_BAD_JSON", message)
    }
    pub fn missing_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_MISSING_PARAM", message)
    }
    pub fn invalid_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", message)
    }
    pub fn missing_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "M_MISSING_TOKEN",
            "no access token was given",
        )
    }
    pub fn unknown_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "M_UNKNOWN_TOKEN",
            "the access token is not recognised (logged out?)",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "M_FORBIDDEN", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "M_NOT_FOUND", message)
    }
    pub fn user_in_use(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_USER_IN_USE", message)
    }
    pub fn invalid_username(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_INVALID_USERNAME", message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "M_TOO_LARGE", message)
    }
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "M_UNKNOWN", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(errcode = self.errcode, "{}", self.message);
        }
        let body = json!({ "errcode": self.errcode, "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UserInUse(user) => Self::user_in_use(format!("{user} is already taken")),
            StoreError::AliasInUse(alias) => Self::new(
                StatusCode::BAD_REQUEST,
                "M_ROOM_IN_USE",
                format!("{alias} is already in use"),
            ),
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::DiskFull(detail) => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "M_RESOURCE_LIMIT_EXCEEDED",
                format!("disk full: {detail}"),
            ),
            // File paths and SQLite details belong in the server's log,
            // not in answers to clients.
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::unknown("storage failure (details are in the server's log)")
            }
        }
    }
}

/// The fallback for paths and methods we do not implement: `M_UNRECOGNIZED`.
pub async fn unrecognized(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "M_UNRECOGNIZED",
        format!(
            "{method} {} is not an endpoint this server implements",
            uri.path()
        ),
    )
}

/// A known path with a method it does not take: 405 `M_UNRECOGNIZED`, as
/// the spec asks, rather than an empty body.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "M_UNRECOGNIZED",
        format!("{} does not take {method}", uri.path()),
    )
}
