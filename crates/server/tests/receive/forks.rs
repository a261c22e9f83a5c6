//! Forks: events that arrive on different branches of the room's graph,
//! and what state resolution and soft failure make of them.

use super::fake::{FakePeers, ServerB};
use super::{ALICE, BOB, lobby};
use lostfound_protocol::state::slot;
use lostfound_server::federation::receive::Outcome;
use lostfound_store::Store;
use serde_json::json;

/// At the same moment, Alice bans Bob and Bob sets the topic, each on top
/// of the same event: the room forks. B receives Bob's topic first (fine
/// then: Bob is a member), then the ban. Now B holds two branches, and the
/// room's current state is the *resolution* of their states: the ban, a
/// power event, is settled first; Bob's topic is then replayed against a
/// room where Bob is banned, and does not apply. Every server that holds
/// both branches computes the same, whatever order they arrived in.
#[tokio::test]
async fn a_ban_beats_a_concurrent_topic_change_through_state_resolution() {
    let mut room = lobby();
    let fork = room.last();
    let b = ServerB::holding(&room, room.order.len());
    let topic = room.send_after(
        std::slice::from_ref(&fork),
        BOB,
        "m.room.topic",
        Some(""),
        json!({"topic": "bob was here"}),
    );
    let ban = room.send_after(
        &[fork],
        ALICE,
        "m.room.member",
        Some(BOB),
        json!({"membership": "ban"}),
    );
    let both = [topic.event_id().clone(), ban.event_id().clone()];
    let merge = room.send_after(
        &both,
        ALICE,
        "m.room.message",
        None,
        json!({"body": "order restored"}),
    );
    let peers = FakePeers::holding(&room);
    let receive = |event| b.receive(&peers, event);

    assert_eq!(receive(&topic).await.unwrap(), Outcome::Accepted);
    assert_eq!(
        b.current_state(&room)[&slot("m.room.topic", "")],
        *topic.event_id()
    );

    assert_eq!(receive(&ban).await.unwrap(), Outcome::Accepted);
    let state = b.current_state(&room);
    assert_eq!(
        state[&slot("m.room.member", BOB)],
        *ban.event_id(),
        "the ban stands"
    );
    assert_eq!(
        state.get(&slot("m.room.topic", "")),
        None,
        "Bob's topic lost the resolution"
    );
    assert_eq!(
        b.store.forward_extremities(&room.room_id).unwrap().len(),
        2,
        "two branches"
    );
    assert_eq!(
        b.timeline(&room).len(),
        room.order.len() - 1,
        "both branches are history"
    );

    // Alice's next event merges the branches; its state is the same
    // resolution, computed by a.lab, and now B has one extremity again.
    assert_eq!(receive(&merge).await.unwrap(), Outcome::Accepted);
    assert_eq!(b.current_state(&room), room.state_after[merge.event_id()]);
    assert_eq!(
        b.store.forward_extremities(&room.room_id).unwrap(),
        vec![merge.event_id().clone()]
    );
}

/// This time the ban reaches B first. Then comes a message Bob sent on his
/// branch, before he learned of the ban. Against the state where Bob put
/// it, it is valid (he was a member), so it is not rejected: it is real
/// history, and other servers may hold it. Against the room as it is now,
/// it fails: it is *soft-failed*, kept in the graph but without effect,
/// hidden from clients, and not built upon. Otherwise a banned user's
/// server could keep talking by pretending it never saw the ban.
#[tokio::test]
async fn a_message_from_a_user_banned_on_another_branch_is_soft_failed() {
    let mut room = lobby();
    let fork = room.last();
    let b = ServerB::holding(&room, room.order.len());
    let ban = room.send_after(
        std::slice::from_ref(&fork),
        ALICE,
        "m.room.member",
        Some(BOB),
        json!({"membership": "ban"}),
    );
    let late = room.send_after(
        &[fork],
        BOB,
        "m.room.message",
        None,
        json!({"body": "you can't stop me"}),
    );
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &ban).await;
    assert_eq!(outcome.unwrap(), Outcome::Accepted);
    let outcome = b.receive(&peers, &late).await;

    let Ok(Outcome::SoftFailed(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 5:"), "{reason}");
    assert!(
        !b.timeline(&room).contains(late.event_id()),
        "clients never see it"
    );
    let stored = b
        .store
        .event(late.event_id())
        .unwrap()
        .expect("kept in the graph");
    assert!(
        stored.outlier,
        "as an outlier: outside timeline and current state"
    );
    assert_eq!(b.current_state(&room), room.state_after[ban.event_id()]);
    assert_eq!(
        b.store.forward_extremities(&room.room_id).unwrap(),
        vec![ban.event_id().clone()]
    );
}

/// Forks are ordinary: two servers changed the room at the same moment,
/// Alice the topic, Bob the name, each on top of the same event. When the
/// second arrives, B's room has two newest events, and its current state
/// is neither branch's state alone but their resolution: here they do not
/// conflict, so both changes hold. (The state *after* the name event, on
/// its own branch, has no topic; that is what it stores for that event.)
#[tokio::test]
async fn concurrent_changes_on_two_branches_both_count_in_current_state() {
    let mut room = lobby();
    let fork = room.last();
    let b = ServerB::holding(&room, room.order.len());
    let topic = room.send_after(
        std::slice::from_ref(&fork),
        ALICE,
        "m.room.topic",
        Some(""),
        json!({"topic": "two branches"}),
    );
    let name = room.send_after(
        &[fork],
        BOB,
        "m.room.name",
        Some(""),
        json!({"name": "the fork"}),
    );
    let peers = FakePeers::holding(&room);

    for event in [&topic, &name] {
        let outcome = b.receive(&peers, event).await;
        assert_eq!(outcome.unwrap(), Outcome::Accepted);
    }

    let state = b.current_state(&room);
    assert_eq!(state[&slot("m.room.topic", "")], *topic.event_id());
    assert_eq!(state[&slot("m.room.name", "")], *name.event_id());
    let after_name = b.store.state_after(name.event_id()).unwrap().unwrap();
    assert!(
        !after_name.contains_key(&slot("m.room.topic", "")),
        "its own branch has no topic"
    );
    assert_eq!(b.store.forward_extremities(&room.room_id).unwrap().len(), 2);
}
