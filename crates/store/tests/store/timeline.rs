//! Reading a room's timeline in stream order: forwards for `/sync`,
//! backwards for `/messages`.

use crate::common::{TestRoom, ids, new_store, user};
use lostfound_protocol::ids::EventId;
use lostfound_store::Store;

/// Two interleaved rooms; returns hypha's message IDs and positions.
fn two_rooms(store: &dyn Store) -> (TestRoom, Vec<(EventId, i64)>) {
    let alice = user("alice");
    let mut hypha = TestRoom::create(store, "hypha", &alice);
    let mut mesh = TestRoom::create(store, "mesh", &alice);
    let mut messages = Vec::new();
    for n in 0..5 {
        let (event, position) = hypha.message(store, &alice, &format!("hypha {n}"));
        messages.push((event.event_id().clone(), position));
        mesh.message(store, &alice, &format!("mesh {n}"));
    }
    (hypha, messages)
}

#[test]
fn an_empty_store_is_at_position_zero() {
    let (_dir, store) = new_store();
    assert_eq!(store.current_position().unwrap(), 0);
}

#[test]
fn forwards_is_oldest_first_between_two_positions() {
    let (_dir, store) = new_store();
    let (hypha, messages) = two_rooms(&store);
    let (after, up_to) = (messages[0].1, messages[3].1);

    // `after` is excluded, `up_to` included, other rooms never appear.
    let events = store
        .room_events_after(&hypha.room_id, after, up_to, 100)
        .unwrap();
    let expected: Vec<EventId> = messages[1..=3].iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids(&events), expected);
    assert!(
        events
            .windows(2)
            .all(|pair| pair[0].position < pair[1].position)
    );

    // A limit keeps the oldest: /sync continues from the last one it got.
    let limited = store
        .room_events_after(&hypha.room_id, after, up_to, 2)
        .unwrap();
    assert_eq!(ids(&limited), expected[..2]);
    assert!(
        store
            .room_events_after(&hypha.room_id, up_to, up_to, 100)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn backwards_is_newest_first_before_a_position() {
    let (_dir, store) = new_store();
    let (hypha, messages) = two_rooms(&store);
    let before = messages[4].1;

    // A limit keeps the newest: the ones just above where the client is.
    let events = store.room_events_before(&hypha.room_id, before, 3).unwrap();
    let expected: Vec<EventId> = messages[1..=3]
        .iter()
        .rev()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(ids(&events), expected);

    // Paging on to the start of the room: the create event comes last.
    let all = store
        .room_events_before(&hypha.room_id, before, 100)
        .unwrap();
    assert_eq!(all.len(), 4 + 2);
    assert_eq!(all.last().unwrap().event.event_type(), "m.room.create");
    assert!(
        store
            .room_events_before(&hypha.room_id, 1, 100)
            .unwrap()
            .is_empty()
    );
}
