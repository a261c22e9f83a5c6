//! The media repository: upload files, get `mxc://` URIs, download them
//! (<https://spec.matrix.org/v1.16/client-server-api/#content-repository>).
//!
//! An `mxc://server/media_id` URI names a file held by the server that
//! minted it. Events never carry files, only these URIs: a message with an
//! image, or an avatar, points at the uploader's server. That is why media
//! is the category federation cannot heal: when the only copy was on a
//! server restored from backup, every URI minted since then is dangling.
//!
//! Downloads are served twice: at the deprecated unauthenticated
//! `/_matrix/media/v3/download/...` and at the authenticated
//! `/_matrix/client/v1/media/download/...` (spec v1.11). Files of other
//! servers answer `M_NOT_FOUND` for now: fetching remote media over
//! federation is not implemented yet, so `allow_remote` is ignored.

use crate::client::params::{MatrixPath, MatrixQuery};
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::state::Homeserver;
use crate::tokens;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lostfound_protocol::ids::ServerName;
use lostfound_store::Media;
use lostfound_store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Sent with every download, as the spec recommends: a browser opening a
/// media URL directly must not run scripts from it.
const CONTENT_SECURITY_POLICY: &str = "sandbox; default-src 'none'; script-src 'none'; \
     plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';";

/// Content types a browser may show inline; everything else (HTML, SVG…)
/// is served as an attachment (spec: "Serving inline content").
const INLINE_CONTENT_TYPES: &[&str] = &[
    "text/css",
    "text/plain",
    "text/csv",
    "application/json",
    "application/ld+json",
    "image/jpeg",
    "image/gif",
    "image/png",
    "image/apng",
    "image/webp",
    "image/avif",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "video/quicktime",
    "audio/mp4",
    "audio/webm",
    "audio/aac",
    "audio/mpeg",
    "audio/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wav",
    "audio/flac",
    "audio/x-flac",
];

pub fn routes() -> Router<Homeserver> {
    let download = "/_matrix/media/v3/download/{serverName}/{mediaId}";
    let authenticated = "/_matrix/client/v1/media/download/{serverName}/{mediaId}";
    Router::new()
        .route("/_matrix/media/v3/upload", post(upload))
        .route("/_matrix/media/v3/config", get(get_media_config))
        .route("/_matrix/client/v1/media/config", get(get_media_config))
        .route(download, get(download_unauthenticated))
        .route(
            &format!("{download}/{{fileName}}"),
            get(download_unauthenticated),
        )
        .route(authenticated, get(download_authenticated))
        .route(
            &format!("{authenticated}/{{fileName}}"),
            get(download_authenticated),
        )
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    filename: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DownloadPath {
    #[serde(rename = "serverName")]
    server_name: String,
    #[serde(rename = "mediaId")]
    media_id: String,
    /// Overrides the uploaded file name in `Content-Disposition`.
    #[serde(rename = "fileName")]
    file_name: Option<String>,
}

/// `POST /_matrix/media/v3/upload?filename=`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixmediav3upload>):
/// stores the raw request body, typed by its `Content-Type` header, and
/// answers `{"content_uri": "mxc://<server>/<media_id>"}`. A body over the
/// server's limit is 413 `M_TOO_LARGE`.
pub async fn upload(
    State(homeserver): State<Homeserver>,
    caller: Authenticated,
    MatrixQuery(query): MatrixQuery<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!(
                "uploads are limited to {} bytes",
                homeserver.config().max_request_bytes
            ))
        } else {
            let message = format!("could not read the upload: {}", rejection.body_text());
            ApiError::new(rejection.status(), "M_UNKNOWN", message)
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .to_owned();
    let media = Media {
        origin: homeserver.config().server_name.clone(),
        media_id: tokens::media_id(homeserver.ids())?,
        content_type,
        filename: query.filename.filter(|name| !name.is_empty()),
        uploader: caller.user_id,
        created_ts: homeserver.now_ms(),
    };
    let content_uri = format!("mxc://{}/{}", media.origin, media.media_id);
    homeserver
        .store(move |store| store.put_media(&media, &bytes))
        .await?;
    Ok(Json(json!({ "content_uri": content_uri })))
}

/// `GET /_matrix/media/v3/config`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixmediav3config>)
/// and `GET /_matrix/client/v1/media/config`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1mediaconfig>):
/// the largest upload this server accepts.
pub async fn get_media_config(
    State(homeserver): State<Homeserver>,
    _caller: Authenticated,
) -> Json<Value> {
    Json(json!({ "m.upload.size": homeserver.config().max_request_bytes }))
}

/// `GET /_matrix/media/v3/download/{serverName}/{mediaId}[/{fileName}]`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixmediav3downloadservernamemediaid>):
/// the deprecated download, open to anyone who knows the URI.
pub async fn download_unauthenticated(
    State(homeserver): State<Homeserver>,
    MatrixPath(path): MatrixPath<DownloadPath>,
) -> Result<Response, ApiError> {
    download(&homeserver, path).await
}

/// `GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}]`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1mediadownloadservernamemediaid>):
/// the same bytes, for logged-in users only.
pub async fn download_authenticated(
    State(homeserver): State<Homeserver>,
    _caller: Authenticated,
    MatrixPath(path): MatrixPath<DownloadPath>,
) -> Result<Response, ApiError> {
    download(&homeserver, path).await
}

async fn download(homeserver: &Homeserver, path: DownloadPath) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "mxc://{}/{} is not here",
            path.server_name, path.media_id
        ))
    };
    let origin: ServerName = path.server_name.parse().map_err(|_| not_found())?;
    if origin != homeserver.config().server_name {
        return Err(ApiError::not_found(
            "media of other servers is not available: federation media is not implemented yet",
        ));
    }
    // The spec's media ID grammar; anything else (a `..`, a `/`) cannot exist.
    let well_formed = !path.media_id.is_empty()
        && path.media_id.len() <= 255
        && path
            .media_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed {
        return Err(not_found());
    }
    let media_id = path.media_id.clone();
    let found = homeserver
        .store(move |store| match store.media(&origin, &media_id) {
            // A row whose file is gone: what a restore without the media
            // directory leaves. For the client it is simply not here.
            Err(StoreError::Io { path, source })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::warn!(%path, "media row without its file");
                Ok(None)
            }
            other => other,
        })
        .await?;
    let (media, bytes) = found.ok_or_else(not_found)?;
    Ok((served_headers(&media, path.file_name), bytes).into_response())
}

/// The headers of a download: the type the uploader declared, and how a
/// browser should treat the file (see [`INLINE_CONTENT_TYPES`]).
fn served_headers(media: &Media, file_name: Option<String>) -> [(HeaderName, HeaderValue); 4] {
    let content_type = HeaderValue::from_str(&media.content_type)
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    let essence = media.content_type.split(';').next().unwrap_or("");
    let essence = essence.trim().to_ascii_lowercase();
    let disposition = if INLINE_CONTENT_TYPES.contains(&essence.as_str()) {
        "inline"
    } else {
        "attachment"
    };
    let filename = file_name.or_else(|| media.filename.clone());
    let disposition = content_disposition(disposition, filename.as_deref());
    let disposition =
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment"));
    [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ]
}

/// `inline; filename="cat.png"`, or for names that need escaping the RFC
/// 6266 form `attachment; filename*=utf-8''%E2%98%83.png`, which carries
/// any UTF-8 name in plain ASCII.
fn content_disposition(disposition: &str, filename: Option<&str>) -> String {
    let Some(name) = filename.filter(|name| !name.is_empty()) else {
        return disposition.to_owned();
    };
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" ._-+()".contains(&b));
    if plain {
        return format!("{disposition}; filename=\"{name}\"");
    }
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{disposition}; filename*=utf-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn file_names_are_quoted_or_percent_encoded() {
        assert_eq!(content_disposition("inline", None), "inline");
        assert_eq!(
            content_disposition("inline", Some("cat 1.png")),
            "inline; filename=\"cat 1.png\""
        );
        assert_eq!(
            content_disposition("attachment", Some("☃\"x.html")),
            "attachment; filename*=utf-8''%E2%98%83%22x.html"
        );
    }
}
