//! Path and query-string extractors that fail the Matrix way.
//!
//! axum's own `Path` and `Query` reject bad input with a plain-text body;
//! Matrix clients expect `{"errcode", "error"}` JSON. These wrappers keep
//! axum's parsing and change only the error.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Path parameters (`/profile/{userId}`), percent-decoded; a bad one is
/// `M_INVALID_PARAM`.
#[derive(Debug, Clone)]
pub struct MatrixPath<T>(pub T);

impl<T, S> FromRequestParts<S> for MatrixPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection| ApiError::invalid_param(rejection.body_text()))
    }
}

/// Query-string parameters (`?filename=cat.png`); a bad one is
/// `M_INVALID_PARAM`. Declare parameters as `Option` and check for missing
/// ones yourself, so that a client hears `M_MISSING_PARAM` for those.
#[derive(Debug, Clone)]
pub struct MatrixQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for MatrixQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::invalid_param(rejection.body_text()))
    }
}
