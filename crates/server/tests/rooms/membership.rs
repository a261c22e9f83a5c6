//! Invite, join, leave, and what a stranger may not do: each refusal is the
//! auth rules' verdict, and the error says which rule.

use super::alice_and_bob;
use crate::matrix_client::User;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_invited_user_joins_and_an_uninvited_one_is_refused_by_rule_4_3_7() {
    let (server, alice, bob) = alice_and_bob().await;
    let carol = User::register(&server, "carol").await;
    let room = alice.create_room(json!({"preset": "private_chat"})).await;

    let (status, answer) = carol.membership(&room, "join", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["errcode"], "M_FORBIDDEN");
    let reason = answer["error"].as_str().expect("a reason");
    assert!(
        reason.contains("auth rule 4.3.7"),
        "the error names the rule: {reason}"
    );

    let (status, answer) = alice
        .membership(&room, "invite", json!({"user_id": bob.user_id}))
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));
    // No body at all is fine for join.
    let (status, answer) = bob
        .request(
            "POST",
            &format!("/_matrix/client/v3/rooms/{room}/join"),
            None,
        )
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"room_id": room})));
    let (_, members) = bob
        .get(&format!("/_matrix/client/v3/rooms/{room}/joined_members"))
        .await;
    let mut joined: Vec<&String> = members["joined"]
        .as_object()
        .expect("joined")
        .keys()
        .collect();
    joined.sort();
    assert_eq!(joined, [&alice.user_id, &bob.user_id]);
    let (_, rooms) = bob.get("/_matrix/client/v3/joined_rooms").await;
    assert_eq!(rooms, json!({"joined_rooms": [room]}));
}

#[tokio::test]
async fn anyone_joins_a_public_room_by_its_alias() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice
        .create_room(json!({"preset": "public_chat", "room_alias_name": "plaza"}))
        .await;
    let (status, answer) = bob
        .post(
            "/_matrix/client/v3/join/%23plaza:hypha.lab?server_name=hypha.lab",
            json!({}),
        )
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"room_id": room})));
    // The alias is taken now.
    let (status, answer) = bob
        .post(
            "/_matrix/client/v3/createRoom",
            json!({"room_alias_name": "plaza"}),
        )
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_ROOM_IN_USE"))
    );
}

#[tokio::test]
async fn a_member_leaves_and_may_no_longer_speak() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice.create_room(json!({"preset": "public_chat"})).await;
    bob.membership(&room, "join", json!({})).await;
    let (status, answer) = bob
        .membership(&room, "leave", json!({"reason": "bye"}))
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({})));
    let (status, answer) = bob
        .try_send(&room, json!({"msgtype": "m.text", "body": "still here?"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        answer["error"]
            .as_str()
            .expect("a reason")
            .contains("auth rule 5"),
        "{answer}"
    );
    // Leaving twice is refused too: only a member can leave (rule 4.5).
    let (status, _) = bob.membership(&room, "leave", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_and_remote_rooms_and_users() {
    let (_server, alice, _bob) = alice_and_bob().await;
    let (status, answer) = alice
        .try_send("!nowhere:hypha.lab", json!({"body": "hello?"}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::NOT_FOUND, &json!("M_NOT_FOUND"))
    );
    let (status, answer) = alice
        .post("/_matrix/client/v3/join/!elsewhere:tomesh.lab", json!({}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::NOT_FOUND, &json!("M_NOT_FOUND"))
    );
    assert!(
        answer["error"]
            .as_str()
            .expect("a reason")
            .contains("federation"),
        "{answer}"
    );
    let room = alice.create_room(json!({})).await;
    // The invite must reach tomesh.lab over federation, and this server
    // knows no address for it.
    let (status, answer) = alice
        .membership(&room, "invite", json!({"user_id": "@dan:tomesh.lab"}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::NOT_FOUND, &json!("M_NOT_FOUND"))
    );
    assert!(
        answer["error"]
            .as_str()
            .expect("a reason")
            .contains("federation"),
        "{answer}"
    );
    let (status, answer) = alice
        .membership(&room, "invite", json!({"user_id": "@nobody:hypha.lab"}))
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::NOT_FOUND, &json!("M_NOT_FOUND"))
    );
    let (status, answer) = alice
        .get("/_matrix/client/v3/rooms/not-a-room-id/state")
        .await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_INVALID_PARAM"))
    );
}

#[tokio::test]
async fn non_members_read_nothing() {
    let (_server, alice, bob) = alice_and_bob().await;
    let room = alice.create_room(json!({"preset": "private_chat"})).await;
    let event_id = alice.send_text(&room, "secret").await;
    for path in [
        format!("/_matrix/client/v3/rooms/{room}/state"),
        format!("/_matrix/client/v3/rooms/{room}/state/m.room.create/"),
        format!("/_matrix/client/v3/rooms/{room}/event/{event_id}"),
        format!("/_matrix/client/v3/rooms/{room}/messages?dir=b"),
        format!("/_matrix/client/v3/rooms/{room}/joined_members"),
    ] {
        let (status, answer) = bob.get(&path).await;
        assert_eq!(
            (status, &answer["errcode"]),
            (StatusCode::FORBIDDEN, &json!("M_FORBIDDEN")),
            "{path}"
        );
    }
}
