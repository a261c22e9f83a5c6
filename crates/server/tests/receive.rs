//! Receiving PDUs from other servers: the checks on receipt, and the
//! gap-filling that healed servers restored from old backups in 2021.
//!
//! Each test builds a room on "a.lab" purely in memory (`receive/room.rs`),
//! gives server B (a real homeserver on SQLite) some of its events, and
//! pushes one more event at B through `receive_pdu`. The rest of the
//! federation is a fake (`receive/fake.rs`) that answers from the room and
//! counts the requests B makes, so a test can show not only *that* B healed
//! but *how*: through the protocol, one request at a time.

#[path = "receive/fake.rs"]
mod fake;
#[path = "receive/forks.rs"]
mod forks;
#[path = "receive/gaps.rs"]
mod gaps;
#[path = "receive/room.rs"]
mod room;

use fake::{Calls, FakePeers, ServerB};
use lostfound_protocol::pdu::PduBuilder;
use lostfound_protocol::state::slot;
use lostfound_server::federation::receive::{Outcome, ReceiveError, receive_pdu};
use room::{TestRoom, user};
use serde_json::{Value, json};

const ALICE: &str = "@alice:a.lab";
const BOB: &str = "@bob:c.lab";

/// Alice's public room on a.lab, with Bob joined.
fn lobby() -> TestRoom {
    let mut room = TestRoom::public(ALICE, true);
    room.state(BOB, "m.room.member", BOB, json!({"membership": "join"}));
    room
}

/// The ordinary case: B holds everything the new event follows.
#[tokio::test]
async fn an_event_whose_parents_we_hold_is_accepted_and_changes_state() {
    let mut room = lobby();
    let b = ServerB::holding(&room, room.order.len());
    let topic = room.state(BOB, "m.room.topic", "", json!({"topic": "lost & found"}));
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &topic).await;

    assert_eq!(outcome.unwrap(), Outcome::Accepted);
    assert_eq!(
        b.current_state(&room)[&slot("m.room.topic", "")],
        *topic.event_id()
    );
    assert_eq!(
        b.timeline(&room).last(),
        Some(topic.event_id()),
        "clients see it"
    );
    assert_eq!(
        peers.calls(),
        Calls::default(),
        "nothing was missing, nothing was asked"
    );

    // A peer retrying its transaction changes nothing.
    let again = b.receive(&peers, &topic).await;
    assert_eq!(again.unwrap(), Outcome::AlreadyKnown);
}

/// Anyone can write JSON claiming to be from a.lab; only a.lab's key can
/// sign it. An event whose signature does not verify is dropped unseen.
#[tokio::test]
async fn a_forged_signature_is_dropped() {
    let room = lobby();
    let b = ServerB::holding(&room, room.order.len());
    let peers = FakePeers::holding(&room);
    let forger = lostfound_protocol::signing::SigningKey::from_seed(
        "a.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [66; 32],
    );
    let last = room.event(&room.last());
    let forged = PduBuilder::new(
        room.room_id.clone(),
        user(BOB),
        "m.room.message",
        json!({"body": "send me your password"}),
    )
    .prev_events([room.last()])
    .auth_events(last.auth_events().iter().cloned())
    .depth(last.depth() + 1)
    .sign(&forger)
    .unwrap();

    let outcome = b.receive(&peers, &forged).await;

    assert!(
        matches!(outcome, Err(ReceiveError::Signature(_))),
        "{outcome:?}"
    );
    assert!(
        b.store_event(forged.event_id()).is_none(),
        "not stored at all"
    );
}

/// The signature covers the redacted event; the content hash covers the
/// rest. Changing the body in transit breaks only the hash, so the spec
/// keeps what the signature still vouches for: the redacted event.
#[tokio::test]
async fn a_tampered_body_is_kept_redacted() {
    let mut room = lobby();
    let b = ServerB::holding(&room, room.order.len());
    let message = room.message(BOB, "the meeting is at noon");
    let peers = FakePeers::holding(&room);
    let mut tampered = message.json().clone();
    tampered.insert(
        "content".into(),
        json!({"msgtype": "m.text", "body": "the meeting is cancelled"}),
    );

    let outcome = receive_pdu(&b.homeserver, &peers, &b.origin, Value::Object(tampered)).await;

    assert_eq!(outcome.unwrap(), Outcome::Redacted);
    let stored = b
        .store_event(message.event_id())
        .expect("stored, under the same ID");
    assert_eq!(
        stored.content(),
        &serde_json::Map::new(),
        "neither body survives"
    );
}

/// Rule 5: only members speak. Eve's server signed her message properly,
/// but the auth events it cites show she never joined.
#[tokio::test]
async fn a_message_from_a_non_member_is_rejected_naming_the_rule() {
    let mut room = lobby();
    let b = ServerB::holding(&room, room.order.len());
    let intruder = room.message("@eve:a.lab", "hello?");
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &intruder).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 5:"), "{reason}");
    assert!(
        b.store_event(intruder.event_id()).is_none(),
        "rejected events are not stored"
    );
}

/// Banning needs the ban level (50); Bob has 0.
#[tokio::test]
async fn a_ban_by_a_non_moderator_is_rejected_naming_the_rule() {
    let mut room = lobby();
    let b = ServerB::holding(&room, room.order.len());
    let ban = room.state(BOB, "m.room.member", ALICE, json!({"membership": "ban"}));
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &ban).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 4."), "{reason}");
    assert_eq!(
        b.current_state(&room)[&slot("m.room.member", ALICE)],
        room.order[1],
        "Alice is still joined"
    );
}

/// A room created with `m.federate: false` belongs to its creator's
/// server alone (rule 3): a user of another server cannot even join it.
#[tokio::test]
async fn an_event_for_an_unfederated_room_from_a_foreign_server_is_rejected() {
    let mut room = TestRoom::public("@carol:b.lab", false);
    let b = ServerB::holding(&room, room.order.len());
    let join = room.state(ALICE, "m.room.member", ALICE, json!({"membership": "join"}));
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &join).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 3:"), "{reason}");
}

/// Rooms B has never heard of need a join first (a later step).
#[tokio::test]
async fn an_event_for_an_unknown_room_is_refused() {
    let mut room = lobby();
    let other = TestRoom::public("@zed:a.lab", true);
    let b = ServerB::holding(&other, other.order.len());
    let message = room.message(BOB, "hi");
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &message).await;

    assert!(
        matches!(outcome, Err(ReceiveError::UnknownRoom(_))),
        "{outcome:?}"
    );
}

impl ServerB {
    fn store_event(
        &self,
        id: &lostfound_protocol::ids::EventId,
    ) -> Option<lostfound_protocol::pdu::Pdu> {
        use lostfound_store::Store;
        self.store.event(id).unwrap().map(|stored| stored.event)
    }
}
