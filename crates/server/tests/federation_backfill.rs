//! Backfill between two real homeservers on 127.0.0.1: Bob of b.lab scrolls
//! back in a room whose older history b.lab never had (it holds only the
//! last few events and the room's state, as a server does after a late
//! join or a restore), and b.lab fetches that history from a.lab with
//! `GET /backfill`, checks it, and serves it to Bob as if it had always
//! been there. Requests to a.lab go through a small counting proxy, so a
//! test can say how many backfills were made.

#[path = "receive/room.rs"]
#[allow(dead_code)]
mod room;

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::PduBuilder;
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::StateMap;
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{Account, Device, EventWrite, Room, SqliteStore, Store};
use room::{TestRoom, seed_of};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const ALICE: &str = "@alice:a.lab";
const BOB: &str = "@bob:b.lab";
const BOB_TOKEN: &str = "bob-token";
/// The events b.lab holds in its timeline: the newest few.
const B_HOLDS: usize = 3;

/// One running homeserver; dropping it stops the server.
struct Running {
    address: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

fn run(
    name: &str,
    listener: TcpListener,
    peer: (&str, String),
    fill: impl Fn(&dyn Store),
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut config = Config::new(
        name.parse().unwrap(),
        dir.path().to_path_buf(),
        seed_of(name),
    );
    config.peers.insert(peer.0.parse().unwrap(), peer.1);
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    fill(store.as_ref());
    let homeserver = Homeserver::new(config, store, Arc::new(SystemClock)).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(lostfound_server::serve(listener, homeserver, async {
        let _ = stopped.await;
    }));
    Running {
        address,
        _stop: stop,
        _dir: dir,
    }
}

fn create_room(store: &dyn Store, room: &TestRoom) {
    let create = room.event(&room.order[0]);
    let federate = create.content().get("m.federate") != Some(&Value::Bool(false));
    let room_id = room.room_id.clone();
    let record = Room {
        room_id,
        room_version: "10".into(),
        federate,
    };
    store.create_room(&record).unwrap();
}

/// a.lab: the whole room, as its creator's server holds it.
fn holds_everything(store: &dyn Store, room: &TestRoom) {
    create_room(store, room);
    for id in &room.order {
        let extremities = std::slice::from_ref(id);
        let state_after = &room.state_after[id];
        store
            .persist_event(&write(room, id, state_after, extremities, false))
            .unwrap();
    }
}

/// b.lab: the room's current state as outliers (as `send_join` or
/// `state_ids` bring it), the newest `B_HOLDS` events in the timeline,
/// and Bob's account.
fn holds_the_end(store: &dyn Store, room: &TestRoom) {
    create_room(store, room);
    let last = room.last();
    let empty = StateMap::new();
    for id in room.state_after[&last].values() {
        store
            .persist_event(&write(room, id, &empty, &[], true))
            .unwrap();
    }
    for id in &room.order[room.order.len() - B_HOLDS..] {
        let extremities = std::slice::from_ref(id);
        let state_after = &room.state_after[id];
        store
            .persist_event(&write(room, id, state_after, extremities, false))
            .unwrap();
    }
    let user_id = BOB.parse().unwrap();
    let account = Account {
        user_id,
        password_hash: "unused".into(),
        created_ts: 0,
    };
    store.create_account(&account).unwrap();
    store
        .upsert_device(&Device {
            user_id: account.user_id,
            device_id: "PHONE".into(),
            access_token: BOB_TOKEN.into(),
            display_name: None,
        })
        .unwrap();
}

fn write<'a>(
    room: &'a TestRoom,
    id: &EventId,
    state_after: &'a StateMap<EventId>,
    forward_extremities: &'a [EventId],
    outlier: bool,
) -> EventWrite<'a> {
    EventWrite {
        event: room.event(id),
        state_after,
        forward_extremities,
        current_state: None,
        outlier,
        transaction: None,
    }
}

/// An HTTP proxy in front of `target` that counts the backfill requests
/// passing through it (a.lab's request log, as a number).
async fn counting_proxy(target: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let client = reqwest::Client::new();
    let forward = move |request: axum::extract::Request| {
        let (client, counter, target) = (client.clone(), Arc::clone(&counter), target.clone());
        async move {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            if path.starts_with("/_matrix/federation/v1/backfill/") {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
            let authorization = request.headers().get("authorization").cloned();
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap();
            let mut outgoing = client
                .request(method, format!("http://{target}{path}"))
                .body(body);
            if let Some(value) = authorization {
                outgoing = outgoing.header("authorization", value.as_bytes());
            }
            let answer = outgoing.send().await.unwrap();
            let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let bytes = answer.bytes().await.unwrap();
            (status, [("content-type", "application/json")], bytes)
        }
    };
    let app = axum::Router::new().fallback(forward);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, count)
}

/// a.lab (behind the counting proxy) holding all of `room`, and b.lab
/// holding its end.
async fn start(room: &TestRoom) -> (Running, Running, Arc<AtomicUsize>) {
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_address = a_listener.local_addr().unwrap().to_string();
    let b_address = b_listener.local_addr().unwrap().to_string();
    let (proxy, count) = counting_proxy(a_address).await;
    let a = run("a.lab", a_listener, ("b.lab", b_address), |s| {
        holds_everything(s, room)
    });
    let b = run("b.lab", b_listener, ("a.lab", proxy), |s| {
        holds_the_end(s, room)
    });
    (a, b, count)
}

/// Bob scrolls back on b.lab, ten at a time, until `end` is gone (at most
/// 20 pages); the event IDs he saw, newest first.
async fn scroll_back(b: &Running, room: &TestRoom) -> Vec<EventId> {
    let client = reqwest::Client::new();
    let base = format!(
        "http://{}/_matrix/client/v3/rooms/{}/messages?dir=b&limit=10",
        b.address,
        lostfound_server::federation::encode(room.room_id.as_str())
    );
    let mut seen = Vec::new();
    let mut from: Option<String> = None;
    for _ in 0..20 {
        let url = match &from {
            Some(token) => format!("{base}&from={token}"),
            None => base.clone(),
        };
        let page: Value = client
            .get(url)
            .bearer_auth(BOB_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let chunk = page["chunk"].as_array().expect("a chunk");
        seen.extend(
            chunk
                .iter()
                .map(|e| e["event_id"].as_str().unwrap().parse().unwrap()),
        );
        match page.get("end").and_then(Value::as_str) {
            Some(end) => from = Some(end.to_owned()),
            None => return seen,
        }
    }
    panic!("pagination did not end within 20 pages");
}

/// Alice's public room, which Bob joined, then 30 messages.
fn thirty_messages(federate: bool) -> TestRoom {
    let mut room = TestRoom::public(ALICE, federate);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    for n in 1..=30 {
        room.message(ALICE, &format!("message {n}"));
    }
    room
}

#[tokio::test]
async fn scrolling_back_backfills_the_history_b_lab_never_had() {
    let room = thirty_messages(true);
    let (_a, b, backfills) = start(&room).await;
    let before = sync(&b, None).await;

    let seen = scroll_back(&b, &room).await;

    let mut everything = room.order.clone();
    everything.reverse();
    assert_eq!(seen, everything, "every event, newest first, each once");
    assert_eq!(
        backfills.load(Ordering::SeqCst),
        1,
        "one backfill brought it all"
    );
    // Old history learnt late is not news: it sits below every sync token.
    let since = before["next_batch"].as_str().unwrap();
    let after = sync(&b, Some(since)).await;
    assert_eq!(after["rooms"]["join"], json!({}), "{after}");
    assert_eq!(after["next_batch"], before["next_batch"]);
}

/// Bob's `/sync` on b.lab, answered at once.
async fn sync(b: &Running, since: Option<&str>) -> Value {
    let mut url = format!("http://{}/_matrix/client/v3/sync?timeout=0", b.address);
    if let Some(since) = since {
        url.push_str(&format!("&since={since}"));
    }
    let answer = reqwest::Client::new()
        .get(url)
        .bearer_auth(BOB_TOKEN)
        .send()
        .await
        .unwrap();
    answer.json().await.unwrap()
}

#[tokio::test]
async fn a_forged_event_is_dropped_and_pagination_still_ends() {
    let mut room = TestRoom::public(ALICE, true);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    for n in 1..=5 {
        room.message(ALICE, &format!("message {n}"));
    }
    // A message claiming to be Alice's, signed with a key a.lab never had.
    let parent = room.last();
    let honest = room.event(&parent).clone();
    let impostor = SigningKey::from_seed(
        "a.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [9; 32],
    );
    let body = json!({"msgtype": "m.text", "body": "forged"});
    let forged = PduBuilder::new(
        room.room_id.clone(),
        honest.sender().clone(),
        "m.room.message",
        body,
    )
    .prev_events([parent.clone()])
    .auth_events(honest.auth_events().iter().cloned())
    .depth(honest.depth() + 1)
    .origin_server_ts(honest.origin_server_ts() + 1)
    .sign(&impostor)
    .unwrap();
    let forged_id = forged.event_id().clone();
    let state = room.state_after[&parent].clone();
    room.state_before.insert(forged_id.clone(), state.clone());
    room.state_after.insert(forged_id.clone(), state);
    room.events.insert(forged_id.clone(), forged);
    room.order.push(forged_id.clone());
    for n in 6..=10 {
        room.message(ALICE, &format!("message {n}"));
    }
    let (_a, b, backfills) = start(&room).await;

    let seen = scroll_back(&b, &room).await;

    let mut expected: Vec<EventId> = room
        .order
        .iter()
        .filter(|id| **id != forged_id)
        .cloned()
        .collect();
    expected.reverse();
    assert_eq!(seen, expected, "everything but the forgery, each once");
    // The hole the forgery leaves is asked about again on later pages,
    // one request per page at most, and answered with nothing new.
    let made = backfills.load(Ordering::SeqCst);
    assert!((1..=3).contains(&made), "{made} backfills");
}

#[tokio::test]
async fn an_unfederated_room_never_backfills() {
    let room = thirty_messages(false);
    let (_a, b, backfills) = start(&room).await;

    let seen = scroll_back(&b, &room).await;

    assert_eq!(seen.len(), B_HOLDS, "only what b.lab holds");
    assert_eq!(backfills.load(Ordering::SeqCst), 0);
}

const MALLORY: &str = "@mallory:a.lab";

/// Alice's public room: Mallory joins, talks, and is banned; Bob joins and
/// two messages follow. Returns the room, Mallory's join and the two
/// messages.
fn mallory_banned() -> (TestRoom, EventId, [EventId; 2]) {
    let mut room = TestRoom::public(ALICE, true);
    let join = room.state(
        MALLORY,
        "m.room.member",
        MALLORY,
        json!({"membership": "join"}),
    );
    room.message(MALLORY, "hello");
    room.state(
        ALICE,
        "m.room.member",
        MALLORY,
        json!({"membership": "ban"}),
    );
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    let first = room.message(ALICE, "after the ban 1");
    let second = room.message(ALICE, "after the ban 2");
    (
        room,
        join.event_id().clone(),
        [first.event_id().clone(), second.event_id().clone()],
    )
}

/// The reviewer's attack: after his ban, Mallory forges a message with two
/// `prev_events` (so that no single parent gives its state) and cites his
/// old join as auth event. Its own auth events allow it; the state before
/// it, resolved from both parents, holds the ban. It must not reach Bob.
#[tokio::test]
async fn a_banned_users_forgery_with_two_parents_is_not_shown() {
    let (mut room, join, parents) = mallory_banned();
    let body = json!({"msgtype": "m.text", "body": "forged after my ban"});
    let forged = room
        .send_citing(&parents, &[join], MALLORY, "m.room.message", None, body)
        .event_id()
        .clone();
    for n in 1..=5 {
        room.message(ALICE, &format!("later {n}"));
    }
    let (_a, b, _backfills) = start(&room).await;

    let seen = scroll_back(&b, &room).await;

    assert!(!seen.contains(&forged), "the forgery was shown: {seen:?}");
    let mut expected: Vec<EventId> = room
        .order
        .iter()
        .filter(|id| **id != forged)
        .cloned()
        .collect();
    expected.reverse();
    assert_eq!(seen, expected, "everything but the forgery, each once");
}

/// The same forgery, one of whose parents exists nowhere: the state before
/// it cannot be known at all. It fails the room's current state (Mallory
/// is banned), so it is kept as an outlier, out of every timeline; the
/// honest messages after it are still shown.
#[tokio::test]
async fn a_forgery_of_unknown_state_is_kept_out_of_the_timeline() {
    let (mut room, join, [_, parent]) = mallory_banned();
    let key = room::key_of("a.lab");
    let nowhere = PduBuilder::new(
        room.room_id.clone(),
        ALICE.parse().unwrap(),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "never sent"}),
    )
    .prev_events([parent.clone()])
    .depth(room.event(&parent).depth() + 1)
    .origin_server_ts(1)
    .sign(&key)
    .unwrap()
    .event_id()
    .clone();
    let honest_join = room.event(&join).clone();
    let forged = PduBuilder::new(
        room.room_id.clone(),
        MALLORY.parse().unwrap(),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "forged after my ban"}),
    )
    .prev_events([parent.clone(), nowhere])
    .auth_events(
        honest_join
            .auth_events()
            .iter()
            .filter(|id| room.event(id).event_type() != "m.room.join_rules")
            .cloned()
            .chain([join]),
    )
    .depth(room.event(&parent).depth() + 2)
    .origin_server_ts(room.event(&parent).origin_server_ts() + 1)
    .sign(&key)
    .unwrap();
    let forged_id = forged.event_id().clone();
    let state = room.state_after[&parent].clone();
    room.state_before.insert(forged_id.clone(), state.clone());
    room.state_after.insert(forged_id.clone(), state);
    room.events.insert(forged_id.clone(), forged);
    room.order.push(forged_id.clone());
    for n in 1..=5 {
        room.message(ALICE, &format!("later {n}"));
    }
    let (_a, b, _backfills) = start(&room).await;

    let seen = scroll_back(&b, &room).await;

    assert!(
        !seen.contains(&forged_id),
        "the forgery was shown: {seen:?}"
    );
    for n in 1..=5 {
        let later = &room.order[room.order.len() - n];
        assert!(seen.contains(later), "honest message {later} missing");
    }
}
