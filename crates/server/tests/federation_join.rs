//! Joining rooms over federation, between real homeservers on 127.0.0.1:
//! `make_join` / `send_join`, asked for by a client of the joining server.
//!
//! What these tests teach: a server that holds nothing of a room learns
//! its present state, complete and provable, from one resident server's
//! answer to `send_join`. That is how, in 2021, users of a server restored
//! from an old backup got back into the public rooms their server had
//! forgotten.

mod common;
mod matrix_client;
#[path = "federation_join/support.rs"]
mod support;

use common::TestServer;
use lostfound_server::federation::FederationError;
use matrix_client::User;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    eventually, invite_state, joined_members, membership_of, message_bodies, name, set, signing_as,
};

#[tokio::test]
async fn bob_joins_a_public_room_of_another_server_and_learns_its_state() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let (a, b) = (&servers[0], &servers[1]);
    let alice = User::register(a, "alice").await;
    let bob = User::register(b, "bob").await;
    let room_id = alice
        .create_room(json!({"preset": "public_chat", "name": "Lobby"}))
        .await;
    alice.send_text(&room_id, "before bob").await;

    // b.lab holds nothing of the room: it asks a.lab (make_join), signs the
    // join, and sends it back (send_join).
    let (status, answer) = bob
        .post(
            &format!("/_matrix/client/v3/join/{room_id}?server_name=a.lab"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["room_id"], json!(room_id));

    // b.lab now has the room's present state, from send_join's answer...
    let both = set(&["@alice:a.lab", "@bob:b.lab"]);
    assert_eq!(joined_members(&bob, &room_id).await, both);
    let (status, room_name) = bob
        .get(&format!(
            "/_matrix/client/v3/rooms/{room_id}/state/m.room.name"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{room_name}");
    assert_eq!(room_name["name"], "Lobby");
    // ...and a.lab accepted bob's join into its copy of the room.
    assert_eq!(joined_members(&alice, &room_id).await, both);

    // Joining again changes nothing: b.lab is now resident.
    let (status, answer) = bob.membership(&room_id, "join", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // Bob's message leaves b.lab (its federation sender) and reaches a.lab.
    bob.send_text(&room_id, "hello from b.lab").await;
    eventually("bob's message reaches a.lab", || async {
        message_bodies(&alice, &room_id)
            .await
            .contains(&"hello from b.lab".to_owned())
    })
    .await;
}

#[tokio::test]
async fn joining_an_invite_only_room_uninvited_is_refused_by_rule_4_3_7() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let (a, b) = (&servers[0], &servers[1]);
    let alice = User::register(a, "alice").await;
    let bob = User::register(b, "bob").await;
    let room_id = alice.create_room(json!({"preset": "private_chat"})).await;

    // a.lab runs the auth rules on the would-be join before proposing it:
    // the refusal names the rule, and b.lab passes it on to its client.
    let (status, answer) = bob
        .post(
            &format!("/_matrix/client/v3/join/{room_id}?server_name=a.lab"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let error = answer["error"].as_str().expect("an error message");
    assert!(error.contains("4.3.7"), "{error}");
    assert_eq!(
        joined_members(&alice, &room_id).await,
        set(&["@alice:a.lab"])
    );
}

#[tokio::test]
async fn make_join_is_refused_for_other_servers_users_and_unfederated_rooms() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let alice = User::register(&servers[0], "alice").await;
    let public = alice.create_room(json!({"preset": "public_chat"})).await;
    let unfederated = alice
        .create_room(json!({"preset": "public_chat", "creation_content": {"m.federate": false}}))
        .await;
    let as_b = signing_as("b.lab", &servers);
    let make_join = |room_id: &str, user_id: &str| {
        format!(
            "/_matrix/federation/v1/make_join/{}/{}?ver=10",
            lostfound_server::federation::encode(room_id),
            lostfound_server::federation::encode(user_id)
        )
    };
    let status_of = |result: Result<Value, FederationError>| match result {
        Ok(answer) => panic!("expected a refusal, got {answer}"),
        Err(FederationError::Refused {
            status, errcode, ..
        }) => (status, errcode),
        Err(other) => panic!("expected a refusal, got {other}"),
    };
    let a = name("a.lab");

    // A template for b.lab's own user: fine.
    let answer = as_b
        .get_json(&a, &make_join(&public, "@bob:b.lab"))
        .await
        .expect("a template");
    assert_eq!(answer["room_version"], "10");
    assert_eq!(answer["event"]["content"]["membership"], "join");
    assert_eq!(answer["event"]["state_key"], "@bob:b.lab");

    // b.lab may not make events for c.lab's users.
    let refused = as_b.get_json(&a, &make_join(&public, "@carol:c.lab")).await;
    assert_eq!(status_of(refused), (403, "M_FORBIDDEN".to_owned()));

    // An unfederated room never lets another server in.
    let refused = as_b
        .get_json(&a, &make_join(&unfederated, "@bob:b.lab"))
        .await;
    assert_eq!(status_of(refused), (403, "M_FORBIDDEN".to_owned()));

    // A joiner that does not speak version 10 could check nothing.
    let path = make_join(&public, "@bob:b.lab").replace("ver=10", "ver=9");
    let refused = as_b.get_json(&a, &path).await;
    assert_eq!(
        status_of(refused),
        (400, "M_INCOMPATIBLE_ROOM_VERSION".to_owned())
    );
}

#[tokio::test]
async fn an_invite_crosses_servers_with_stripped_state_and_the_invitee_joins() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab", "c.lab"]).await;
    let alice = User::register(&servers[0], "alice").await;
    let bob = User::register(&servers[1], "bob").await;
    let carol = User::register(&servers[2], "carol").await;
    let room_id = alice
        .create_room(json!({"preset": "private_chat", "name": "Secret plans"}))
        .await;

    // Bob is invited, then joins with no server named: b.lab asks the
    // inviter's server.
    for (user, invitee) in [(&bob, "@bob:b.lab"), (&carol, "@carol:c.lab")] {
        let (status, answer) = alice
            .membership(&room_id, "invite", json!({"user_id": invitee}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // c.lab and b.lab have never seen the room; the invite brought its
        // name along, as stripped state.
        let stripped = invite_state(user, &room_id).await;
        let name = stripped
            .iter()
            .find(|event| event["type"] == "m.room.name")
            .unwrap_or_else(|| panic!("the room name in {stripped:?}"));
        assert_eq!(name["content"]["name"], "Secret plans");
        assert!(
            stripped
                .iter()
                .all(|event| event.get("signatures").is_none())
        );
    }
    let (status, answer) = bob.membership(&room_id, "join", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = carol
        .post(&format!("/_matrix/client/v3/join/{room_id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // The invite was what allowed the join (the room is invite-only), and
    // every server agrees on who is in the room: a.lab passed carol's join
    // on to b.lab.
    let everyone = set(&["@alice:a.lab", "@bob:b.lab", "@carol:c.lab"]);
    assert_eq!(joined_members(&alice, &room_id).await, everyone);
    assert_eq!(joined_members(&carol, &room_id).await, everyone);
    eventually("b.lab learns that carol joined", || async {
        joined_members(&bob, &room_id).await == everyone
    })
    .await;
    let sync = carol.sync("timeout=0").await;
    assert!(sync["rooms"]["join"].get(&room_id).is_some(), "{sync}");
    assert!(sync["rooms"]["invite"].get(&room_id).is_none(), "{sync}");

    // Messages flow both ways once carol is in.
    alice.send_text(&room_id, "welcome, carol").await;
    eventually("alice's message reaches c.lab", || async {
        message_bodies(&carol, &room_id)
            .await
            .contains(&"welcome, carol".to_owned())
    })
    .await;
}

#[tokio::test]
async fn declining_a_remote_invite_and_leaving_a_joined_room_reach_the_resident_server() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let alice = User::register(&servers[0], "alice").await;
    let bob = User::register(&servers[1], "bob").await;
    let room_id = alice.create_room(json!({"preset": "private_chat"})).await;

    // b.lab is not in the room: declining goes through make_leave /
    // send_leave on the inviter's server.
    let (status, answer) = alice
        .membership(&room_id, "invite", json!({"user_id": "@bob:b.lab"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = bob.membership(&room_id, "leave", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        membership_of(&alice, &room_id, "@bob:b.lab")
            .await
            .as_deref(),
        Some("leave")
    );
    assert!(invite_state(&bob, &room_id).await.is_empty());

    // Invited again, bob joins; then leaves as a resident: an ordinary
    // local event, delivered by b.lab's federation sender.
    let (status, answer) = alice
        .membership(&room_id, "invite", json!({"user_id": "@bob:b.lab"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = bob.membership(&room_id, "join", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        joined_members(&alice, &room_id).await,
        set(&["@alice:a.lab", "@bob:b.lab"])
    );
    let (status, answer) = bob.membership(&room_id, "leave", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    eventually("a.lab learns that bob left", || async {
        joined_members(&alice, &room_id).await == set(&["@alice:a.lab"])
    })
    .await;
}

#[tokio::test]
async fn a_server_whose_last_user_left_rejoins_through_a_resident_server() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let alice = User::register(&servers[0], "alice").await;
    let bob = User::register(&servers[1], "bob").await;
    let room_id = alice.create_room(json!({"preset": "public_chat"})).await;
    let join_path = format!("/_matrix/client/v3/join/{room_id}?server_name=a.lab");
    let (status, answer) = bob.post(&join_path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = bob.membership(&room_id, "leave", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    eventually("a.lab learns that bob left", || async {
        joined_members(&alice, &room_id).await == set(&["@alice:a.lab"])
    })
    .await;

    // While b.lab had nobody in the room, it missed what happened there.
    let topic = json!({"topic": "changed while b.lab was away"});
    let (status, answer) = alice
        .put(
            &format!("/_matrix/client/v3/rooms/{room_id}/state/m.room.topic"),
            topic.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // Its stale copy is not trusted: the join goes through a.lab, whose
    // send_join answer brings the present state, topic included.
    let (status, answer) = bob.post(&join_path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, content) = bob
        .get(&format!(
            "/_matrix/client/v3/rooms/{room_id}/state/m.room.topic"
        ))
        .await;
    assert_eq!((status, content), (StatusCode::OK, topic));
    let both = set(&["@alice:a.lab", "@bob:b.lab"]);
    assert_eq!(joined_members(&alice, &room_id).await, both);
    assert_eq!(joined_members(&bob, &room_id).await, both);
}

/// A server whose users have all left no longer follows the room: its
/// extremities and state are frozen at its last user's departure. It must
/// not propose a join template built on them (the joiner would land on a
/// stale branch); like Synapse it answers 404 `M_NOT_FOUND`, and the
/// joiner asks a server still in the room.
#[tokio::test]
async fn make_join_is_refused_by_a_server_with_no_joined_user() {
    let servers = TestServer::start_federation(&["a.lab", "b.lab"]).await;
    let alice = User::register(&servers[0], "alice").await;
    let bob = User::register(&servers[1], "bob").await;
    let room_id = alice.create_room(json!({"preset": "public_chat"})).await;
    let join_path = format!("/_matrix/client/v3/join/{room_id}?server_name=a.lab");
    let (status, answer) = bob.post(&join_path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let make_join = |user_id: &str| {
        format!(
            "/_matrix/federation/v1/make_join/{}/{}?ver=10",
            lostfound_server::federation::encode(&room_id),
            lostfound_server::federation::encode(user_id)
        )
    };
    let as_b = signing_as("b.lab", &servers);
    let (a, b) = (name("a.lab"), name("b.lab"));
    as_b.get_json(&a, &make_join("@bobby:b.lab"))
        .await
        .expect("a template while alice is joined");

    let (status, answer) = alice.membership(&room_id, "leave", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    match as_b.get_json(&a, &make_join("@bobby:b.lab")).await {
        Err(FederationError::Refused {
            status, errcode, ..
        }) => assert_eq!((status, errcode.as_str()), (404, "M_NOT_FOUND")),
        other => panic!("expected a 404 refusal, got {other:?}"),
    }
    // b.lab, where Bob is still joined, goes on proposing templates.
    let as_a = signing_as("a.lab", &servers);
    eventually("b.lab learns that alice left", || async {
        joined_members(&bob, &room_id).await == set(&["@bob:b.lab"])
    })
    .await;
    let answer = as_a
        .get_json(&b, &make_join("@alice:a.lab"))
        .await
        .expect("a template from the server still in the room");
    assert_eq!(answer["event"]["content"]["membership"], "join");
}
