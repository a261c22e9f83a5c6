//! Limits on what peers (and whoever claims to be one) can make us do:
//! fetch a server's keys at most once a minute, and read at most so many
//! bytes of any answer.

mod common;

use common::{TestServer, federation_seed};
use lostfound_protocol::federation_auth::sign_request;
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_server::federation::client::{FederationClient, MAX_ANSWER_BYTES};
use lostfound_server::federation::directory::Directory;
use lostfound_server::federation::{Federation, FederationError, Peers};
use lostfound_server::state::SystemClock;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn name(text: &str) -> ServerName {
    text.parse().expect("a server name")
}

fn key_of(server: &str) -> SigningKey {
    SigningKey::from_seed(
        name(server),
        "ed25519:1".parse().expect("a key ID"),
        federation_seed(server),
    )
}

fn directory(peers: &[(&str, String)]) -> Directory {
    let peers: BTreeMap<ServerName, String> = peers
        .iter()
        .map(|(server, url)| (name(server), url.clone()))
        .collect();
    Directory::new(&peers)
}

/// An event of a.lab's, signed by a.lab's real key, whose a.lab
/// signatures are then replaced by `key_ids` (with junk values).
fn event_with_key_ids(key_ids: &[String]) -> Pdu {
    let event = PduBuilder::new(
        "!room:a.lab".parse().expect("a room ID"),
        "@alice:a.lab".parse().expect("a user ID"),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "hello"}),
    )
    .depth(3)
    .origin_server_ts(1_610_000_000_000)
    .sign(&key_of("a.lab"))
    .expect("signed");
    let mut json = event.json().clone();
    let bogus: serde_json::Map<String, Value> = key_ids
        .iter()
        .map(|id| (id.clone(), json!("AAAA")))
        .collect();
    json["signatures"]["a.lab"] = Value::Object(bogus);
    Pdu::from_json(Value::Object(json)).expect("still an event")
}

#[tokio::test]
async fn bogus_key_ids_on_an_event_cost_at_most_one_fetch() {
    let servers = TestServer::start_federation(&["a.lab"]).await;
    let b = Federation::new(
        &key_of("b.lab"),
        directory(&[("a.lab", servers[0].base_url.clone())]),
        Arc::new(SystemClock),
    );
    let bogus: Vec<String> = (0..10).map(|i| format!("ed25519:bogus{i}")).collect();
    let result = b.verify_event_signatures(&event_with_key_ids(&bogus)).await;
    assert!(
        matches!(result, Err(FederationError::UnknownKey { .. })),
        "{result:?}"
    );
    assert_eq!(
        b.key_ring().fetch_count(),
        1,
        "ten bogus key IDs, one fetch"
    );

    // Again, and with requests naming bogus keys: no new fetch within the
    // interval (a minute; the key ring's unit tests check it ends).
    let result = b.verify_event_signatures(&event_with_key_ids(&bogus)).await;
    assert!(result.is_err());
    for i in 0..5 {
        let key_id = format!("ed25519:random{i}").parse().expect("a key ID");
        assert!(b.request_key(&name("a.lab"), &key_id).await.is_err());
    }
    assert_eq!(b.key_ring().fetch_count(), 1);

    // The real key is in the document fetched once: no fetch needed; the
    // bogus entries next to the real one are ignored.
    let mut ids = bogus.clone();
    ids.push("ed25519:1".to_owned());
    let mut event = event_with_key_ids(&ids).json().clone();
    let genuine = PduBuilder::new(
        "!room:a.lab".parse().expect("a room ID"),
        "@alice:a.lab".parse().expect("a user ID"),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "hello"}),
    )
    .depth(3)
    .origin_server_ts(1_610_000_000_000)
    .sign(&key_of("a.lab"))
    .expect("signed");
    event["signatures"]["a.lab"]["ed25519:1"] =
        genuine.json()["signatures"]["a.lab"]["ed25519:1"].clone();
    let event = Pdu::from_json(Value::Object(event)).expect("an event");
    b.verify_event_signatures(&event)
        .await
        .expect("the real signature verifies");
    assert_eq!(b.key_ring().fetch_count(), 1);
}

/// A clock the test moves by hand.
#[derive(Debug)]
struct HandClock(std::sync::atomic::AtomicU64);

impl lostfound_server::state::Clock for HandClock {
    fn now_ms(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The rate limit is for fetches that could only be wasted. A document
/// that expired (the lab's clock jumps months between steps) is fetched
/// again at once, or a healthy peer would be unverifiable for a minute.
#[tokio::test]
async fn an_expired_key_document_is_fetched_again_at_once() {
    let servers = TestServer::start_federation(&["a.lab"]).await;
    let now = lostfound_server::state::Clock::now_ms(&SystemClock);
    let clock = Arc::new(HandClock(std::sync::atomic::AtomicU64::new(now)));
    let b = Federation::new(
        &key_of("b.lab"),
        directory(&[("a.lab", servers[0].base_url.clone())]),
        clock.clone(),
    );
    let key_id = "ed25519:1".parse().expect("a key ID");
    b.request_key(&name("a.lab"), &key_id)
        .await
        .expect("a.lab's key");
    assert_eq!(b.key_ring().fetch_count(), 1);
    b.request_key(&name("a.lab"), &key_id)
        .await
        .expect("cached");
    assert_eq!(b.key_ring().fetch_count(), 1, "a valid document is cached");

    // Two days later a.lab's document (valid for a day) has expired.
    clock.0.store(
        now + 2 * 24 * 3600 * 1000,
        std::sync::atomic::Ordering::SeqCst,
    );
    let refetched = b.request_key(&name("a.lab"), &key_id).await;
    assert_eq!(
        b.key_ring().fetch_count(),
        2,
        "fetched again within the minute"
    );
    // a.lab signs its document with its own (real) clock, so the new copy
    // is already expired by b's clock: refused, but it was asked.
    assert!(refetched.is_err(), "{refetched:?}");
}

/// A server that answers every connection with `response` (raw HTTP) and
/// counts the requests it got. Plain threads and std sockets: all it
/// needs is to write bytes, including more than a client should read.
async fn raw_server(response: Vec<u8>) -> (String, Arc<AtomicU64>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("an address");
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            std::thread::spawn(move || {
                let mut buffer = vec![0; 8192];
                let _ = socket.read(&mut buffer);
                let _ = socket.write_all(&response);
                let _ = socket.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (format!("http://{address}"), hits)
}

fn too_large(result: Result<Value, FederationError>) {
    match result {
        Err(FederationError::BadResponse { reason, .. }) => assert!(
            reason.contains(&format!("answer larger than {MAX_ANSWER_BYTES} bytes")),
            "{reason}"
        ),
        other => panic!("expected a BadResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_refused() {
    // Announced in Content-Length: refused before reading the body.
    let huge = MAX_ANSWER_BYTES + 1;
    let mut announced = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {huge}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    announced.extend(std::iter::repeat_n(b' ', huge));
    // Not announced (chunked): refused once the chunks pass the limit.
    let mut chunked = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..(huge / chunk.len() + 2) {
        chunked.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        chunked.extend(&chunk);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");

    for response in [announced, chunked] {
        let (url, _) = raw_server(response).await;
        let client = FederationClient::new(key_of("b.lab"), directory(&[("evil.lab", url)]));
        too_large(
            client
                .get_unsigned(&name("evil.lab"), "/_matrix/key/v2/server")
                .await,
        );
        too_large(
            client
                .get_json(&name("evil.lab"), "/_matrix/federation/v1/query/profile")
                .await,
        );
    }

    // A small answer is read as before.
    let body = r#"{"ok":true}"#;
    let small = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let (url, _) = raw_server(small.into_bytes()).await;
    let client = FederationClient::new(key_of("b.lab"), directory(&[("evil.lab", url)]));
    let answer = client
        .get_json(&name("evil.lab"), "/_matrix/federation/v1/query/profile")
        .await
        .expect("a small answer");
    assert_eq!(answer, json!({"ok": true}));
}

#[tokio::test]
async fn requests_with_random_key_ids_do_not_make_us_hammer_a_peer() {
    // c.lab is a third party in b.lab's directory; we count its hits.
    let body = json!({"server_name": "c.lab"}).to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let (c_url, c_hits) = raw_server(response.into_bytes()).await;
    let b = TestServer::start_with("b.lab", |config| {
        config.peers = BTreeMap::from([(
            name("c.lab"),
            c_url.trim_start_matches("http://").to_owned(),
        )]);
    })
    .await;

    // Anyone can claim to be c.lab with a made-up key.
    let path = "/_matrix/federation/v1/query/profile?user_id=%40bob%3Ab.lab";
    for i in 0..10 {
        let claimed = SigningKey::from_seed(
            name("c.lab"),
            format!("ed25519:random{i}").parse().expect("a key ID"),
            [9; 32],
        );
        let header = sign_request(&claimed, "GET", path, &name("b.lab"), None)
            .expect("signed")
            .to_string();
        let status = b
            .client
            .get(format!("{}{path}", b.base_url))
            .header(reqwest::header::AUTHORIZATION, header)
            .send()
            .await
            .expect("b.lab answers")
            .status();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        c_hits.load(Ordering::SeqCst),
        1,
        "ten requests, one fetch of c.lab's keys"
    );
}

/// A server that accepts connections and never answers.
fn silent_server() -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buffer = vec![0; 65536];
                while matches!(socket.read(&mut buffer), Ok(n) if n > 0) {}
            });
        }
    });
    address.to_string()
}

#[tokio::test]
async fn a_silent_invitee_server_neither_blocks_our_writes_nor_hangs_the_invite() {
    let silent = silent_server();
    let a = std::sync::Arc::new(
        TestServer::start_with("a.lab", |config| {
            config.peers = BTreeMap::from([(name("slow.lab"), silent)]);
        })
        .await,
    );
    let (_, token) = a.register("alice", "correct horse").await;
    let (status, created) = a
        .post("/_matrix/client/v3/createRoom", Some(&token), json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{created}");
    let room = created["room_id"].as_str().expect("a room ID").to_owned();
    let encoded = room.replace('!', "%21").replace(':', "%3A");

    let started = std::time::Instant::now();
    let invite = {
        let (a, token, encoded) = (a.clone(), token.clone(), encoded.clone());
        tokio::spawn(async move {
            a.post(
                &format!("/_matrix/client/v3/rooms/{encoded}/invite"),
                Some(&token),
                json!({"user_id": "@bob:slow.lab"}),
            )
            .await
        })
    };
    // While the invite waits for slow.lab, alice can still write.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, sent) = a
        .put(
            &format!("/_matrix/client/v3/rooms/{encoded}/send/m.room.message/t1"),
            Some(&token),
            json!({"msgtype": "m.text", "body": "still here"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{sent}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the write waited for the invite: {:?}",
        started.elapsed()
    );

    // The invite gives up after its own timeout, well before the HTTP
    // client's 30 s.
    let (status, body) = invite.await.expect("the invite task");
    assert_ne!(status, reqwest::StatusCode::OK, "{body}");
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(20),
        "the invite took {elapsed:?}"
    );
}
