//! `/sync` over real HTTP: first and incremental syncs, `limited`
//! timelines, invites and leaves, filters, and long-polling that wakes up
//! the moment another user speaks.

mod common;
mod matrix_client;

use common::TestServer;
use matrix_client::{Redactor, User, bodies, types};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SERVER: &str = "hypha.lab";

/// An inline filter asking for up to `limit` timeline events per room.
fn limit(limit: usize) -> String {
    format!("filter=%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A{limit}%7D%7D%7D")
}

fn next_batch(sync: &Value) -> String {
    sync["next_batch"].as_str().expect("next_batch").to_owned()
}

#[tokio::test]
async fn a_first_sync_shows_a_room_as_its_timeline_and_the_state_before_it() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice
        .create_room(json!({"preset": "private_chat", "name": "Mushrooms"}))
        .await;
    alice.send_text(&room, "the first one").await;
    // The newest three events: the guest access rule, the name, the message.
    let sync = alice.sync(&limit(3)).await;
    let joined = &sync["rooms"]["join"][&room];
    assert_eq!(joined["timeline"]["limited"], true);
    // The state section is the state *before* the timeline: together they
    // give the room as it is now.
    insta::assert_json_snapshot!(Redactor::default().redact(&sync));
}

#[tokio::test]
async fn fifty_messages_arrive_in_order() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let sent: Vec<String> = (0..50).map(|n| format!("message {n}")).collect();
    for body in &sent {
        alice.send_text(&room, body).await;
    }
    let sync = alice.sync(&limit(100)).await;
    let timeline = &sync["rooms"]["join"][&room]["timeline"];
    assert_eq!(bodies(&timeline["events"]), sent);
    assert_eq!(
        timeline["limited"], false,
        "the whole room fits in 100 events"
    );
    // Without a filter, the newest 20.
    let sync = alice.sync("").await;
    let timeline = &sync["rooms"]["join"][&room]["timeline"];
    assert_eq!(bodies(&timeline["events"]), sent[30..]);
    assert_eq!(timeline["limited"], true);
}

#[tokio::test]
async fn an_incremental_sync_returns_only_what_is_new() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let quiet = alice.create_room(json!({})).await;
    alice.send_text(&room, "old news").await;
    let since = next_batch(&alice.sync("").await);

    alice.send_text(&room, "news").await;
    let sync = alice.sync(&format!("since={since}")).await;
    let joined = &sync["rooms"]["join"];
    assert_eq!(bodies(&joined[&room]["timeline"]["events"]), ["news"]);
    assert_eq!(joined[&room]["timeline"]["limited"], false);
    assert_eq!(
        joined[&room]["state"]["events"],
        json!([]),
        "no state changed"
    );
    assert!(
        joined.get(&quiet).is_none(),
        "a room where nothing happened is left out"
    );

    // Nothing new at all: an empty answer with the same token.
    let again = alice.sync(&format!("since={}", next_batch(&sync))).await;
    assert_eq!(again["rooms"]["join"], json!({}));
    assert_eq!(next_batch(&again), next_batch(&sync));
}

/// A display name change is a join→join member event. It must reach the
/// client as one new event, not make the room look newly joined (which
/// would resend the timeline as `limited` and make clients drop theirs).
#[tokio::test]
async fn a_display_name_change_is_one_new_event_not_a_new_room() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    for n in 0..5 {
        alice.send_text(&room, &format!("before {n}")).await;
    }
    let since = next_batch(&alice.sync("").await);
    let member = format!(
        "/_matrix/client/v3/rooms/{room}/state/m.room.member/{}",
        alice.user_id
    );
    let (status, answer) = alice
        .put(&member, json!({"membership": "join", "displayname": "Ada"}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");

    let sync = alice.sync(&format!("since={since}")).await;
    let timeline = &sync["rooms"]["join"][&room]["timeline"];
    assert_eq!(types(&timeline["events"]), ["m.room.member"]);
    assert_eq!(timeline["limited"], false);
    assert_eq!(sync["rooms"]["join"][&room]["state"]["events"], json!([]));
}

#[tokio::test]
async fn a_limited_incremental_sync_carries_the_state_changes_of_the_gap() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let since = next_batch(&alice.sync("").await);
    let topic = format!("/_matrix/client/v3/rooms/{room}/state/m.room.topic");
    assert_eq!(
        alice.put(&topic, json!({"topic": "in the gap"})).await.0,
        StatusCode::OK
    );
    for n in 0..5 {
        alice.send_text(&room, &format!("after {n}")).await;
    }
    let sync = alice.sync(&format!("since={since}&{}", limit(2))).await;
    let joined = &sync["rooms"]["join"][&room];
    assert_eq!(
        bodies(&joined["timeline"]["events"]),
        ["after 3", "after 4"]
    );
    assert_eq!(joined["timeline"]["limited"], true);
    // The topic changed where the client cannot see: it comes as state.
    assert_eq!(types(&joined["state"]["events"]), ["m.room.topic"]);
    // full_state asks for all of it.
    let sync = alice
        .sync(&format!("since={since}&full_state=true&{}", limit(2)))
        .await;
    let state = types(&sync["rooms"]["join"][&room]["state"]["events"]);
    assert!(
        state.contains(&"m.room.create".to_owned()) && state.len() > 5,
        "{state:?}"
    );
}

#[tokio::test]
async fn a_long_poll_wakes_up_when_another_user_speaks() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let bob = User::register(&server, "bob").await;
    let room = alice.create_room(json!({"preset": "public_chat"})).await;
    bob.membership(&room, "join", json!({})).await;
    let since = next_batch(&alice.sync("").await);

    let speaker = bob.clone();
    let speaking_room = room.clone();
    let speak = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        speaker.send_text(&speaking_room, "psst").await
    });
    let started = Instant::now();
    let sync = alice.sync(&format!("since={since}&timeout=10000")).await;
    let waited = started.elapsed();
    assert_eq!(
        bodies(&sync["rooms"]["join"][&room]["timeline"]["events"]),
        ["psst"]
    );
    assert!(
        waited < Duration::from_secs(5),
        "woke up after {waited:?}, not at the timeout"
    );
    speak.await.expect("bob spoke");
}

#[tokio::test]
async fn a_long_poll_with_nothing_new_ends_at_its_timeout() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    alice.create_room(json!({})).await;
    let since = next_batch(&alice.sync("").await);
    let started = Instant::now();
    let sync = alice.sync(&format!("since={since}&timeout=300")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sync["rooms"]["join"], json!({}));
    assert_eq!(next_batch(&sync), since);
}

#[tokio::test]
async fn invites_arrive_with_stripped_state_and_leaves_are_reported() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let bob = User::register(&server, "bob").await;
    let since = next_batch(&bob.sync("").await);
    let room = alice
        .create_room(json!({"preset": "private_chat", "name": "Spores", "invite": [bob.user_id]}))
        .await;
    let sync = bob.sync(&format!("since={since}")).await;
    assert_eq!(sync["rooms"]["join"], json!({}));
    insta::assert_json_snapshot!(
        "invite",
        Redactor::default().redact(&sync["rooms"]["invite"])
    );

    bob.membership(&room, "join", json!({})).await;
    let sync = bob.sync(&format!("since={}", next_batch(&sync))).await;
    let joined = &sync["rooms"]["join"][&room];
    // A room joined since the token is new to the client, so it comes
    // whole: here the room is small enough that the timeline holds all of
    // it, from the create event on, and the state before that is empty.
    assert_eq!(
        types(&joined["timeline"]["events"])
            .first()
            .map(String::as_str),
        Some("m.room.create")
    );
    assert_eq!(joined["state"]["events"], json!([]));
    assert_eq!(sync["rooms"]["invite"], json!({}));

    alice.send_text(&room, "welcome").await;
    bob.membership(&room, "leave", json!({})).await;
    alice.send_text(&room, "bob left").await;
    let sync = bob.sync(&format!("since={}", next_batch(&sync))).await;
    let left = &sync["rooms"]["leave"][&room]["timeline"]["events"];
    assert_eq!(bodies(left), ["welcome"], "up to the leave, not after");
    assert_eq!(
        types(left).last().map(String::as_str),
        Some("m.room.member")
    );
    assert_eq!(sync["rooms"]["join"], json!({}));
}

#[tokio::test]
async fn filters_are_uploaded_read_back_and_applied() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let bob = User::register(&server, "bob").await;
    let room = alice.create_room(json!({})).await;
    let filter = json!({"room": {"timeline": {"limit": 1}, "state": {"lazy_load_members": true}}});
    let path = format!("/_matrix/client/v3/user/{}/filter", alice.user_id);
    let (status, created) = alice.post(&path, filter.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let filter_id = created["filter_id"].as_str().expect("filter_id");
    assert_eq!(
        alice.get(&format!("{path}/{filter_id}")).await,
        (StatusCode::OK, filter)
    );
    let sync = alice.sync(&format!("filter={filter_id}")).await;
    assert_eq!(
        types(&sync["rooms"]["join"][&room]["timeline"]["events"]).len(),
        1
    );
    // Filters are private to their user.
    assert_eq!(
        bob.get(&format!("{path}/{filter_id}")).await.0,
        StatusCode::FORBIDDEN
    );
    // An ID we never issued is ignored: the default limit applies.
    let sync = alice.sync("filter=42").await;
    assert!(types(&sync["rooms"]["join"][&room]["timeline"]["events"]).len() > 1);
}

#[tokio::test]
async fn a_token_that_is_not_ours_is_m_invalid_param() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let (status, answer) = alice.get("/_matrix/client/v3/sync?since=yesterday").await;
    assert_eq!(
        (status, &answer["errcode"]),
        (StatusCode::BAD_REQUEST, &json!("M_INVALID_PARAM"))
    );
}

#[tokio::test]
async fn a_token_from_beyond_the_stream_gets_a_first_sync() {
    // What clients of a server restored from an old backup hold: a token
    // for events the server no longer has.
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let sync = alice.sync("since=s1000000").await;
    let joined = &sync["rooms"]["join"][&room];
    assert!(types(&joined["timeline"]["events"]).contains(&"m.room.create".to_owned()));
    let position: u64 = next_batch(&sync)[1..].parse().expect("s<position>");
    assert!(
        position < 1_000_000,
        "next_batch is the server's own end of stream"
    );
}

/// Stopping the server answers pending long polls at once: a graceful
/// shutdown must not wait out every client's 30-second `/sync`.
#[tokio::test]
async fn shutdown_answers_pending_long_polls() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    alice.create_room(json!({})).await;
    let since = next_batch(&alice.sync("").await);
    let polling = tokio::spawn({
        let alice = alice.on(&server);
        async move { alice.sync(&format!("since={since}&timeout=30000")).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The guard is far below the poll's 30 s: only an immediate answer passes.
    let stopped = tokio::time::timeout(Duration::from_secs(20), server.stop()).await;
    assert!(stopped.is_ok(), "the server waited for the long poll");
    let answer = polling.await.expect("the poll finishes");
    assert_eq!(answer["rooms"]["join"], json!({}));
}
