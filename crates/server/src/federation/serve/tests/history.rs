//! `backfill` and `get_missing_events`: which events, in which order, and
//! where the walks stop.

use super::{TestRoom, ids, new_store};
use crate::federation::serve::history::{MAX_LIMIT, backfill, get_missing_events};
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_store::{EventWrite, Store};
use serde_json::json;

/// A room with `count` messages after its create and join events.
fn chat(store: &dyn Store, count: usize) -> (TestRoom, Vec<Pdu>) {
    let mut room = TestRoom::create(store, "chat", true);
    let messages = (1..=count)
        .map(|n| room.message(store, &format!("message {n}")))
        .collect();
    (room, messages)
}

/// A fork and its merge:
///
/// ```text
///   create ← join ← A ← B ← D
///                    ↖ C ↙
/// ```
fn diamond(store: &dyn Store) -> (TestRoom, [Pdu; 4]) {
    let mut room = TestRoom::create(store, "diamond", true);
    let a = room.message(store, "A");
    let text = |body: &str| json!({"msgtype": "m.text", "body": body});
    let a_id = [a.event_id().clone()];
    let b = room.send_on(store, &a_id, "m.room.message", None, text("B"));
    let c = room.send_on(store, &a_id, "m.room.message", None, text("C"));
    let merge = [b.event_id().clone(), c.event_id().clone()];
    let d = room.send_on(store, &merge, "m.room.message", None, text("D"));
    (room, [a, b, c, d])
}

fn id(event: &Pdu) -> EventId {
    event.event_id().clone()
}

#[test]
fn backfill_returns_the_given_events_then_their_predecessors_newest_first() {
    let (_dir, store) = new_store();
    let (_room, messages) = chat(&store, 10);
    let from = [id(&messages[9])];
    // `limit` counts the starting event: a peer scrolling back from
    // message 10 gets it and the two before it.
    let events = backfill(&store, &messages[0].room_id().clone(), &from, 3).unwrap();
    assert_eq!(
        ids(&events),
        ids(&[
            messages[9].clone(),
            messages[8].clone(),
            messages[7].clone()
        ])
    );
}

#[test]
fn backfill_ends_at_the_create_event() {
    let (_dir, store) = new_store();
    let (room, messages) = chat(&store, 3);
    let events = backfill(&store, &room.room_id, &[id(&messages[2])], 50).unwrap();
    let types: Vec<&str> = events.iter().map(Pdu::event_type).collect();
    assert_eq!(
        types,
        [
            "m.room.message",
            "m.room.message",
            "m.room.message",
            "m.room.member",
            "m.room.create"
        ]
    );
}

#[test]
fn backfill_interleaves_branches_by_depth() {
    let (_dir, store) = new_store();
    let (room, [a, b, c, d]) = diamond(&store);
    let events = backfill(&store, &room.room_id, &[id(&d)], 4).unwrap();
    // B and C share a depth: the one stored later (C) comes first. Both
    // come before A, whichever branch reached A first.
    assert_eq!(ids(&events), [id(&d), id(&c), id(&b), id(&a)]);

    // Starting from both branch tips works the same way, and an event is
    // never returned twice.
    let events = backfill(&store, &room.room_id, &[id(&b), id(&c), id(&b)], 10).unwrap();
    assert_eq!(ids(&events)[..3], [id(&c), id(&b), id(&a)]);
    assert_eq!(events.len(), 5, "C, B, A, join, create");
}

#[test]
fn backfill_skips_what_it_does_not_hold_or_may_not_show() {
    let (_dir, store) = new_store();
    let (mut room, messages) = chat(&store, 2);
    let (other_room, other) = {
        let mut other = TestRoom::create(&store, "other", true);
        let message = other.message(&store, "elsewhere");
        (other, message)
    };
    let never_sent = room.build_on(
        &[id(&messages[1])],
        &super::alice(),
        "m.room.message",
        None,
        json!({}),
    );

    // Unknown events and events of another room are skipped, not errors.
    let from = [id(&never_sent), id(&other), id(&messages[1])];
    let events = backfill(&store, &room.room_id, &from, 2).unwrap();
    assert_eq!(ids(&events), [id(&messages[1]), id(&messages[0])]);
    assert!(
        backfill(&store, &room.room_id, &[id(&never_sent)], 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        backfill(&store, &other_room.room_id, &[id(&messages[1])], 10)
            .unwrap()
            .is_empty()
    );

    // An outlier has no place in our timeline: it is not history we serve.
    store
        .persist_event(&EventWrite {
            event: &never_sent,
            state_after: &room.states[&id(&messages[1])],
            forward_extremities: &[id(&messages[1])],
            current_state: None,
            outlier: true,
            transaction: None,
        })
        .unwrap();
    assert!(
        backfill(&store, &room.room_id, &[id(&never_sent)], 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        backfill(&store, &room.room_id, &[id(&messages[1])], 0)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn backfill_answers_at_most_max_limit_events() {
    let (_dir, store) = new_store();
    let (room, messages) = chat(&store, MAX_LIMIT + 5);
    let from = [id(messages.last().unwrap())];
    let events = backfill(&store, &room.room_id, &from, 1_000).unwrap();
    assert_eq!(events.len(), MAX_LIMIT);
}

#[test]
fn missing_events_lie_between_earliest_and_latest_oldest_first() {
    let (_dir, store) = new_store();
    let (room, m) = chat(&store, 10);
    // The peer holds message 3 and just received message 10.
    let events =
        get_missing_events(&store, &room.room_id, &[id(&m[2])], &[id(&m[9])], 10, 0).unwrap();
    assert_eq!(ids(&events), ids(&m[3..9]));
}

#[test]
fn a_limit_keeps_the_events_next_to_latest() {
    let (_dir, store) = new_store();
    let (room, m) = chat(&store, 10);
    let events =
        get_missing_events(&store, &room.room_id, &[id(&m[0])], &[id(&m[9])], 3, 0).unwrap();
    assert_eq!(ids(&events), ids(&m[6..9]));
}

#[test]
fn min_depth_stops_the_walk() {
    let (_dir, store) = new_store();
    let (room, m) = chat(&store, 10);
    let min_depth = m[5].depth();
    let events =
        get_missing_events(&store, &room.room_id, &[], &[id(&m[9])], 10, min_depth).unwrap();
    assert_eq!(ids(&events), ids(&m[5..9]));
}

#[test]
fn an_earliest_event_stops_only_its_own_branch() {
    let (_dir, store) = new_store();
    let (room, [a, b, c, d]) = diamond(&store);
    let events = get_missing_events(&store, &room.room_id, &[id(&a)], &[id(&d)], 10, 0).unwrap();
    // Parents before children; B and C tie, and B is older.
    assert_eq!(ids(&events), [id(&b), id(&c)]);

    // The peer holds B but not C: C's branch is walked back to the create
    // event, B's is not.
    let events = get_missing_events(&store, &room.room_id, &[id(&b)], &[id(&d)], 10, 0).unwrap();
    let types: Vec<&str> = events.iter().map(Pdu::event_type).collect();
    assert_eq!(
        types,
        [
            "m.room.create",
            "m.room.member",
            "m.room.message",
            "m.room.message"
        ]
    );
    assert_eq!(ids(&events)[2..], [id(&a), id(&c)]);
}

#[test]
fn unknown_latest_events_and_other_rooms_give_nothing() {
    let (_dir, store) = new_store();
    let (mut room, m) = chat(&store, 3);
    let other = TestRoom::create(&store, "other", true);
    let never_sent = room.build_on(
        &[id(&m[2])],
        &super::alice(),
        "m.room.message",
        None,
        json!({}),
    );
    let none = get_missing_events(&store, &room.room_id, &[], &[id(&never_sent)], 10, 0).unwrap();
    assert!(none.is_empty());
    let none = get_missing_events(&store, &other.room_id, &[], &[id(&m[2])], 10, 0).unwrap();
    assert!(none.is_empty());
}

/// The pure walks the exercises' reference answers call
/// (`crate::hooks::reference`) answer as the store's, over a lookup of
/// the store's timeline events.
#[test]
fn the_pure_walks_agree_with_the_store_walks() {
    use crate::hooks::reference;
    let (_dir, store) = new_store();
    let (room, [a, _b, _c, d]) = diamond(&store);
    let (other, m) = chat(&store, 4);
    let lookup = |event_id: &EventId| store.event(event_id).unwrap().map(|s| s.event);

    let from = [id(&d)];
    let stored = backfill(&store, &room.room_id, &from, 3).unwrap();
    let pure = reference::backfill(&room.room_id, &from, 3, &lookup);
    // D first; B and C tie on depth, so only the set is compared.
    assert_eq!(pure[0], id(&d));
    let mut stored_ids = ids(&stored);
    let mut pure_ids = pure.clone();
    stored_ids.sort();
    pure_ids.sort();
    assert_eq!(pure_ids, stored_ids);
    // Another room's events are never walked into.
    assert!(reference::backfill(&other.room_id, &from, 10, &lookup).is_empty());

    let stored = get_missing_events(&store, &room.room_id, &[id(&a)], &[id(&d)], 10, 0).unwrap();
    let pure = reference::get_missing_events(&room.room_id, &[id(&a)], &[id(&d)], 10, 0, &lookup);
    assert_eq!(pure, ids(&stored));
    let pure = reference::get_missing_events(&other.room_id, &[], &[id(&m[3])], 2, 0, &lookup);
    assert_eq!(pure, ids(&m[1..3]));
}
