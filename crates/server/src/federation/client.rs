//! Outgoing requests to other servers, each signed with `X-Matrix`
//! (<https://spec.matrix.org/v1.16/server-server-api/#request-authentication>).
//!
//! Every request names its destination and carries our signature over
//! its method, path and query, and body, so the peer knows it came from us
//! and was meant for it. Answers are untrusted JSON: an error answer becomes
//! [`FederationError::Refused`] with the peer's `errcode`; anything else
//! unexpected is [`FederationError::BadResponse`]. A peer that does not
//! answer within the timeout is [`FederationError::Unreachable`], so one
//! dead server never stalls the others.

use super::FederationError;
use super::directory::Directory;
use lostfound_protocol::federation_auth::sign_request;
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::signing::SigningKey;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// How long to wait for a connection to a peer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a whole answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer we read from most endpoints: 1 MiB. A key
/// document, an event, a query answer or a transaction result is a few
/// kilobytes; reading whatever a peer sends into memory would let one
/// hostile or broken peer exhaust ours with a single endless answer.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// The largest answer we read from the endpoints that return a room's
/// state or history in bulk (`send_join`, `state`, `state_ids`,
/// `backfill`, `get_missing_events`, `event_auth`): 64 MiB, room for the
/// state of a large room.
pub const MAX_BULK_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// The path segments of the endpoints allowed [`MAX_BULK_ANSWER_BYTES`].
const BULK_ENDPOINTS: [&str; 6] = [
    "/send_join/",
    "/state/",
    "/state_ids/",
    "/backfill/",
    "/get_missing_events/",
    "/event_auth/",
];
/// The most of an error body we quote back in a message.
const QUOTE_LIMIT: usize = 200;

/// An HTTP client that signs every request as our server.
#[derive(Debug, Clone)]
pub struct FederationClient {
    http: reqwest::Client,
    signing_key: SigningKey,
    directory: Directory,
}

impl FederationClient {
    pub fn new(signing_key: SigningKey, directory: Directory) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            signing_key,
            directory,
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Our own name: the `origin` of every request.
    pub fn server_name(&self) -> ServerName {
        self.signing_key.server_name()
    }

    /// Sends a signed request; `path` is the path and query exactly as
    /// sent (`/_matrix/federation/v1/…?…`). Returns the answer's JSON.
    pub async fn request_json(
        &self,
        method: Method,
        destination: &ServerName,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, FederationError> {
        let url = format!("{}{path}", self.directory.base_url(destination)?);
        let header = sign_request(&self.signing_key, method.as_str(), path, destination, body)?;
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, header.to_string());
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer(destination, request, answer_limit(path)).await
    }

    pub async fn get_json(
        &self,
        destination: &ServerName,
        path: &str,
    ) -> Result<Value, FederationError> {
        self.request_json(Method::GET, destination, path, None)
            .await
    }

    pub async fn put_json(
        &self,
        destination: &ServerName,
        path: &str,
        body: &Value,
    ) -> Result<Value, FederationError> {
        self.request_json(Method::PUT, destination, path, Some(body))
            .await
    }

    pub async fn post_json(
        &self,
        destination: &ServerName,
        path: &str,
        body: &Value,
    ) -> Result<Value, FederationError> {
        self.request_json(Method::POST, destination, path, Some(body))
            .await
    }

    /// An unsigned GET, for the endpoints the spec leaves open: a server's
    /// keys cannot require a signature that needs those keys to check.
    pub async fn get_unsigned(
        &self,
        destination: &ServerName,
        path: &str,
    ) -> Result<Value, FederationError> {
        let url = format!("{}{path}", self.directory.base_url(destination)?);
        self.answer(destination, self.http.get(url), answer_limit(path))
            .await
    }

    /// Sends `request` and reads its answer, at most `limit` bytes of it.
    async fn answer(
        &self,
        server: &ServerName,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<Value, FederationError> {
        let unreachable = |error: reqwest::Error| FederationError::Unreachable {
            server: server.clone(),
            reason: error.to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = read_limited(server, response, limit).await?;
        let json = serde_json::from_slice::<Value>(&bytes);
        if status.is_success() {
            return json.map_err(|e| FederationError::BadResponse {
                server: server.clone(),
                reason: format!("the answer is not JSON: {e}"),
            });
        }
        let field = |name: &str| {
            json.as_ref()
                .ok()
                .and_then(|body| body.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Err(FederationError::Refused {
            server: server.clone(),
            status: status.as_u16(),
            errcode: field("errcode").unwrap_or_else(|| "M_UNKNOWN".to_owned()),
            message: field("error").unwrap_or_else(|| quote(&bytes)),
        })
    }
}

/// The limit for an answer from `path` (path and query as sent).
fn answer_limit(path: &str) -> usize {
    let path = path.split('?').next().unwrap_or(path);
    if BULK_ENDPOINTS
        .iter()
        .any(|endpoint| path.contains(endpoint))
    {
        MAX_BULK_ANSWER_BYTES
    } else {
        MAX_ANSWER_BYTES
    }
}

/// Reads `response`'s body chunk by chunk, failing as soon as it passes
/// `limit` bytes (or announces more in `Content-Length`, before reading
/// any): memory use is bounded by the limit, whatever the peer sends.
async fn read_limited(
    server: &ServerName,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FederationError> {
    let too_large = || FederationError::BadResponse {
        server: server.clone(),
        reason: format!("answer larger than {limit} bytes"),
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) =
        response
            .chunk()
            .await
            .map_err(|error| FederationError::Unreachable {
                server: server.clone(),
                reason: error.to_string(),
            })?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The start of a non-JSON error body, for the error message.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut quoted: String = text.chars().take(QUOTE_LIMIT).collect();
    if text.chars().count() > QUOTE_LIMIT {
        quoted.push('…');
    }
    quoted
}
