//! Guards on receipt that come before the spec's checks can do their job:
//! a PDU must not pull another room's history into its own, must not make
//! us talk about an unfederated room, and must not name more parents or
//! auth events than we agree to look at.
//!
//! Same setting as `receive.rs`: server B is a real homeserver, the rest
//! of the federation is the fake of `receive/fake.rs`, counting requests.

#[allow(dead_code)]
#[path = "receive/fake.rs"]
mod fake;
#[allow(dead_code)]
#[path = "receive/room.rs"]
mod room;

use fake::{Calls, FakePeers, ServerB, give};
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_server::federation::receive::{Outcome, ReceiveError, receive_pdu};
use lostfound_store::Store;
use room::{TestRoom, key_of, user};
use serde_json::{Value, json};

const ALICE: &str = "@alice:a.lab";
const BOB: &str = "@bob:c.lab";
/// Bob's server runs a room of its own, where it holds every power.
const MALLORY: &str = "@mallory:c.lab";

/// Alice's public room on a.lab, with Bob joined: room X.
fn lobby() -> TestRoom {
    let mut room = TestRoom::public(ALICE, true);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    room
}

/// Room Z, created by c.lab's Mallory, that B holds too. Bob is a member
/// there as well, so his events pass the auth rules against Z's state.
fn other_room() -> TestRoom {
    let mut room = TestRoom::public(MALLORY, true);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    room.message(MALLORY, "my room, my rules");
    room
}

/// Makes `z`'s events citable from `x`, as an attacker holding both can.
fn borrow_events(x: &mut TestRoom, z: &TestRoom) {
    x.events.extend(z.events.clone());
    x.state_after.extend(z.state_after.clone());
}

async fn push(b: &ServerB, peers: &FakePeers, event: &Pdu) -> Result<Outcome, ReceiveError> {
    receive_pdu(
        &b.homeserver,
        peers,
        &b.origin,
        Value::Object(event.json().clone()),
    )
    .await
}

fn stored(b: &ServerB, id: &EventId) -> bool {
    b.store.event(id).unwrap().is_some()
}

/// The reviewer's attack. c.lab has a member (Bob) in room X and owns
/// room Z; B holds both. Bob's server sends, in X, a message whose
/// `prev_events` name Z's newest event. Were it accepted, "the state
/// before" it would be Z's state, and X's current state the resolution of
/// X's and Z's: Mallory's power levels and create event in Alice's room.
/// It is rejected before any state is computed, X is untouched, and X
/// goes on taking ordinary events.
#[tokio::test]
async fn a_parent_from_another_room_is_rejected_and_the_room_is_untouched() {
    let mut x = lobby();
    let z = other_room();
    let x_last = x.last();
    let b = ServerB::holding(&x, x.order.len());
    give(b.store.as_ref(), &z, z.order.len());
    let state_before = b.current_state(&x);
    let extremities_before = b.store.forward_extremities(&x.room_id).unwrap();
    borrow_events(&mut x, &z);
    let evil = x.send_citing(
        &[z.last()],
        std::slice::from_ref(&x_last),
        BOB,
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": "now this room is mine"}),
    );
    let peers = FakePeers::holding(&x);

    let outcome = push(&b, &peers, &evil).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("belongs to room"), "{reason}");
    assert!(reason.contains(z.room_id.as_str()), "{reason}");
    assert!(
        !stored(&b, evil.event_id()),
        "rejected events are not stored"
    );
    assert_eq!(b.current_state(&x), state_before, "X's state is X's");
    assert_eq!(
        b.store.forward_extremities(&x.room_id).unwrap(),
        extremities_before
    );
    assert_eq!(peers.calls(), Calls::default(), "nothing was asked");

    // X still works: the next honest event is accepted on top of X.
    let honest = x.send_after(
        std::slice::from_ref(&x_last),
        ALICE,
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": "still here"}),
    );
    let peers = FakePeers::holding(&x);
    assert_eq!(push(&b, &peers, &honest).await.unwrap(), Outcome::Accepted);
    assert_eq!(b.current_state(&x), state_before);
    assert_eq!(
        b.store.forward_extremities(&x.room_id).unwrap(),
        vec![honest.event_id().clone()]
    );
}

/// The same attack one step removed: the event pushed is innocent-looking
/// but its parent, which B lacks and gets through `get_missing_events`,
/// names Z's event. The gap's event is rejected for it too (so its child
/// cannot be placed), and nothing of Z reaches X.
#[tokio::test]
async fn a_gap_event_with_a_parent_from_another_room_is_rejected() {
    let mut x = lobby();
    let z = other_room();
    let x_last = x.last();
    let b = ServerB::holding(&x, x.order.len());
    give(b.store.as_ref(), &z, z.order.len());
    let state_before = b.current_state(&x);
    borrow_events(&mut x, &z);
    let bridge = x.send_citing(
        &[z.last()],
        std::slice::from_ref(&x_last),
        BOB,
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": "a bridge between rooms"}),
    );
    let child = x.message(BOB, "nothing to see here");
    let peers = FakePeers::holding(&x);

    let outcome = push(&b, &peers, &child).await;

    assert!(
        !matches!(outcome, Ok(Outcome::Accepted | Outcome::Redacted)),
        "{outcome:?}"
    );
    assert!(!stored(&b, bridge.event_id()));
    assert!(!stored(&b, child.event_id()));
    assert_eq!(b.current_state(&x), state_before, "X's state is X's");
    assert_eq!(
        b.store.forward_extremities(&x.room_id).unwrap(),
        vec![x_last]
    );
}

/// A room created with `m.federate: false` lives on B alone. A PDU pushed
/// for it, here one with a gap behind it, is refused before B asks any
/// peer anything: answering the gap would tell the sender the room's
/// forward extremities.
#[tokio::test]
async fn a_pdu_for_an_unfederated_room_is_refused_before_any_request() {
    let mut room = TestRoom::public("@carol:b.lab", false);
    let b = ServerB::holding(&room, room.order.len());
    let state_before = b.current_state(&room);
    room.state(ALICE, "m.room.member", ALICE, json!({"membership": "join"}));
    let message = room.message(ALICE, "what is in here?");
    let peers = FakePeers::holding(&room);

    let outcome = push(&b, &peers, &message).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 3:"), "{reason}");
    assert!(reason.contains("m.federate false"), "{reason}");
    assert_eq!(
        peers.calls(),
        Calls::default(),
        "no peer was asked anything"
    );
    assert!(!stored(&b, message.event_id()));
    assert_eq!(b.current_state(&room), state_before);
}

/// Even an event signed by B's own server (which B never sent out for
/// this room) is refused when a peer pushes it, and no one is asked.
#[tokio::test]
async fn our_own_event_for_an_unfederated_room_is_refused_from_a_peer() {
    let mut room = TestRoom::public("@carol:b.lab", false);
    let b = ServerB::holding(&room, room.order.len());
    room.message("@carol:b.lab", "note to self");
    let echo = room.message("@carol:b.lab", "another note");
    let peers = FakePeers::holding(&room);

    let outcome = push(&b, &peers, &echo).await;

    assert!(
        matches!(outcome, Err(ReceiveError::UnfederatedRoom(ref id)) if *id == room.room_id),
        "{outcome:?}"
    );
    assert_eq!(peers.calls(), Calls::default());
    assert!(!stored(&b, echo.event_id()));
}

/// A room with `n` messages after the lobby, so an event can name many
/// real parents.
fn long_lobby(n: usize) -> TestRoom {
    let mut room = lobby();
    for i in 0..n {
        room.message(BOB, &format!("message {i}"));
    }
    room
}

/// Bob's message naming `prevs` as parents and `auth` as auth events.
fn message_citing(room: &TestRoom, prevs: &[EventId], auth: &[EventId]) -> Pdu {
    let depth = prevs
        .iter()
        .map(|p| room.event(p).depth())
        .max()
        .unwrap_or(0)
        + 1;
    PduBuilder::new(
        room.room_id.clone(),
        user(BOB),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "so many parents"}),
    )
    .prev_events(prevs.iter().cloned())
    .auth_events(auth.iter().cloned())
    .depth(depth)
    .sign(&key_of("c.lab"))
    .unwrap()
}

/// Synapse's limit: at most 20 `prev_events`. Twenty-one is refused
/// before any store or peer work (even for a room B does not hold: the
/// count is checked first); twenty is fine.
#[tokio::test]
async fn more_than_twenty_prev_events_are_refused() {
    let mut room = long_lobby(21);
    let b = ServerB::holding(&room, room.order.len());
    let last = room.last();
    let auth = room.event(&last).auth_events().to_vec();
    let parents: Vec<EventId> = room.order[room.order.len() - 21..].to_vec();
    let too_many = message_citing(&room, &parents, &auth);
    let peers = FakePeers::holding(&room);

    let outcome = push(&b, &peers, &too_many).await;

    assert!(
        matches!(
            outcome,
            Err(ReceiveError::TooManyReferences {
                field: "prev_events",
                count: 21,
                limit: 20
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(peers.calls(), Calls::default());
    assert!(!stored(&b, too_many.event_id()));

    // Before the store is even asked which room it is.
    let stranger = ServerB::holding(&lobby(), 1);
    let outcome = push(&stranger, &peers, &too_many).await;
    assert!(
        matches!(outcome, Err(ReceiveError::TooManyReferences { .. })),
        "{outcome:?}"
    );

    // Twenty parents are within the limit: a (wide) merge like any other.
    let twenty = room.send_after(
        &parents[1..],
        BOB,
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": "twenty is fine"}),
    );
    let peers = FakePeers::holding(&room);
    assert_eq!(push(&b, &peers, &twenty).await.unwrap(), Outcome::Accepted);
}

/// Synapse's limit: at most 10 `auth_events`.
#[tokio::test]
async fn more_than_ten_auth_events_are_refused() {
    let room = long_lobby(8);
    let b = ServerB::holding(&room, room.order.len());
    let last = room.last();
    let auth: Vec<EventId> = room.order[..11].to_vec();
    let too_many = message_citing(&room, std::slice::from_ref(&last), &auth);
    let peers = FakePeers::holding(&room);

    let outcome = push(&b, &peers, &too_many).await;

    assert!(
        matches!(
            outcome,
            Err(ReceiveError::TooManyReferences {
                field: "auth_events",
                count: 11,
                limit: 10
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(peers.calls(), Calls::default());
    assert!(!stored(&b, too_many.event_id()));
}

/// Serving the state before an event (`state_ids`, `state`) reads the
/// state after its parents. Should an event citing another room's event
/// already be stored (written before these checks existed), the answer is
/// "unknown", never that other room's state dressed up as this room's.
#[tokio::test]
async fn serving_the_state_before_never_reads_a_parent_from_another_room() {
    use lostfound_server::federation::serve::ServeError;
    use lostfound_server::federation::serve::state_at::state_before;
    use lostfound_store::EventWrite;

    let mut x = lobby();
    let z = other_room();
    let x_last = x.last();
    let b = ServerB::holding(&x, x.order.len());
    give(b.store.as_ref(), &z, z.order.len());
    borrow_events(&mut x, &z);
    let evil = x.send_citing(
        &[z.last()],
        std::slice::from_ref(&x_last),
        BOB,
        "m.room.topic",
        Some(""),
        json!({"topic": "smuggled"}),
    );
    b.store
        .persist_event(&EventWrite {
            event: &evil,
            state_after: &x.state_after[evil.event_id()],
            forward_extremities: &[x_last.clone(), evil.event_id().clone()],
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .unwrap();

    let answer = state_before(b.store.as_ref(), &x.room_id, evil.event_id());

    assert!(
        matches!(answer, Err(ServeError::StateUnknown(ref id)) if id == evil.event_id()),
        "{answer:?}"
    );
}
