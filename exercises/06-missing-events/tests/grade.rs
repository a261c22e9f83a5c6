//! The graded tests for exercise 6. Each builds a small room of real,
//! signed room v10 events (their IDs are hashes, as on the wire), hands
//! your `get_missing_events` a lookup over them, and checks which events
//! come back, and that parents come before children.

#[cfg(not(feature = "reference"))]
use ex06_missing_events as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const ROOM: &str = "!garden:tomesh.lab";
const OTHER_ROOM: &str = "!orchard:tomesh.lab";

fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        [6; 32],
    )
}

fn room(id: &str) -> RoomId {
    id.parse().expect("a valid room ID")
}

/// A question to `get_missing_events`, with the defaults of a plain one.
struct Ask<'a> {
    room: &'a str,
    earliest: Vec<&'a Pdu>,
    latest: Vec<&'a Pdu>,
    limit: usize,
    min_depth: u64,
}

fn ask<'a>(earliest: &[&'a Pdu], latest: &[&'a Pdu]) -> Ask<'a> {
    Ask {
        room: ROOM,
        earliest: earliest.to_vec(),
        latest: latest.to_vec(),
        limit: 100,
        min_depth: 0,
    }
}

/// The events a server holds, by ID: what `lookup` answers from.
#[derive(Default)]
struct Held(BTreeMap<EventId, Pdu>);

impl Held {
    /// A message in `room_id` after `prev`, one deeper than its deepest
    /// parent, held by the server.
    fn add(&mut self, room_id: &str, body: &str, prev: &[&Pdu]) -> Pdu {
        let event = unheld(room_id, body, prev);
        self.0.insert(event.event_id().clone(), event.clone());
        event
    }

    /// Your answer, after checking that it lists parents before children
    /// and no event twice.
    fn missing(&self, question: Ask<'_>) -> Vec<EventId> {
        let earliest = ids(&question.earliest);
        let latest = ids(&question.latest);
        let lookup = |id: &EventId| self.0.get(id).cloned();
        let answer = answer::get_missing_events(
            &room(question.room),
            &earliest,
            &latest,
            question.limit,
            question.min_depth,
            &lookup,
        );
        self.assert_parents_first(&answer);
        answer
    }

    fn assert_parents_first(&self, answer: &[EventId]) {
        let position: BTreeMap<&EventId, usize> =
            answer.iter().enumerate().map(|(at, id)| (id, at)).collect();
        assert_eq!(position.len(), answer.len(), "an event twice in {answer:?}");
        for (at, id) in answer.iter().enumerate() {
            let Some(event) = self.0.get(id) else {
                continue;
            };
            for parent in event.prev_events() {
                if let Some(parent_at) = position.get(parent) {
                    assert!(
                        *parent_at < at,
                        "{id} (at {at}) comes before its parent {parent} (at {parent_at}) in {answer:?}"
                    );
                }
            }
        }
    }
}

/// A message that the server does not hold.
fn unheld(room_id: &str, body: &str, prev: &[&Pdu]) -> Pdu {
    let depth = prev.iter().map(|event| event.depth()).max().unwrap_or(0) + 1;
    PduBuilder::new(
        room(room_id),
        "@ada:tomesh.lab".parse().expect("a valid user ID"),
        "m.room.message",
        json!({"msgtype": "m.text", "body": body}),
    )
    .depth(depth)
    .origin_server_ts(1_610_000_000_000 + depth)
    .prev_events(prev.iter().map(|event| event.event_id().clone()))
    .sign(&key())
    .expect("the test event signs")
}

fn ids(events: &[&Pdu]) -> Vec<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}

fn set(ids: &[EventId]) -> BTreeSet<EventId> {
    ids.iter().cloned().collect()
}

fn set_of(events: &[&Pdu]) -> BTreeSet<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}

/// A line of `count` events in ROOM, the first with no parents.
fn chain(held: &mut Held, count: usize) -> Vec<Pdu> {
    let mut events: Vec<Pdu> = Vec::new();
    for n in 0..count {
        let prev: Vec<&Pdu> = events.last().into_iter().collect();
        let event = held.add(ROOM, &format!("event {n}"), &prev);
        events.push(event);
    }
    events
}

#[test]
fn the_events_between_earliest_and_latest_oldest_first() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let answer = held.missing(ask(&[&m[2]], &[&m[9]]));
    let between: Vec<&Pdu> = m[3..9].iter().collect();
    assert_eq!(answer, ids(&between));
}

#[test]
fn a_limit_keeps_the_events_next_to_latest() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let question = Ask {
        limit: 3,
        ..ask(&[&m[0]], &[&m[9]])
    };
    assert_eq!(held.missing(question), ids(&[&m[6], &m[7], &m[8]]));
    let nothing = Ask {
        limit: 0,
        ..ask(&[&m[0]], &[&m[9]])
    };
    assert_eq!(held.missing(nothing), Vec::<EventId>::new());
}

#[test]
fn min_depth_stops_the_walk() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let question = Ask {
        min_depth: m[5].depth(),
        ..ask(&[], &[&m[9]])
    };
    assert_eq!(held.missing(question), ids(&[&m[5], &m[6], &m[7], &m[8]]));
}

#[test]
fn without_earliest_the_walk_reaches_the_first_event() {
    let mut held = Held::default();
    let m = chain(&mut held, 5);
    let answer = held.missing(ask(&[], &[&m[4]]));
    assert_eq!(answer, ids(&[&m[0], &m[1], &m[2], &m[3]]));
}

#[test]
fn breadth_first_across_branches() {
    // first ← A ← L1 ← L2 ← D and A ← S1 ← D, D naming [L2, S1]. With a
    // limit of 3, breadth first finds L2 and S1 (one step from D), then
    // L1 (two steps); depth first would go L2, L1, A.
    let mut held = Held::default();
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let l1 = held.add(ROOM, "L1", &[&a]);
    let l2 = held.add(ROOM, "L2", &[&l1]);
    let s1 = held.add(ROOM, "S1", &[&a]);
    let d = held.add(ROOM, "D", &[&l2, &s1]);
    let question = Ask {
        limit: 3,
        ..ask(&[&first], &[&d])
    };
    assert_eq!(set(&held.missing(question)), set_of(&[&l2, &s1, &l1]));
    let question = Ask {
        limit: 1,
        ..ask(&[&first], &[&d])
    };
    assert_eq!(held.missing(question), ids(&[&l2]));
    // Unlimited: both branches, A once, and not `first` (an earliest).
    let answer = held.missing(ask(&[&first], &[&d]));
    assert_eq!(set(&answer), set_of(&[&a, &l1, &l2, &s1]));
    assert_eq!(answer[0], *a.event_id());
}

#[test]
fn an_earliest_event_stops_only_its_own_branch() {
    // first ← A ← B ← D and A ← C ← D; the peer holds B but not C.
    let mut held = Held::default();
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let b = held.add(ROOM, "B", &[&a]);
    let c = held.add(ROOM, "C", &[&a]);
    let d = held.add(ROOM, "D", &[&b, &c]);
    assert_eq!(held.missing(ask(&[&a], &[&d])).len(), 2);
    assert_eq!(set(&held.missing(ask(&[&a], &[&d]))), set_of(&[&b, &c]));
    assert_eq!(held.missing(ask(&[&b], &[&d])), ids(&[&first, &a, &c]));
}

#[test]
fn latest_events_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    // m[6] is a latest event too, and lies on m[9]'s way back.
    let answer = held.missing(ask(&[&m[2]], &[&m[9], &m[6]]));
    assert_eq!(set(&answer), set_of(&[&m[3], &m[4], &m[5], &m[7], &m[8]]));
}

#[test]
fn latest_events_we_do_not_hold_give_nothing() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let never = unheld(ROOM, "never received", &[&m[3]]);
    assert_eq!(held.missing(ask(&[], &[&never])), Vec::<EventId>::new());
}

#[test]
fn a_hole_in_our_copy_ends_the_walk_there() {
    // m[4] was never received here: the walk from m[9] stops at it.
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    held.0.remove(m[4].event_id());
    let answer = held.missing(ask(&[&m[0]], &[&m[9]]));
    assert_eq!(answer, ids(&[&m[5], &m[6], &m[7], &m[8]]));
}

#[test]
fn events_of_another_room_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let elsewhere = held.add(OTHER_ROOM, "elsewhere", &[]);
    let further = held.add(OTHER_ROOM, "further", &[&elsewhere]);
    let latest_elsewhere = held.add(OTHER_ROOM, "latest", &[&further]);
    // Asked for our room, with a latest event of the other room.
    assert_eq!(
        held.missing(ask(&[], &[&latest_elsewhere])),
        Vec::<EventId>::new()
    );
    // A forged event of our room naming an event of the other room: the
    // walk neither returns nor walks through it.
    let forged = held.add(ROOM, "forged", &[&m[3], &further]);
    let after = held.add(ROOM, "after", &[&forged]);
    assert_eq!(
        held.missing(ask(&[&m[1]], &[&after])),
        ids(&[&m[2], &m[3], &forged])
    );
    // The other room asked for by name is walked as usual.
    let question = Ask {
        room: OTHER_ROOM,
        ..ask(&[], &[&latest_elsewhere])
    };
    assert_eq!(held.missing(question), ids(&[&elsewhere, &further]));
}
