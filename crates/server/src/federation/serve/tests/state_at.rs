//! `state_ids`, `state` and `event_auth`: the state *before* an event, and
//! auth chains.

use super::{TestRoom, alice, ids, new_store};
use crate::federation::serve::ServeError;
use crate::federation::serve::state_at::{event_auth, state, state_before, state_ids};
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::slot;
use lostfound_store::{EventWrite, Store};
use serde_json::json;
use std::collections::BTreeSet;

fn id(event: &Pdu) -> EventId {
    event.event_id().clone()
}

fn set(events: impl IntoIterator<Item = EventId>) -> BTreeSet<EventId> {
    events.into_iter().collect()
}

/// A room with a topic, then a message, then a new topic.
fn topics(store: &dyn Store) -> (TestRoom, [Pdu; 3]) {
    let mut room = TestRoom::create(store, "topics", true);
    let tip = [room.tip.clone()];
    let first = room.send_on(
        store,
        &tip,
        "m.room.topic",
        Some(""),
        json!({"topic": "one"}),
    );
    let message = room.message(store, "hello");
    let tip = [room.tip.clone()];
    let second = room.send_on(
        store,
        &tip,
        "m.room.topic",
        Some(""),
        json!({"topic": "two"}),
    );
    (room, [first, message, second])
}

#[test]
fn the_state_before_an_event_excludes_the_event_itself() {
    let (_dir, store) = new_store();
    let (room, [first, message, second]) = topics(&store);
    let topic = slot("m.room.topic", "");
    // Before the message: the first topic. Before the second topic: still
    // the first; the second topic is in the state only *after* itself.
    let before_message = state_before(&store, &room.room_id, &id(&message)).unwrap();
    assert_eq!(before_message[&topic], id(&first));
    let before_second = state_before(&store, &room.room_id, &id(&second)).unwrap();
    assert_eq!(before_second, before_message);
    assert_eq!(room.states[&id(&second)][&topic], id(&second));

    // The create event comes first: nothing before it.
    let create = &room.states[&id(&first)][&slot("m.room.create", "")];
    assert!(
        state_before(&store, &room.room_id, create)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn state_ids_comes_with_the_auth_chain_of_the_state() {
    let (_dir, store) = new_store();
    let (room, [first, message, _]) = topics(&store);
    let answer = state_ids(&store, &room.room_id, &id(&message)).unwrap();
    let first_state = &room.states[&id(&first)];
    let create = first_state[&slot("m.room.create", "")].clone();
    let join = first_state[&slot("m.room.member", alice().as_str())].clone();
    assert_eq!(
        set(answer.pdu_ids.clone()),
        set([create.clone(), join.clone(), id(&first)])
    );
    // The topic is authorised by the create event and Alice's join; the
    // join by the create event; the create event by nothing.
    assert_eq!(set(answer.auth_chain_ids.clone()), set([create, join]));

    // `state` is the same answer, with the events themselves.
    let full = state(&store, &room.room_id, &id(&message)).unwrap();
    assert_eq!(ids(&full.pdus), answer.pdu_ids);
    assert_eq!(ids(&full.auth_chain), answer.auth_chain_ids);
    assert_eq!(
        full.auth_chain[0].event_type(),
        "m.room.create",
        "sorted by depth"
    );
}

#[test]
fn a_merge_resolves_the_states_of_its_parents() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::create(&store, "fork", true);
    let tip = [room.tip.clone()];
    // Two branches each set a different piece of state; the merging event
    // sees both.
    let topic = room.send_on(
        &store,
        &tip,
        "m.room.topic",
        Some(""),
        json!({"topic": "t"}),
    );
    let name = room.send_on(&store, &tip, "m.room.name", Some(""), json!({"name": "n"}));
    let merge = [id(&topic), id(&name)];
    let avatar = room.send_on(
        &store,
        &merge,
        "m.room.avatar",
        Some(""),
        json!({"url": "mxc://a.lab/x"}),
    );
    let before = state_before(&store, &room.room_id, &id(&avatar)).unwrap();
    assert_eq!(before[&slot("m.room.topic", "")], id(&topic));
    assert_eq!(before[&slot("m.room.name", "")], id(&name));
    assert!(!before.contains_key(&slot("m.room.avatar", "")));
}

#[test]
fn event_auth_is_the_auth_chain_of_one_event() {
    let (_dir, store) = new_store();
    let (room, [first, message, _]) = topics(&store);
    let chain = event_auth(&store, &room.room_id, &id(&message)).unwrap();
    let state = &room.states[&id(&first)];
    let expected = [
        state[&slot("m.room.create", "")].clone(),
        state[&slot("m.room.member", alice().as_str())].clone(),
    ];
    assert_eq!(ids(&chain), expected);
}

#[test]
fn unknown_events_events_of_other_rooms_and_outliers_are_refused() {
    let (_dir, store) = new_store();
    let (mut room, [_, message, _]) = topics(&store);
    let other = TestRoom::create(&store, "other", true);
    let tip = [room.tip.clone()];
    let never_sent = room.build_on(&tip, &alice(), "m.room.message", None, json!({}));

    let unknown = state_ids(&store, &room.room_id, &id(&never_sent));
    assert!(
        matches!(unknown, Err(ServeError::UnknownEvent { .. })),
        "{unknown:?}"
    );
    let elsewhere = state_ids(&store, &other.room_id, &id(&message));
    assert!(
        matches!(elsewhere, Err(ServeError::UnknownEvent { .. })),
        "{elsewhere:?}"
    );
    let elsewhere = event_auth(&store, &other.room_id, &id(&message));
    assert!(
        matches!(elsewhere, Err(ServeError::UnknownEvent { .. })),
        "{elsewhere:?}"
    );

    // Held as an outlier: we can serve its auth chain, not the state at it.
    store
        .persist_event(&EventWrite {
            event: &never_sent,
            state_after: &room.states[&tip[0]],
            forward_extremities: &tip,
            current_state: None,
            outlier: true,
            transaction: None,
        })
        .unwrap();
    let outlier = state_ids(&store, &room.room_id, &id(&never_sent));
    assert!(
        matches!(outlier, Err(ServeError::StateUnknown(_))),
        "{outlier:?}"
    );
    assert_eq!(
        event_auth(&store, &room.room_id, &id(&never_sent))
            .unwrap()
            .len(),
        2
    );
}
