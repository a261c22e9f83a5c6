//! Rooms over real HTTP: creating them with each preset, membership, state,
//! sending, and the errors a client meets on the way. The state snapshots
//! show what a room *is* right after `createRoom`; review them like code.

mod common;
mod matrix_client;
// The crate root of a test lives in tests/, so its submodules need a path.
#[path = "rooms/membership.rs"]
mod membership;
#[path = "rooms/sending.rs"]
mod sending;

use common::TestServer;
use matrix_client::{Redactor, User, types};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SERVER: &str = "hypha.lab";

/// A server with alice and bob registered.
async fn alice_and_bob() -> (TestServer, User, User) {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let bob = User::register(&server, "bob").await;
    (server, alice, bob)
}

/// The room's whole state for a snapshot: each event's type, state key,
/// sender and content (the rest of the client format is in the sync
/// snapshots).
async fn state_snapshot(user: &User, room_id: &str) -> Value {
    let (status, state) = user
        .get(&format!("/_matrix/client/v3/rooms/{room_id}/state"))
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    let events = state.as_array().expect("a list of events").iter();
    let compact: Vec<Value> = events
        .map(|event| {
            json!({
                "type": event["type"], "state_key": event["state_key"],
                "sender": event["sender"], "content": event["content"],
            })
        })
        .collect();
    Redactor::default().redact(&Value::Array(compact))
}

/// The types of a room's events, oldest first (paging forwards from the start).
async fn event_types(user: &User, room_id: &str) -> Vec<String> {
    let page = user.messages(room_id, "dir=f&limit=100").await;
    types(&page["chunk"])
}

#[tokio::test]
async fn public_chat_is_public_and_has_its_alias() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let room = alice
        .create_room(json!({
            "preset": "public_chat", "room_alias_name": "lobby",
            "name": "The lobby", "topic": "Everyone welcome",
        }))
        .await;
    // The spec's order: create, the creator's join, power levels, alias,
    // the preset's rules, then name and topic.
    let expected = [
        "m.room.create",
        "m.room.member",
        "m.room.power_levels",
        "m.room.canonical_alias",
        "m.room.join_rules",
        "m.room.history_visibility",
        "m.room.name",
        "m.room.topic",
    ];
    assert_eq!(event_types(&alice, &room).await, expected);
    insta::assert_json_snapshot!(state_snapshot(&alice, &room).await);
}

#[tokio::test]
async fn private_chat_is_invite_only_and_invites() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice
        .create_room(json!({"preset": "private_chat", "invite": [bob.user_id]}))
        .await;
    let expected = [
        "m.room.create",
        "m.room.member",
        "m.room.power_levels",
        "m.room.join_rules",
        "m.room.history_visibility",
        "m.room.guest_access",
        "m.room.member",
    ];
    assert_eq!(event_types(&alice, &room).await, expected);
    insta::assert_json_snapshot!(state_snapshot(&alice, &room).await);
}

#[tokio::test]
async fn trusted_private_chat_makes_invitees_admins_of_a_direct_message() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice
        .create_room(
            json!({"preset": "trusted_private_chat", "is_direct": true, "invite": [bob.user_id]}),
        )
        .await;
    insta::assert_json_snapshot!(state_snapshot(&alice, &room).await);
}

#[tokio::test]
async fn visibility_chooses_the_default_preset() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let public = alice.create_room(json!({"visibility": "public"})).await;
    let private = alice.create_room(json!({})).await;
    let join_rule = |room: String| {
        let alice = alice.clone();
        async move {
            let path = format!("/_matrix/client/v3/rooms/{room}/state/m.room.join_rules/");
            alice.get(&path).await.1["join_rule"].clone()
        }
    };
    assert_eq!(join_rule(public).await, "public");
    assert_eq!(join_rule(private).await, "invite");
}

#[tokio::test]
async fn only_room_version_10_is_offered() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let (status, answer) = alice
        .post(
            "/_matrix/client/v3/createRoom",
            json!({"room_version": "9"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["errcode"], "M_UNSUPPORTED_ROOM_VERSION");
    let room = alice.create_room(json!({"room_version": "10"})).await;
    let (_, create) = alice
        .get(&format!(
            "/_matrix/client/v3/rooms/{room}/state/m.room.create/"
        ))
        .await;
    assert_eq!(create["room_version"], "10");
}

#[tokio::test]
async fn a_room_created_with_m_federate_false_is_recorded_as_unfederated() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let local = alice
        .create_room(json!({"creation_content": {"m.federate": false}}))
        .await;
    let federated = alice.create_room(json!({})).await;
    let (_, create) = alice
        .get(&format!(
            "/_matrix/client/v3/rooms/{local}/state/m.room.create/"
        ))
        .await;
    assert_eq!(create["m.federate"], false);

    // The room record says so too: after a disaster, such rooms have no
    // copy on any other server to heal from.
    let dir = server.data_dir().to_path_buf();
    let _temp = server.stop().await;
    let store = lostfound_store::SqliteStore::open(&dir).expect("the store opens");
    use lostfound_store::Store;
    let federate = |room: &str| {
        store
            .room(&room.parse().expect("a room ID"))
            .expect("readable")
            .expect("a room")
            .federate
    };
    assert!(!federate(&local));
    assert!(federate(&federated));
}

/// A createRoom refused half way (here by auth rule 7: the initial power
/// levels leave the creator unable to set state) does not burn its alias.
#[tokio::test]
async fn a_refused_create_room_leaves_its_alias_free() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let doomed = json!({
        "room_alias_name": "hypha",
        "initial_state": [{"type": "m.room.power_levels", "content": {"users": {}, "state_default": 100}}]
    });
    let (status, refused) = alice.post("/_matrix/client/v3/createRoom", doomed).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, created) = alice
        .post(
            "/_matrix/client/v3/createRoom",
            json!({"room_alias_name": "hypha"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the alias is still free: {created}");
}

/// Each invitee and each initial state event is an event written under the
/// server's write lock: one request may not carry thousands.
#[tokio::test]
async fn create_room_caps_invites_and_initial_state() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let invites: Vec<String> = (0..101).map(|n| format!("@user{n}:tomesh.lab")).collect();
    let (status, refused) = alice
        .post("/_matrix/client/v3/createRoom", json!({"invite": invites}))
        .await;
    assert_eq!(
        (status, &refused["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_INVALID_PARAM"))
    );
    let state: Vec<Value> = (0..101)
        .map(|n| json!({"type": "org.example.note", "state_key": format!("{n}"), "content": {}}))
        .collect();
    let (status, refused) = alice
        .post(
            "/_matrix/client/v3/createRoom",
            json!({"initial_state": state}),
        )
        .await;
    assert_eq!(
        (status, &refused["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_INVALID_PARAM"))
    );
}
