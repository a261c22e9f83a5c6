//! Checking who sent a federation request: the `X-Matrix` extractor
//! (<https://spec.matrix.org/v1.16/server-server-api/#request-authentication>).
//!
//! A handler that takes a [`FederationRequest`] only runs for a request
//! that a known server signed for us. The extractor:
//!
//! 1. parses `Authorization: X-Matrix origin=…,destination=…,key=…,sig=…`;
//! 2. refuses it if `destination` names another server (a request signed
//!    for someone else must not be replayable against us; a missing
//!    destination is tolerated, as the spec asks, and we check the
//!    signature as if it named us);
//! 3. reads the body and parses it as JSON (none for a GET);
//! 4. fetches the origin's key through the key ring (from the origin
//!    itself, via the directory). Anyone can send us a header naming any
//!    server in our directory and a made-up `key=`, before proving
//!    anything; the key ring therefore fetches a server's keys at most
//!    once per [`super::keys::REFETCH_INTERVAL_MS`], so such requests
//!    cannot make us hammer a third party (an unknown key ID within that
//!    time is simply refused);
//! 5. checks the signature over `{method, uri, origin, destination,
//!    content}`, with `uri` the path and query exactly as they arrived.
//!
//! Every failure is `401 M_UNAUTHORIZED` with the reason. One extractor
//! serves every method: it consumes the body, so it must be a handler's
//! last argument, and `body` is `None` when the request had none.

use crate::error::ApiError;
use crate::extract::parse_json;
use crate::state::Homeserver;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use lostfound_protocol::federation_auth::{XMatrix, verify_request};
use lostfound_protocol::ids::ServerName;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A request whose `X-Matrix` signature checked out.
#[derive(Debug, Clone)]
pub struct FederationRequest {
    /// The server that signed the request.
    pub origin: ServerName,
    /// The parsed JSON body, if the request had one.
    pub body: Option<Value>,
}

impl FederationRequest {
    /// The body as `T`: a missing body or the wrong shape is `M_BAD_JSON`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body = self
            .body
            .clone()
            .ok_or_else(|| ApiError::not_json("this endpoint needs a JSON body"))?;
        serde_json::from_value(body).map_err(|e| ApiError::bad_json(e.to_string()))
    }
}

/// `401 M_UNAUTHORIZED` with a reason.
pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "M_UNAUTHORIZED", message)
}

impl FromRequest<Homeserver> for FederationRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, homeserver: &Homeserver) -> Result<Self, ApiError> {
        let method = request.method().as_str().to_owned();
        let uri = request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |p| p.as_str().to_owned(),
        );
        let header = match request.headers().get(axum::http::header::AUTHORIZATION) {
            None => return Err(unauthorized("missing X-Matrix Authorization header")),
            Some(value) => value
                .to_str()
                .map_err(|_| unauthorized("the Authorization header is not ASCII"))?,
        };
        let header = XMatrix::parse(header).map_err(|e| unauthorized(e.to_string()))?;
        let ours = &homeserver.config().server_name;
        if let Some(destination) = &header.destination
            && destination != ours
        {
            return Err(unauthorized(format!(
                "this request is for {destination}; this server is {ours}"
            )));
        }

        let bytes = Bytes::from_request(request, homeserver)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large("the request body is larger than this server accepts")
                } else {
                    ApiError::not_json(rejection.body_text())
                }
            })?;
        let body: Option<Value> = if bytes.is_empty() {
            None
        } else {
            Some(parse_json(&bytes)?)
        };

        let key = homeserver
            .federation()
            .request_key(&header.origin, &header.key_id)
            .await
            .map_err(|e| {
                unauthorized(format!(
                    "cannot check the signature of {}: {e}",
                    header.origin
                ))
            })?;
        verify_request(&header, &method, &uri, ours, body.as_ref(), &key)
            .map_err(|e| unauthorized(format!("the X-Matrix signature is not valid: {e}")))?;
        // A signed request is proof that its origin is up: stop waiting out
        // a backoff before sending to it (Synapse resets its retry timings
        // the same way).
        homeserver.peer_is_back(&header.origin);
        Ok(Self {
            origin: header.origin,
            body,
        })
    }
}
