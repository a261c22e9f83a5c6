//! Request extractors: who is asking (the access token) and what they
//! sent (a JSON body, with Matrix's errors for bad ones).

use crate::error::ApiError;
use crate::state::Homeserver;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use lostfound_protocol::canonical_json;
use lostfound_protocol::ids::UserId;
use serde::de::DeserializeOwned;

/// The user and device behind the request's access token
/// (<https://spec.matrix.org/v1.16/client-server-api/#using-access-tokens>).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: UserId,
    pub device_id: String,
    pub access_token: String,
}

impl FromRequestParts<Homeserver> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        homeserver: &Homeserver,
    ) -> Result<Self, ApiError> {
        let token = access_token(parts).ok_or_else(ApiError::missing_token)?;
        let lookup = token.clone();
        let device = homeserver
            .store(move |store| store.device_by_token(&lookup))
            .await?
            .ok_or_else(ApiError::unknown_token)?;
        Ok(Self {
            user_id: device.user_id,
            device_id: device.device_id,
            access_token: token,
        })
    }
}

/// `Authorization: Bearer <token>`, or the deprecated `?access_token=`.
fn access_token(parts: &Parts) -> Option<String> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let query = || {
        parts.uri.query()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == "access_token").then(|| value.to_owned())
        })
    };
    header
        .map(str::to_owned)
        .or_else(query)
        .filter(|token| !token.is_empty())
}

/// A JSON request body, parsed the way Matrix wants: not JSON is
/// `M_NOT_JSON`; JSON of the wrong shape, or with floats, is `M_BAD_JSON`;
/// too big is `M_TOO_LARGE`.
#[derive(Debug, Clone)]
pub struct MatrixJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Homeserver> for MatrixJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, homeserver: &Homeserver) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, homeserver)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large("the request body is larger than this server accepts")
                } else {
                    ApiError::not_json(rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(MatrixJson)
    }
}

/// Parses a body as canonical-number JSON, then into `T`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| ApiError::not_json("the body is not UTF-8"))?;
    let value = canonical_json::parse(text).map_err(|error| match error {
        canonical_json::CanonicalJsonError::Syntax(message) => ApiError::not_json(message),
        other => ApiError::bad_json(other.to_string()),
    })?;
    serde_json::from_value(value).map_err(|e| ApiError::bad_json(e.to_string()))
}
