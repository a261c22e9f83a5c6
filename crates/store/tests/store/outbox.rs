//! The federation outbox: queued per destination, in order, until acknowledged.

use crate::common::{TestRoom, new_store, user};
use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_store::{Store, StoreError};

fn server(name: &str) -> ServerName {
    name.parse().unwrap()
}

#[test]
fn each_destination_gets_its_events_in_order_until_it_acknowledges() {
    let (_dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    let events: Vec<EventId> = (0..4)
        .map(|n| {
            room.message(&store, &alice, &format!("m{n}"))
                .0
                .event_id()
                .clone()
        })
        .collect();
    let (bob, carol) = (server("bob.lab"), server("carol.lab"));
    assert!(store.outgoing_destinations().unwrap().is_empty());

    for event in &events {
        store.enqueue_outgoing(&carol, event).unwrap();
        store.enqueue_outgoing(&bob, event).unwrap();
    }
    store.enqueue_outgoing(&bob, &events[0]).unwrap(); // queued once only
    assert_eq!(
        store.outgoing_destinations().unwrap(),
        vec![bob.clone(), carol.clone()]
    );

    let queued = store.outgoing(&bob, 10).unwrap();
    let queued_ids: Vec<EventId> = queued.iter().map(|entry| entry.event_id.clone()).collect();
    assert_eq!(queued_ids, events);
    assert!(queued.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(store.outgoing(&bob, 2).unwrap(), queued[..2]);

    // Bob acknowledges a transaction of the first three.
    store.acknowledge_outgoing(&bob, queued[2].id).unwrap();
    assert_eq!(store.outgoing(&bob, 10).unwrap(), queued[3..]);
    assert_eq!(
        store.outgoing(&carol, 10).unwrap().len(),
        4,
        "carol's queue is hers"
    );

    store.acknowledge_outgoing(&bob, queued[3].id).unwrap();
    assert_eq!(store.outgoing_destinations().unwrap(), vec![carol]);
}

#[test]
fn only_stored_events_can_be_queued() {
    let (_dir, store) = new_store();
    let mut room = TestRoom::new("hypha");
    let unknown = room.build(
        &user("alice"),
        "m.room.message",
        None,
        serde_json::json!({}),
    );
    let refused = store.enqueue_outgoing(&server("bob.lab"), unknown.event_id());
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
}
