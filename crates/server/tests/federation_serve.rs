//! What a server answers its peers, over real HTTP with real signatures.
//!
//! Server `a.lab` holds a room with 30 messages; server `b.lab` asks for
//! them the way a restored server would, signing every request with its
//! key (which `a.lab` fetches from `b.lab` to check it). Every PDU that
//! comes back is checked the way a receiver must: its event ID is
//! recomputed from its JSON, never taken on trust.

mod common;
mod matrix_client;
// The crate root of a test lives in tests/, so its submodules need a path.
#[path = "federation_serve/pair.rs"]
mod pair;

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_server::federation::FederationError;
use matrix_client::Redactor;
use pair::{Pair, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The event IDs of the PDUs in `answer[key]`, recomputed from their JSON.
fn recomputed_ids(answer: &Value, key: &str) -> Vec<EventId> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is an array: {answer}"))
        .iter()
        .map(|pdu| {
            assert!(pdu.get("event_id").is_none(), "v10 PDUs carry no event_id");
            Pdu::from_json(pdu.clone())
                .expect("a valid PDU")
                .event_id()
                .clone()
        })
        .collect()
}

/// `answer` with what changes from run to run replaced by placeholders:
/// IDs (numbered in order of appearance), timestamps, hashes, signatures.
fn redact_ids(answer: Value) -> Value {
    fn hide_crypto(value: &mut Value) {
        match value {
            Value::Object(object) => {
                for (key, value) in object.iter_mut() {
                    match key.as_str() {
                        "hashes" => *value = json!({"sha256": "<hash>"}),
                        "signatures" => *value = json!({"a.lab": {"ed25519:1": "<signature>"}}),
                        _ => hide_crypto(value),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(hide_crypto),
            _ => {}
        }
    }
    let mut redacted = Redactor::default().redact(&answer);
    hide_crypto(&mut redacted);
    redacted
}

fn strings(value: &Value) -> BTreeSet<String> {
    let array = value.as_array().expect("an array");
    array
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn id_of(text: &str) -> EventId {
    text.parse().expect("an event ID")
}

#[tokio::test]
async fn backfill_walks_back_from_the_given_events() {
    let pair = Pair::start().await;
    let room = pair.room_with_messages(30).await;
    let newest = room.messages.last().expect("30 messages");
    let path = format!(
        "/_matrix/federation/v1/backfill/{}?v={}&limit=10",
        encode(&room.room_id),
        encode(newest)
    );
    let answer = pair.b_asks_a("GET", &path, None).await.expect("backfill");
    assert_eq!(answer["origin"], "a.lab");
    assert!(answer["origin_server_ts"].is_u64());
    // The given event, then the nine before it, newest first.
    let expected: Vec<EventId> = room.messages[20..]
        .iter()
        .rev()
        .map(|id| id_of(id))
        .collect();
    assert_eq!(recomputed_ids(&answer, "pdus"), expected);
}

#[tokio::test]
async fn backfill_takes_several_starting_events_repeated_or_comma_separated() {
    let pair = Pair::start().await;
    let room = pair.room_with_messages(5).await;
    let room_path = format!("/_matrix/federation/v1/backfill/{}", encode(&room.room_id));
    let (m4, m5) = (encode(&room.messages[3]), encode(&room.messages[4]));
    let expected: Vec<EventId> = room.messages[2..]
        .iter()
        .rev()
        .map(|id| id_of(id))
        .collect();
    // Synapse repeats `v`; the spec's `explode: false` joins with commas.
    for query in [
        format!("v={m4}&v={m5}&limit=3"),
        format!("v={m4},{m5}&limit=3"),
    ] {
        let path = format!("{room_path}?{query}");
        let answer = pair.b_asks_a("GET", &path, None).await.expect("backfill");
        assert_eq!(recomputed_ids(&answer, "pdus"), expected, "{query}");
    }

    let missing_limit = pair
        .b_asks_a("GET", &format!("{room_path}?v={m5}"), None)
        .await;
    assert_eq!(refusal(missing_limit), (400, "M_MISSING_PARAM".into()));
    let bad_event_id = format!("{room_path}?v=not-an-event-id&limit=3");
    let bad_event_id = pair.b_asks_a("GET", &bad_event_id, None).await;
    assert_eq!(refusal(bad_event_id), (400, "M_INVALID_PARAM".into()));
}

#[tokio::test]
async fn get_missing_events_fills_a_gap_oldest_first() {
    let pair = Pair::start().await;
    let room = pair.room_with_messages(30).await;
    let path = format!(
        "/_matrix/federation/v1/get_missing_events/{}",
        encode(&room.room_id)
    );
    // b.lab holds message 10 and just received message 30.
    let body = json!({
        "earliest_events": [room.messages[9]],
        "latest_events": [room.messages[29]],
        "limit": 5,
    });
    let answer = pair
        .b_asks_a("POST", &path, Some(body))
        .await
        .expect("events");
    // The five next to message 30 (25 to 29), oldest first.
    let expected: Vec<EventId> = room.messages[24..29].iter().map(|id| id_of(id)).collect();
    assert_eq!(recomputed_ids(&answer, "events"), expected);
}

#[tokio::test]
async fn one_event_and_the_state_before_it() {
    let pair = Pair::start().await;
    let room = pair.room_with_messages(3).await;
    let message = &room.messages[1];

    let path = format!("/_matrix/federation/v1/event/{}", encode(message));
    let answer = pair.b_asks_a("GET", &path, None).await.expect("event");
    assert_eq!(recomputed_ids(&answer, "pdus"), [id_of(message)]);
    insta::assert_json_snapshot!("event", redact_ids(answer));

    // The state before a message is the room's state (messages change no
    // state); its auth chain is what authorised that state.
    let path = format!(
        "/_matrix/federation/v1/state_ids/{}?event_id={}",
        encode(&room.room_id),
        encode(message)
    );
    let answer = pair.b_asks_a("GET", &path, None).await.expect("state_ids");
    assert_eq!(strings(&answer["pdu_ids"]), pair.a_state_ids(&room).await);
    assert!(!strings(&answer["auth_chain_ids"]).is_empty());
    // Read the snapshot with the room's history in mind: create ($event1),
    // Alice's join ($event2), power levels ($event3), join rules
    // ($event4), history visibility, Bob's invite. The auth chain holds the
    // four that authorise others; nothing names the history visibility or
    // Bob's invite in its `auth_events`.
    insta::assert_json_snapshot!("state_ids", redact_ids(answer.clone()));

    // `state` and `event_auth` answer with the events themselves.
    let path = format!(
        "/_matrix/federation/v1/state/{}?event_id={}",
        encode(&room.room_id),
        encode(message)
    );
    let full = pair.b_asks_a("GET", &path, None).await.expect("state");
    let ids = |key: &str| -> BTreeSet<String> {
        recomputed_ids(&full, key)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(ids("pdus"), strings(&answer["pdu_ids"]));
    assert_eq!(ids("auth_chain"), strings(&answer["auth_chain_ids"]));
    let path = format!(
        "/_matrix/federation/v1/event_auth/{}/{}",
        encode(&room.room_id),
        encode(message)
    );
    let chain = pair.b_asks_a("GET", &path, None).await.expect("event_auth");
    assert!(!recomputed_ids(&chain, "auth_chain").is_empty());
}

/// The status and errcode of a refusal.
fn refusal(result: Result<Value, FederationError>) -> (u16, String) {
    match result {
        Err(FederationError::Refused {
            status, errcode, ..
        }) => (status, errcode),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn peers_without_a_member_and_unfederated_rooms_are_refused() {
    let pair = Pair::start().await;
    let room = pair.room_with_messages(1).await;
    let backfill = |room_id: &str, event_id: &str| {
        format!(
            "/_matrix/federation/v1/backfill/{}?v={}&limit=5",
            encode(room_id),
            encode(event_id)
        )
    };

    // A room b.lab has no user in: nothing leaves it.
    let private = pair
        .create_room(json!({"preset": "private_chat"}), false)
        .await;
    let path = backfill(&private.room_id, &private.messages[0]);
    let refused = pair.b_asks_a("GET", &path, None).await;
    assert_eq!(refusal(refused), (403, "M_FORBIDDEN".into()));

    // An unfederated room, even with b.lab's user invited: never.
    let unfederated = pair
        .create_room(json!({"creation_content": {"m.federate": false}}), true)
        .await;
    let path = backfill(&unfederated.room_id, &unfederated.messages[0]);
    let refused = pair.b_asks_a("GET", &path, None).await;
    assert_eq!(refusal(refused), (403, "M_FORBIDDEN".into()));
    let path = format!(
        "/_matrix/federation/v1/event/{}",
        encode(&unfederated.messages[0])
    );
    let refused = pair.b_asks_a("GET", &path, None).await;
    assert_eq!(refusal(refused), (403, "M_FORBIDDEN".into()));

    // An event a.lab does not hold.
    let path = format!("/_matrix/federation/v1/event/{}", encode("$nothing"));
    assert_eq!(
        refusal(pair.b_asks_a("GET", &path, None).await),
        (404, "M_NOT_FOUND".into())
    );

    // And an unsigned request is not even considered.
    let path = backfill(&room.room_id, &room.messages[0]);
    let (status, body) = pair.a_unsigned(&path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errcode"], "M_UNAUTHORIZED");
}
