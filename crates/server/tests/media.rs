//! The media repository over real HTTP: upload bytes, get an `mxc://` URI,
//! download the same bytes back from both download endpoints.
//!
//! Media is the category of the incident that federation cannot heal: an
//! `mxc://` URI points at one server, and if that server lost the file,
//! nobody else has it.

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::json;

const UPLOAD: &str = "/_matrix/media/v3/upload";
/// The first bytes of a PNG file, and then some.
const PICTURE: &[u8] = b"\x89PNG\r\n\x1a\n a rabbit, looking at its watch";

/// Uploads `bytes` as `alice`; returns the media ID from the `mxc://` URI.
async fn upload(
    server: &TestServer,
    token: &str,
    query: &str,
    content_type: &str,
    bytes: &[u8],
) -> String {
    let path = format!("{UPLOAD}{query}");
    let (status, _, body) = server
        .request_raw(
            "POST",
            &path,
            Some(token),
            Some(content_type),
            bytes.to_vec(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = body["content_uri"].as_str().expect("a content_uri");
    let media_id = uri
        .strip_prefix("mxc://tomesh.lab/")
        .expect("an mxc URI of this server");
    assert!(
        !media_id.is_empty() && media_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{uri}"
    );
    media_id.to_owned()
}

#[tokio::test]
async fn an_upload_downloads_as_the_same_bytes() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    let media_id = upload(
        &server,
        &token,
        "?filename=rabbit.png",
        "image/png",
        PICTURE,
    )
    .await;

    // The deprecated, unauthenticated download.
    let path = format!("/_matrix/media/v3/download/tomesh.lab/{media_id}");
    let (status, headers, bytes) = server.request_raw("GET", &path, None, None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PICTURE);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let served = json!({
        "content-type": header("content-type"),
        "content-disposition": header("content-disposition"),
        "content-security-policy": header("content-security-policy"),
        "cross-origin-resource-policy": header("cross-origin-resource-policy"),
    });
    insta::assert_json_snapshot!("download_headers", served);

    // The authenticated download (spec v1.11), with a file name in the path.
    let path = format!("/_matrix/client/v1/media/download/tomesh.lab/{media_id}/watch.png");
    let (status, headers, bytes) = server
        .request_raw("GET", &path, Some(&token), None, vec![])
        .await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PICTURE));
    assert_eq!(
        headers["content-disposition"],
        "inline; filename=\"watch.png\""
    );
    let (status, error) = server.get(&path, None).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_MISSING_TOKEN"))
    );
}

/// A browser must not run what someone uploaded: only harmless types are
/// served `inline`; HTML, SVG and anything unknown is an `attachment`.
#[tokio::test]
async fn risky_content_types_are_attachments() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    let html = upload(
        &server,
        &token,
        "?filename=évil.html",
        "text/html",
        b"<script>alert(1)</script>",
    )
    .await;
    let (_, headers, _) = server
        .request_raw(
            "GET",
            &format!("/_matrix/media/v3/download/tomesh.lab/{html}"),
            None,
            None,
            vec![],
        )
        .await;
    assert_eq!(headers["content-type"], "text/html");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename*=utf-8''%C3%A9vil.html"
    );

    // No Content-Type at all: stored as application/octet-stream.
    let (status, _, body) = server
        .request_raw("POST", UPLOAD, Some(&token), None, b"??".to_vec())
        .await;
    assert_eq!(status, StatusCode::OK);
    let uri: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let media_id = uri["content_uri"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("an id");
    let (_, headers, _) = server
        .request_raw(
            "GET",
            &format!("/_matrix/media/v3/download/tomesh.lab/{media_id}"),
            None,
            None,
            vec![],
        )
        .await;
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment");
}

#[tokio::test]
async fn missing_remote_and_oversized_media() {
    let server =
        TestServer::start_with("tomesh.lab", |config| config.max_request_bytes = 1024).await;
    let (_, token) = server.register("alice", "wonderland").await;

    for path in [
        "/_matrix/media/v3/download/tomesh.lab/NoSuchMedia",
        "/_matrix/media/v3/download/elsewhere.lab/SomeMedia",
        "/_matrix/media/v3/download/tomesh.lab/..%2Fhomeserver.db",
        &format!("/_matrix/media/v3/download/tomesh.lab/{}", "a".repeat(256)),
    ] {
        let (status, error) = server.get(path, None).await;
        assert_eq!(
            (status, error["errcode"].as_str()),
            (StatusCode::NOT_FOUND, Some("M_NOT_FOUND")),
            "{path}"
        );
    }

    let (status, _, body) = server
        .request_raw(
            "POST",
            UPLOAD,
            Some(&token),
            Some("image/png"),
            vec![0; 2048],
        )
        .await;
    let error: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("M_TOO_LARGE"))
    );
    let (status, error) = server.post(UPLOAD, None, json!({})).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_MISSING_TOKEN"))
    );

    // Both config endpoints tell clients the limit before they try.
    for path in [
        "/_matrix/media/v3/config",
        "/_matrix/client/v1/media/config",
    ] {
        assert_eq!(
            server.get(path, Some(&token)).await,
            (StatusCode::OK, json!({"m.upload.size": 1024}))
        );
    }
}

/// A media row whose file is gone (a restore that forgot the media
/// directory, as in the incident) is a 404, and the answer does not leak
/// where the server keeps its files.
#[tokio::test]
async fn media_whose_file_was_lost_is_not_found() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    let media_id = upload(&server, &token, "", "image/png", PICTURE).await;
    std::fs::remove_file(server.data_dir().join("media/tomesh.lab").join(&media_id))
        .expect("the media file exists");
    let path = format!("/_matrix/client/v1/media/download/tomesh.lab/{media_id}");
    let (status, error) = server.get(&path, Some(&token)).await;
    assert_eq!(
        (status, error["errcode"].as_str()),
        (StatusCode::NOT_FOUND, Some("M_NOT_FOUND"))
    );
    let data_dir = server.data_dir().display().to_string();
    assert!(!error.to_string().contains(&data_dir), "{error}");
}

/// Media lives in the data directory: a restarted server still serves it.
#[tokio::test]
async fn media_survives_a_restart() {
    let server = TestServer::start("tomesh.lab").await;
    let (_, token) = server.register("alice", "wonderland").await;
    let media_id = upload(&server, &token, "", "image/png", PICTURE).await;
    let dir = server.data_dir().to_path_buf();
    let _keep = server.stop().await;

    let restarted = TestServer::start_in("tomesh.lab", &dir).await;
    let path = format!("/_matrix/client/v1/media/download/tomesh.lab/{media_id}");
    let (status, _, bytes) = restarted
        .request_raw("GET", &path, Some(&token), None, vec![])
        .await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PICTURE));
}
