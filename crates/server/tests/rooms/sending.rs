//! Sending: state events and their power levels, transaction IDs that make
//! retries safe, and content that must round-trip exactly (or be refused).

use super::{SERVER, alice_and_bob};
use crate::common::TestServer;
use crate::matrix_client::{self, User};
use lostfound_store::Store;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn state_events_are_set_read_and_guarded_by_power_levels() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice.create_room(json!({"preset": "public_chat"})).await;
    bob.membership(&room, "join", json!({})).await;
    let topic = format!("/_matrix/client/v3/rooms/{room}/state/m.room.topic");
    let (status, answer) = alice.put(&topic, json!({"topic": "gardening"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        bob.get(&format!("{topic}/")).await,
        (StatusCode::OK, json!({"topic": "gardening"}))
    );
    let (status, answer) = bob
        .get(&format!(
            "/_matrix/client/v3/rooms/{room}/state/m.room.avatar/"
        ))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::NOT_FOUND, &json!("M_NOT_FOUND"))
    );
    // bob has power level 0; state needs 50 (rule 7).
    let (status, answer) = bob.put(&topic, json!({"topic": "bob was here"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        answer["error"]
            .as_str()
            .expect("a reason")
            .contains("auth rule 7"),
        "{answer}"
    );
    // A state key that is a user ID belongs to that user (rule 8).
    let others = format!(
        "/_matrix/client/v3/rooms/{room}/state/org.example.status/{}",
        bob.user_id
    );
    let (status, answer) = alice.put(&others, json!({"mood": "sunny"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        answer["error"]
            .as_str()
            .expect("a reason")
            .contains("auth rule 8"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_transaction_replayed_returns_the_same_event_and_creates_no_other() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let room = alice.create_room(json!({})).await;
    let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/retry-me");
    let content = json!({"msgtype": "m.text", "body": "only once"});
    let (status, first) = alice.put(&path, content.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = alice.put(&path, content).await;
    assert_eq!((status, &second), (StatusCode::OK, &first));
    let page = alice.messages(&room, "dir=b&limit=50").await;
    assert_eq!(matrix_client::bodies(&page["chunk"]), ["only once"]);
}

/// A retry is the same txnId on the same path: reusing a txnId in another
/// room, or for another event type, is a new message, not a lost one.
#[tokio::test]
async fn a_transaction_id_is_scoped_to_its_room_and_event_type() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let first_room = alice.create_room(json!({})).await;
    let second_room = alice.create_room(json!({})).await;
    let content = |body: &str| json!({"msgtype": "m.text", "body": body});
    let send = |room: &str, event_type: &str| {
        format!("/_matrix/client/v3/rooms/{room}/send/{event_type}/t1")
    };
    let (_, in_first) = alice
        .put(&send(&first_room, "m.room.message"), content("first room"))
        .await;
    let (_, in_second) = alice
        .put(
            &send(&second_room, "m.room.message"),
            content("second room"),
        )
        .await;
    let (_, other_type) = alice
        .put(&send(&first_room, "org.example.note"), content("a note"))
        .await;
    assert_ne!(in_first["event_id"], in_second["event_id"]);
    assert_ne!(in_first["event_id"], other_type["event_id"]);
    let page = alice.messages(&second_room, "dir=b&limit=50").await;
    assert_eq!(matrix_client::bodies(&page["chunk"]), ["second room"]);
}

/// The spec caps `type` and `state_key` at 255 bytes; peers would refuse
/// longer ones, so we refuse to create them.
#[tokio::test]
async fn overlong_event_types_and_state_keys_are_refused() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let room = alice.create_room(json!({})).await;
    let long = "x".repeat(256);
    let (status, answer) = alice
        .put(
            &format!("/_matrix/client/v3/rooms/{room}/send/{long}/t1"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_BAD_JSON")),
        "{answer}"
    );
    let (status, answer) = alice
        .put(
            &format!("/_matrix/client/v3/rooms/{room}/state/m.room.topic/{long}"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_BAD_JSON")),
        "{answer}"
    );
}

#[tokio::test]
async fn content_round_trips_unicode_and_refuses_floats_and_giants() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let room = alice.create_room(json!({})).await;
    let body = "Zürich — 日本語 — 🍄 — \u{7} — \"quoted\" \\ back";
    let event_id = alice.send_text(&room, body).await;
    let (status, event) = alice
        .get(&format!("/_matrix/client/v3/rooms/{room}/event/{event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["content"]["body"], body);
    assert_eq!(event["event_id"], event_id);

    let (status, answer) = alice
        .try_send(&room, json!({"body": "two and a half", "value": 2.5}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_BAD_JSON"))
    );
    let (status, answer) = alice
        .try_send(&room, json!({"body": "x".repeat(70_000)}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::PAYLOAD_TOO_LARGE, &json!("M_TOO_LARGE"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_keep_one_linear_history() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let sends: Vec<_> = (0..20)
        .map(|n| {
            let (alice, room) = (alice.clone(), room.clone());
            tokio::spawn(async move { alice.send_text(&room, &format!("burst {n}")).await })
        })
        .collect();
    for send in sends {
        send.await.expect("the send task ends");
    }

    // Each event must follow exactly the one persisted before it: the
    // write lock kept twenty racing requests from forking the room.
    let dir = server.data_dir().to_path_buf();
    let _keep_dir = server.stop().await;
    let store = lostfound_store::SqliteStore::open(&dir).expect("the store opens");
    let room_id = room.parse().expect("a room ID");
    let events = store
        .room_events_after(&room_id, 0, i64::MAX, 1000)
        .expect("readable");
    assert_eq!(events.len(), 6 + 20);
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].event.prev_events(),
            [pair[0].event.event_id().clone()]
        );
        assert_eq!(pair[1].event.depth(), pair[0].event.depth() + 1);
    }
    assert_eq!(
        store.forward_extremities(&room_id).expect("readable").len(),
        1
    );
}
