//! `/messages` over real HTTP: scrolling back from a `limited` sync's
//! `prev_batch` to the very first event, paging forwards, who may read,
//! and a restart that must lose nothing.

mod common;
mod matrix_client;

use common::TestServer;
use matrix_client::{User, bodies, types};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SERVER: &str = "hypha.lab";

/// Pages through `/messages` from `from` until `end` is absent; every
/// event seen, in the order the pages gave them.
async fn page_all(
    user: &User,
    room_id: &str,
    dir: &str,
    from: Option<&str>,
    limit: usize,
) -> Vec<Value> {
    let mut events = Vec::new();
    let mut from = from.map(str::to_owned);
    for _ in 0..100 {
        let token = from
            .as_deref()
            .map(|token| format!("&from={token}"))
            .unwrap_or_default();
        let page = user
            .messages(room_id, &format!("dir={dir}&limit={limit}{token}"))
            .await;
        let chunk = page["chunk"].as_array().expect("a chunk");
        assert!(chunk.len() <= limit, "a page holds at most `limit` events");
        events.extend(chunk.iter().cloned());
        match page["end"].as_str() {
            Some(end) => from = Some(end.to_owned()),
            None => return events,
        }
    }
    panic!("still paging after 100 pages");
}

#[tokio::test]
async fn prev_batch_pages_back_to_the_start_of_the_room() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({"preset": "private_chat"})).await;
    let sent: Vec<String> = (0..30).map(|n| format!("message {n}")).collect();
    for body in &sent {
        alice.send_text(&room, body).await;
    }
    let sync = alice.sync("").await;
    let timeline = &sync["rooms"]["join"][&room]["timeline"];
    assert_eq!(timeline["limited"], true);
    assert_eq!(bodies(&timeline["events"]), sent[10..], "the newest 20");
    let prev_batch = timeline["prev_batch"].as_str().expect("prev_batch");

    // Backwards from prev_batch: the older messages, newest first, then
    // the room's creation, and `end` absent at the very beginning.
    let older = Value::Array(page_all(&alice, &room, "b", Some(prev_batch), 7).await);
    let mut expected: Vec<String> = sent[..10].to_vec();
    expected.reverse();
    assert_eq!(bodies(&older), expected);
    assert_eq!(
        types(&older).last().map(String::as_str),
        Some("m.room.create")
    );
    assert_eq!(
        types(&older).len(),
        10 + 6,
        "ten messages and the six creation events, none twice"
    );
}

#[tokio::test]
async fn paging_forwards_from_the_start_sees_everything_once_in_order() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let sent: Vec<String> = (0..25).map(|n| format!("message {n}")).collect();
    for body in &sent {
        alice.send_text(&room, body).await;
    }
    let all = Value::Array(page_all(&alice, &room, "f", None, 10).await);
    assert_eq!(
        types(&all).first().map(String::as_str),
        Some("m.room.create")
    );
    assert_eq!(bodies(&all), sent);
    // `to` stops a page early: the same three events, and no more to come.
    let first = alice.messages(&room, "dir=f&limit=3").await;
    let end = first["end"].as_str().expect("more to come");
    let bounded = alice
        .messages(&room, &format!("dir=f&limit=50&to={end}"))
        .await;
    let ids = |page: &Value| {
        page["chunk"]
            .as_array()
            .expect("a chunk")
            .iter()
            .map(|e| e["event_id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&bounded), ids(&first));
    assert!(bounded.get("end").is_none(), "{bounded}");
}

#[tokio::test]
async fn a_former_member_reads_up_to_their_leave_and_no_further() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let bob = User::register(&server, "bob").await;
    let room = alice.create_room(json!({"preset": "public_chat"})).await;
    bob.membership(&room, "join", json!({})).await;
    alice.send_text(&room, "before").await;
    bob.membership(&room, "leave", json!({})).await;
    alice.send_text(&room, "after").await;

    let page = bob.messages(&room, "dir=b&limit=100").await;
    assert_eq!(bodies(&page["chunk"]), ["before"]);
    let (_, state) = bob
        .get(&format!(
            "/_matrix/client/v3/rooms/{room}/state/m.room.member/{}",
            bob.user_id
        ))
        .await;
    assert_eq!(
        state["membership"], "leave",
        "the state as it was when bob left"
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_the_matrix_way() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({})).await;
    let path = format!("/_matrix/client/v3/rooms/{room}/messages");
    for (query, errcode) in [
        ("", "M_MISSING_PARAM"),
        ("?dir=sideways", "M_INVALID_PARAM"),
        ("?dir=b&from=yesterday", "M_INVALID_PARAM"),
        ("?dir=b&limit=-1", "M_INVALID_PARAM"),
    ] {
        let (status, answer) = alice.get(&format!("{path}{query}")).await;
        assert_eq!(
            (status, &answer["errcode"]),
            (StatusCode::BAD_REQUEST, &json!(errcode)),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_restart_loses_nothing() {
    let server = TestServer::start(SERVER).await;
    let alice = User::register(&server, "alice").await;
    let room = alice.create_room(json!({"name": "Durable"})).await;
    let sent: Vec<String> = (0..12).map(|n| format!("kept {n}")).collect();
    for body in &sent {
        alice.send_text(&room, body).await;
    }
    let dir = server.data_dir().to_path_buf();
    let _keep_dir = server.stop().await;

    // Same data directory, new process state: the access token, the room,
    // its events and its state all come back from the database.
    let server = TestServer::start_in(SERVER, &dir).await;
    let alice = alice.on(&server);
    let all = Value::Array(page_all(&alice, &room, "f", None, 5).await);
    assert_eq!(bodies(&all), sent);
    let sync = alice
        .sync(&format!(
            "filter={}",
            "%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A50%7D%7D%7D"
        ))
        .await;
    let timeline = &sync["rooms"]["join"][&room]["timeline"];
    assert_eq!(bodies(&timeline["events"]), sent);
    // And the room still takes new messages, after the old ones.
    alice.send_text(&room, "after the restart").await;
    let newest = alice.messages(&room, "dir=b&limit=2").await;
    assert_eq!(bodies(&newest["chunk"]), ["after the restart", "kept 11"]);
}
