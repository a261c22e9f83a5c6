//! Persisting events with their state, and reading them back.

use crate::common::{TestRoom, ids, new_store, user};
use lostfound_protocol::state::slot;
use lostfound_store::{EventWrite, Store, StoreError, TransactionKey};
use serde_json::json;

#[test]
fn an_event_comes_back_as_it_was_sent_with_its_position() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "hypha", &user("alice"));
    let (message, position) = room.message(&store, &user("alice"), "hello");

    let stored = store.event(message.event_id()).unwrap().expect("stored");
    assert_eq!(stored.event, message);
    assert_eq!(stored.position, position);
    assert!(!stored.outlier);
    assert_eq!(store.current_position().unwrap(), position);

    let unknown = room.build(&user("alice"), "m.room.message", None, json!({}));
    assert_eq!(store.event(unknown.event_id()).unwrap(), None);
    assert_eq!(store.state_after(unknown.event_id()).unwrap(), None);
}

#[test]
fn the_state_after_each_event_is_kept_and_current_state_follows_the_newest() {
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let (first_name, _) =
        room.state_event(&store, &alice, "m.room.name", "", json!({"name": "Hypha"}));
    let state_with_first_name = room.state.clone();
    let (message, _) = room.message(&store, &alice, "hello");
    let (second_name, _) = room.state_event(
        &store,
        &alice,
        "m.room.name",
        "",
        json!({"name": "Hypha Co-op"}),
    );

    // A message does not change state: the state after it is its parent's.
    assert_eq!(
        store.state_after(first_name.event_id()).unwrap(),
        Some(state_with_first_name.clone())
    );
    assert_eq!(
        store.state_after(message.event_id()).unwrap(),
        Some(state_with_first_name)
    );
    let now = store.current_state(&room.room_id).unwrap();
    assert_eq!(now, room.state);
    assert_eq!(now[&slot("m.room.name", "")], *second_name.event_id());
    assert_eq!(
        store.state_after(second_name.event_id()).unwrap(),
        Some(now)
    );
    assert_eq!(
        store.forward_extremities(&room.room_id).unwrap(),
        vec![second_name.event_id().clone()]
    );
}

#[test]
fn state_can_lose_a_slot() {
    // State resolution can produce a state without a slot the room had
    // (a rejected event's branch loses); current state must follow.
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    room.state_event(
        &store,
        &alice,
        "m.room.topic",
        "",
        json!({"topic": "co-ops"}),
    );
    room.state.remove(&slot("m.room.topic", ""));
    room.message(&store, &alice, "after resolution");
    assert!(
        !store
            .current_state(&room.room_id)
            .unwrap()
            .contains_key(&slot("m.room.topic", ""))
    );
}

#[test]
fn an_outlier_is_stored_but_changes_nothing_a_client_sees() {
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let (message, before) = room.message(&store, &alice, "hello");
    let state_before = store.current_state(&room.room_id).unwrap();

    // An auth event fetched from a peer: it has state of its own.
    let outlier = room.build(
        &user("bob"),
        "m.room.member",
        Some("@bob:tomesh.lab"),
        json!({"membership": "join"}),
    );
    let mut outlier_state = room.state.clone();
    outlier_state.insert(
        slot("m.room.member", "@bob:tomesh.lab"),
        outlier.event_id().clone(),
    );
    let position = store
        .persist_event(&EventWrite {
            event: &outlier,
            state_after: &outlier_state,
            forward_extremities: &[outlier.event_id().clone()],
            current_state: None,
            outlier: true,
            transaction: None,
        })
        .unwrap();

    // It has a place in the stream, for bookkeeping...
    assert!(position > before);
    assert_eq!(store.current_position().unwrap(), position);
    let stored = store.event(outlier.event_id()).unwrap().unwrap();
    assert!(stored.outlier);
    assert_eq!(
        store.state_after(outlier.event_id()).unwrap(),
        Some(outlier_state)
    );
    // ...but the room's state, extremities and timeline do not move.
    assert_eq!(store.current_state(&room.room_id).unwrap(), state_before);
    assert_eq!(
        store.forward_extremities(&room.room_id).unwrap(),
        vec![message.event_id().clone()]
    );
    assert_eq!(
        store
            .rooms_with_membership(&user("bob"), &["join"])
            .unwrap(),
        vec![]
    );
    let after = store
        .room_events_after(&room.room_id, 0, position, 100)
        .unwrap();
    assert!(!ids(&after).contains(outlier.event_id()));
    let before_list = store
        .room_events_before(&room.room_id, position + 1, 100)
        .unwrap();
    assert!(!ids(&before_list).contains(outlier.event_id()));
}

#[test]
fn persisting_an_event_again_changes_nothing() {
    // Events arrive more than once in a federation: a peer retries, and
    // backfill overlaps what get_missing_events already brought.
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let (message, position) = room.message(&store, &alice, "hello");
    let (_, newest) = room.message(&store, &alice, "newer");
    let state = store.current_state(&room.room_id).unwrap();
    let extremities = store.forward_extremities(&room.room_id).unwrap();

    let again = store
        .persist_event(&EventWrite {
            event: &message,
            state_after: &Default::default(),
            forward_extremities: &[],
            current_state: None,
            outlier: true,
            transaction: None,
        })
        .unwrap();
    assert_eq!(again, position);
    assert_eq!(store.current_position().unwrap(), newest);
    assert_eq!(store.current_state(&room.room_id).unwrap(), state);
    assert_eq!(
        store.forward_extremities(&room.room_id).unwrap(),
        extremities
    );
    assert!(!store.event(message.event_id()).unwrap().unwrap().outlier);
}

#[test]
fn a_client_transaction_yields_one_event() {
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let key = TransactionKey {
        user_id: alice.clone(),
        device_id: "PHONE".into(),
        txn_id: "m1".into(),
    };
    assert_eq!(store.transaction_event(&key).unwrap(), None);

    let first = room.build(&alice, "m.room.message", None, json!({"body": "once"}));
    room.persist_with(&store, &first, Some(&key));
    assert_eq!(
        store.transaction_event(&key).unwrap(),
        Some(first.event_id().clone())
    );
    let other_device = TransactionKey {
        device_id: "LAPTOP".into(),
        ..key.clone()
    };
    assert_eq!(store.transaction_event(&other_device).unwrap(), None);

    // A second event claiming the same transaction is refused whole: it is
    // not stored, and the transaction still names the first.
    let duplicate = room.build(&alice, "m.room.message", None, json!({"body": "twice"}));
    let position = store.current_position().unwrap();
    let refused = store.persist_event(&EventWrite {
        event: &duplicate,
        state_after: &room.state,
        forward_extremities: &[duplicate.event_id().clone()],
        current_state: None,
        outlier: false,
        transaction: Some(&key),
    });
    assert!(
        matches!(refused, Err(StoreError::Database(_))),
        "{refused:?}"
    );
    assert_eq!(store.event(duplicate.event_id()).unwrap(), None);
    assert_eq!(store.current_position().unwrap(), position);
    assert_eq!(
        store.forward_extremities(&room.room_id).unwrap(),
        vec![first.event_id().clone()]
    );
    assert_eq!(
        store.transaction_event(&key).unwrap(),
        Some(first.event_id().clone())
    );
}

#[test]
fn forward_extremities_are_replaced_and_sorted() {
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let base = room.extremities.clone();
    let (left, _) = room.message(&store, &alice, "left");
    room.extremities = base;
    let right = room.build(&alice, "m.room.message", None, json!({"body": "right"}));
    let mut both = vec![left.event_id().clone(), right.event_id().clone()];
    store
        .persist_event(&EventWrite {
            event: &right,
            state_after: &room.state,
            forward_extremities: &[both[1].clone(), both[0].clone()],
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .unwrap();
    both.sort();
    assert_eq!(store.forward_extremities(&room.room_id).unwrap(), both);
}
