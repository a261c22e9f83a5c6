//! The federation sender, between homeservers on 127.0.0.1 over real HTTP:
//! an event a user creates on a.lab reaches the other servers in the room
//! with no one pushing it, a server that was down gets what it missed once
//! it is back, transactions hold at most 50 PDUs, one dead peer does not
//! hold up the others, and a room created with `m.federate: false` never
//! leaves its server.
//!
//! The rooms are built in the test (`receive/room.rs`), every event signed
//! by its sender's server, and written into each server's store, as if
//! bob@b.lab had joined long ago: the join protocol is not needed to show
//! how events travel once a room is shared.

#[path = "receive/fake.rs"]
#[allow(dead_code)] // this binary uses only `give`
mod fake;
#[path = "federation_sender/node.rs"]
mod node;
#[path = "receive/room.rs"]
#[allow(dead_code)]
mod room;

use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_server::federation::sender::MAX_PDUS_PER_TRANSACTION;
use lostfound_store::Store;
use node::{Node, bind, fake_peer, pdus, wait_until};
use room::TestRoom;
use serde_json::json;

const ALICE: &str = "@alice:a.lab";
const CAROL: &str = "@carol:a.lab";
const BOB: &str = "@bob:b.lab";

/// A room created on a.lab by `creator`, which bob@b.lab has joined.
fn shared_room(creator: &str, federate: bool) -> TestRoom {
    let mut room = TestRoom::public(creator, federate);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    room
}

fn event_id_of(pdu: &serde_json::Value) -> EventId {
    Pdu::from_json(pdu.clone()).unwrap().event_id().clone()
}

#[tokio::test]
async fn a_message_reaches_the_other_server_without_being_pushed() {
    let room = shared_room(ALICE, true);
    let held = room.order.len();
    let (mut listeners, peers) = bind(&["a.lab", "b.lab"]).await;
    let b = Node::start("b.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &room, held)
    });
    let a = Node::start("a.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &room, held)
    });
    let alice = a.register("alice").await;

    let sent = a
        .say(&alice, room.room_id.as_str(), "t1", "hello b.lab")
        .await;

    // a.lab queued it for b.lab and delivered it on its own; b.lab checked
    // a.lab's signature and took it into its copy of the room.
    wait_until("b.lab holds alice's message", || b.holds(&sent)).await;
    wait_until("a.lab's outbox is empty", || a.queued_for("b.lab") == 0).await;
    let timeline = b
        .store
        .room_events_after(&room.room_id, 0, i64::MAX, 100)
        .unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last.event.event_id(), &sent);
    assert_eq!(last.event.content()["body"], "hello b.lab");
}

#[tokio::test]
async fn a_server_that_was_down_gets_what_it_missed_when_it_is_back() {
    let room = shared_room(ALICE, true);
    let held = room.order.len();
    let (mut listeners, peers) = bind(&["a.lab", "b.lab"]).await;
    let mut b = Node::start("b.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &room, held)
    });
    let a = Node::start("a.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &room, held)
    });
    let alice = a.register("alice").await;

    b.stop().await;
    let mut sent = Vec::new();
    for n in 1..=5 {
        let body = format!("message {n}, while b.lab is down");
        sent.push(
            a.say(&alice, room.room_id.as_str(), &format!("t{n}"), &body)
                .await,
        );
    }
    // Nothing can be delivered: all five wait in a.lab's database, where a
    // restart of a.lab could not lose them either.
    assert_eq!(a.queued_for("b.lab"), 5);
    assert!(sent.iter().all(|event| !b.holds(event)));

    b.restart().await;

    // a.lab's sender, retrying with backoff, finds b.lab back.
    wait_until("b.lab holds all five messages", || {
        sent.iter().all(|event| b.holds(event))
    })
    .await;
    wait_until("a.lab's outbox is empty", || a.queued_for("b.lab") == 0).await;
    let timeline: Vec<EventId> = b
        .store
        .room_events_after(&room.room_id, 0, i64::MAX, 100)
        .unwrap()
        .into_iter()
        .map(|stored| stored.event.event_id().clone())
        .collect();
    assert_eq!(timeline[held..], sent[..], "in the order they were sent");
}

#[tokio::test]
async fn an_unfederated_room_never_leaves_its_server() {
    // Even with a b.lab member in its state (which the auth rules would
    // never have let in), carol's unfederated room sends nothing.
    let private = shared_room(CAROL, false);
    let public = shared_room(ALICE, true);
    let (mut listeners, peers) = bind(&["a.lab", "b.lab"]).await;
    let received = fake_peer(listeners.pop().unwrap());
    let a = Node::start("a.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &private, private.order.len());
        fake::give(store, &public, public.order.len());
    });
    let carol = a.register("carol").await;
    let alice = a.register("alice").await;

    let secret = a
        .say(&carol, private.room_id.as_str(), "t1", "only here")
        .await;
    assert_eq!(
        a.queued_for("b.lab"),
        0,
        "the unfederated event is not queued"
    );
    // A federated message afterwards: once it has arrived, anything queued
    // before it would have arrived too.
    let shared = a
        .say(&alice, public.room_id.as_str(), "t1", "for b.lab")
        .await;
    wait_until("b.lab received the federated message", || {
        pdus(&received).iter().any(|pdu| event_id_of(pdu) == shared)
    })
    .await;

    let delivered: Vec<EventId> = pdus(&received).iter().map(event_id_of).collect();
    assert_eq!(delivered, vec![shared]);
    assert!(!delivered.contains(&secret));
}

#[tokio::test]
async fn the_outbox_survives_a_restart_and_drains_in_transactions_of_at_most_50() {
    // 120 messages queued before a.lab starts, as if it had crashed with
    // them undelivered; c.lab is in the room too, but nothing answers at
    // its address.
    let mut room = shared_room(ALICE, true);
    let charlie = "@charlie:c.lab";
    room.state(
        charlie,
        "m.room.member",
        charlie,
        json!({"membership": "join"}),
    );
    let messages: Vec<EventId> = (1..=120)
        .map(|n| {
            room.message(ALICE, &format!("queued {n}"))
                .event_id()
                .clone()
        })
        .collect();
    let (mut listeners, peers) = bind(&["a.lab", "b.lab", "c.lab"]).await;
    drop(listeners.pop()); // c.lab: connections refused
    let received = fake_peer(listeners.pop().unwrap());
    let a = Node::start("a.lab", listeners.pop().unwrap(), &peers, |store| {
        fake::give(store, &room, room.order.len());
        for event_id in &messages {
            for server in ["b.lab", "c.lab"] {
                let server: ServerName = server.parse().unwrap();
                store.enqueue_outgoing(&server, event_id).unwrap();
            }
        }
    });

    wait_until("b.lab received all 120", || pdus(&received).len() >= 120).await;
    wait_until("a.lab's outbox for b.lab is empty", || {
        a.queued_for("b.lab") == 0
    })
    .await;

    let transactions = received.lock().unwrap().clone();
    let sizes: Vec<usize> = transactions.iter().map(|(_, pdus)| pdus.len()).collect();
    assert!(
        sizes.iter().all(|&size| size <= MAX_PDUS_PER_TRANSACTION),
        "{sizes:?}"
    );
    assert_eq!(sizes, [50, 50, 20], "the oldest first, 50 at a time");
    let mut txn_ids: Vec<&String> = transactions.iter().map(|(id, _)| id).collect();
    txn_ids.sort();
    txn_ids.dedup();
    assert_eq!(
        txn_ids.len(),
        transactions.len(),
        "each transaction has its own ID"
    );
    let delivered: Vec<EventId> = pdus(&received).iter().map(event_id_of).collect();
    assert_eq!(delivered, messages, "in the order they were queued");
    // c.lab's outage held nobody up, and its events still wait for it.
    assert_eq!(a.queued_for("c.lab"), 120);
}
