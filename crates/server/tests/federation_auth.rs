//! Servers proving who they are to each other, over real HTTP: the key
//! document, `X-Matrix` request signatures, and event signatures checked
//! with keys fetched from their servers.
//!
//! Each test starts a small federation in this process (`a.lab`, `b.lab`,
//! each in the other's directory), then plays `a.lab`, or an impostor,
//! by signing requests with the key `a.lab`'s server really has (or not).

mod common;

use common::{TestServer, federation_seed};
use lostfound_protocol::federation_auth::{XMatrix, sign_request};
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::pdu::PduBuilder;
use lostfound_protocol::server_keys::ServerKeys;
use lostfound_protocol::signing::SigningKey;
use lostfound_server::federation::FederationError;
use lostfound_server::federation::client::FederationClient;
use lostfound_server::federation::directory::Directory;
use lostfound_server::federation::{Federation, Peers};
use lostfound_server::state::SystemClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

fn name(text: &str) -> ServerName {
    text.parse().expect("a server name")
}

/// The key a test server signs with ([`federation_seed`]), or an
/// impostor's key under the same name when `seed` is given.
fn key_of(server: &str, seed: Option<[u8; 32]>) -> SigningKey {
    let seed = seed.unwrap_or_else(|| federation_seed(server));
    SigningKey::from_seed(name(server), "ed25519:1".parse().expect("a key ID"), seed)
}

/// The directory the test servers use, to make our own clients.
fn directory(servers: &[TestServer]) -> Directory {
    let peers: BTreeMap<ServerName, String> = servers
        .iter()
        .map(|server| (name(&server.server_name), server.base_url.clone()))
        .collect();
    Directory::new(&peers)
}

/// Sends `method path` to `server` with the given Authorization header and
/// body; returns the status and the JSON answer.
async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    header: Option<String>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = server
        .client
        .request(method, format!("{}{path}", server.base_url));
    if let Some(header) = header {
        request = request.header(reqwest::header::AUTHORIZATION, header);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn now_ms() -> u64 {
    lostfound_server::state::Clock::now_ms(&SystemClock)
}

/// `b.lab` with a user whose profile other servers may ask for.
async fn federation_with_bob() -> Vec<TestServer> {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let (_, token) = servers[1].register("bob", "correct horse").await;
    let (status, body) = servers[1]
        .put(
            "/_matrix/client/v3/profile/@bob:b.lab/displayname",
            Some(&token),
            json!({"displayname": "Bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    servers
}

const PROFILE: &str = "/_matrix/federation/v1/query/profile?user_id=%40bob%3Ab.lab";

#[tokio::test]
async fn the_key_document_is_self_signed_and_valid_for_a_day() {
    let servers = TestServer::start_federation(&["a.lab"]).await;
    let (status, document) = servers[0].get("/_matrix/key/v2/server", None).await;
    assert_eq!(status, StatusCode::OK, "{document}");

    // Anyone can check it: it names a.lab and a.lab's key signed it.
    let now = now_ms();
    let keys = ServerKeys::from_document(&document, &name("a.lab"), now).expect("it verifies");
    let key_id = "ed25519:1".parse().expect("a key ID");
    assert_eq!(
        keys.request_key(&key_id),
        Some(&key_of("a.lab", None).verify_key())
    );
    let day = 24 * 60 * 60 * 1000;
    assert!(keys.valid_until_ts > now + day - 60_000 && keys.valid_until_ts <= now + day + 60_000);

    let mut shape = document.clone();
    shape["verify_keys"]["ed25519:1"]["key"] = json!("[public key]");
    shape["signatures"]["a.lab"]["ed25519:1"] = json!("[signature]");
    shape["valid_until_ts"] = json!("[now + 24 h]");
    insta::assert_json_snapshot!("server_keys", shape);

    // The deprecated per-key path answers the same document.
    let (status, same) = servers[0]
        .get("/_matrix/key/v2/server/ed25519:1", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["verify_keys"], document["verify_keys"]);
}

#[tokio::test]
async fn the_version_needs_no_signature() {
    let servers = TestServer::start_federation(&["a.lab"]).await;
    let (status, body) = servers[0].get("/_matrix/federation/v1/version", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["server"]["name"], "lostfound");
    assert!(body["server"]["version"].is_string());
}

#[tokio::test]
async fn a_request_signed_by_a_peer_is_answered() {
    let servers = federation_with_bob().await;
    // a.lab's own client: it signs, b.lab fetches a.lab's key from a.lab.
    let client = FederationClient::new(key_of("a.lab", None), directory(&servers));
    let profile = client
        .get_json(&name("b.lab"), PROFILE)
        .await
        .expect("answered");
    assert_eq!(profile, json!({"displayname": "Bob"}));
    let avatar = client
        .get_json(&name("b.lab"), &format!("{PROFILE}&field=avatar_url"))
        .await
        .expect("answered");
    assert_eq!(avatar, json!({}));

    // A peer's error arrives as Refused, with the spec's errcode.
    let unknown = "/_matrix/federation/v1/query/profile?user_id=%40nobody%3Ab.lab";
    match client.get_json(&name("b.lab"), unknown).await {
        Err(FederationError::Refused {
            status: 404,
            errcode,
            ..
        }) => {
            assert_eq!(errcode, "M_NOT_FOUND")
        }
        other => panic!("expected 404 M_NOT_FOUND, got {other:?}"),
    }
}

/// Asserts a 401 `M_UNAUTHORIZED` whose message contains `reason`.
fn assert_unauthorized((status, body): (StatusCode, Value), reason: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["errcode"], "M_UNAUTHORIZED", "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "{message:?} should mention {reason:?}"
    );
}

#[tokio::test]
async fn unsigned_forged_and_misdirected_requests_are_refused() {
    let servers = federation_with_bob().await;
    let b = &servers[1];
    let sign = |key: &SigningKey, destination: &str, path: &str, body: Option<&Value>| {
        sign_request(key, "GET", path, &name(destination), body)
            .expect("signed")
            .to_string()
    };
    let a = key_of("a.lab", None);

    // No header at all.
    assert_unauthorized(
        send(b, "GET", PROFILE, None, None).await,
        "missing X-Matrix",
    );

    // A header that is not X-Matrix, or not well formed.
    let bearer = Some("Bearer abc".to_owned());
    assert_unauthorized(send(b, "GET", PROFILE, bearer, None).await, "X-Matrix");

    // A signature a.lab never made: valid base64, wrong bytes.
    let mut forged: XMatrix = XMatrix::parse(&sign(&a, "b.lab", PROFILE, None)).expect("parses");
    forged.signature = sign_request(&a, "GET", "/other", &name("b.lab"), None)
        .expect("signed")
        .signature;
    let response = send(b, "GET", PROFILE, Some(forged.to_string()), None).await;
    assert_unauthorized(response, "signature is not valid");

    // Someone else's key under a.lab's name.
    let impostor = key_of("a.lab", Some([99; 32]));
    let header = sign(&impostor, "b.lab", PROFILE, None);
    assert_unauthorized(
        send(b, "GET", PROFILE, Some(header), None).await,
        "signature is not valid",
    );

    // A server b.lab's directory does not know: its key cannot be fetched.
    let stranger = key_of("c.lab", Some([3; 32]));
    let header = sign(&stranger, "b.lab", PROFILE, None);
    assert_unauthorized(send(b, "GET", PROFILE, Some(header), None).await, "c.lab");

    // Signed for another destination: not replayable against b.lab.
    let header = sign(&a, "a.lab", PROFILE, None);
    assert_unauthorized(
        send(b, "GET", PROFILE, Some(header), None).await,
        "this request is for a.lab",
    );

    // The same request, unchanged, is accepted: the refusals above were
    // about the signatures, not the request.
    let header = sign(&a, "b.lab", PROFILE, None);
    let (status, body) = send(b, "GET", PROFILE, Some(header), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"displayname": "Bob"}))
    );
}

#[tokio::test]
async fn every_signed_part_of_a_request_is_checked() {
    let servers = federation_with_bob().await;
    let b = &servers[1];
    let a = key_of("a.lab", None);
    let body = json!({"reason": "checking"});
    let header = sign_request(&a, "GET", PROFILE, &name("b.lab"), Some(&body))
        .expect("signed")
        .to_string();

    // As signed: accepted (the extractor checks a body whatever the method).
    let response = send(b, "GET", PROFILE, Some(header.clone()), Some(&body)).await;
    assert_eq!(response.0, StatusCode::OK, "{}", response.1);

    let tampered_body = json!({"reason": "something else"});
    let response = send(
        b,
        "GET",
        PROFILE,
        Some(header.clone()),
        Some(&tampered_body),
    )
    .await;
    assert_unauthorized(response, "signature is not valid");

    let response = send(b, "GET", PROFILE, Some(header.clone()), None).await;
    assert_unauthorized(response, "signature is not valid");

    let other_query = "/_matrix/federation/v1/query/profile?user_id=%40eve%3Ab.lab";
    let response = send(b, "GET", other_query, Some(header.clone()), Some(&body)).await;
    assert_unauthorized(response, "signature is not valid");

    // The old form without `destination` is tolerated, and still checked
    // as if it named b.lab.
    let mut old_style = XMatrix::parse(&header).expect("parses");
    old_style.destination = None;
    let response = send(b, "GET", PROFILE, Some(old_style.to_string()), Some(&body)).await;
    assert_eq!(response.0, StatusCode::OK, "{}", response.1);
}

#[tokio::test]
async fn event_signatures_are_checked_with_keys_fetched_from_their_server() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    // b.lab's federation, as its receive pipeline would use it.
    let b = Federation::new(
        &key_of("b.lab", None),
        directory(&servers),
        Arc::new(SystemClock),
    );
    let event = |key: &SigningKey| {
        PduBuilder::new(
            "!room:a.lab".parse().expect("a room ID"),
            "@alice:a.lab".parse().expect("a user ID"),
            "m.room.message",
            json!({"msgtype": "m.text", "body": "hello"}),
        )
        .depth(3)
        .origin_server_ts(1_610_000_000_000)
        .sign(key)
        .expect("signed")
    };
    b.verify_event_signatures(&event(&key_of("a.lab", None)))
        .await
        .expect("a.lab's signature verifies with the key a.lab publishes");

    let forged = event(&key_of("a.lab", Some([42; 32])));
    let result = b.verify_event_signatures(&forged).await;
    assert!(
        matches!(result, Err(FederationError::Signature(_))),
        "{result:?}"
    );
}
