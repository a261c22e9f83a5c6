//! The graded tests for exercise 5. Each builds a small room of real,
//! signed room v10 events (their IDs are hashes, as on the wire), hands
//! your `backfill` a lookup over them, and checks which events come back,
//! in which order.

#[cfg(not(feature = "reference"))]
use ex05_backfill as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use serde_json::json;
use std::collections::BTreeMap;

const ROOM: &str = "!garden:tomesh.lab";
const OTHER_ROOM: &str = "!orchard:tomesh.lab";

fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        [5; 32],
    )
}

fn room(id: &str) -> RoomId {
    id.parse().expect("a valid room ID")
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

    fn lookup(&self) -> impl Fn(&EventId) -> Option<Pdu> + '_ {
        |id| self.0.get(id).cloned()
    }

    fn backfill(&self, from: &[&Pdu], limit: usize) -> Vec<EventId> {
        self.backfill_in(ROOM, from, limit)
    }

    fn backfill_in(&self, room_id: &str, from: &[&Pdu], limit: usize) -> Vec<EventId> {
        let from: Vec<EventId> = from.iter().map(|e| e.event_id().clone()).collect();
        answer::backfill(&room(room_id), &from, limit, &self.lookup())
    }
}

/// A message that the server does not hold (it is not in any `Held`).
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

/// `first ← A ← B ← D` and `A ← C ← D`: a fork and its merge.
fn diamond(held: &mut Held) -> [Pdu; 5] {
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let b = held.add(ROOM, "B", &[&a]);
    let c = held.add(ROOM, "C", &[&a]);
    let d = held.add(ROOM, "D", &[&b, &c]);
    [first, a, b, c, d]
}

/// B and C, the greater event ID first.
fn tie<'a>(b: &'a Pdu, c: &'a Pdu) -> [&'a Pdu; 2] {
    if b.event_id() > c.event_id() {
        [b, c]
    } else {
        [c, b]
    }
}

#[test]
fn the_given_event_then_its_predecessors_newest_first() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    assert_eq!(held.backfill(&[&m[9]], 3), ids(&[&m[9], &m[8], &m[7]]));
}

#[test]
fn limit_counts_the_given_events_and_zero_gives_nothing() {
    let mut held = Held::default();
    let m = chain(&mut held, 5);
    assert_eq!(held.backfill(&[&m[4]], 1), ids(&[&m[4]]));
    assert_eq!(held.backfill(&[&m[4]], 0), Vec::<EventId>::new());
}

#[test]
fn the_walk_ends_at_the_first_event_of_the_room() {
    let mut held = Held::default();
    let m = chain(&mut held, 6);
    let expected: Vec<&Pdu> = m.iter().rev().collect();
    assert_eq!(held.backfill(&[&m[5]], 100), ids(&expected));
    // From the middle: nothing after the given event comes back.
    assert_eq!(held.backfill(&[&m[2]], 100), ids(&[&m[2], &m[1], &m[0]]));
}

#[test]
fn branches_interleave_by_depth_the_greater_id_first_on_a_tie() {
    let mut held = Held::default();
    let [first, a, b, c, d] = diamond(&mut held);
    let [newer, older] = tie(&b, &c);
    assert_eq!(
        held.backfill(&[&d], 10),
        ids(&[&d, newer, older, &a, &first])
    );
    assert_eq!(held.backfill(&[&d], 2), ids(&[&d, newer]));
}

#[test]
fn deepest_first_even_when_one_branch_is_longer() {
    // first ← A ← L1 ← L2 ← L3 ← M and A ← S1 ← M: S1 is as deep as L1,
    // so it comes after L3 and L2, next to L1.
    let mut held = Held::default();
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let l1 = held.add(ROOM, "L1", &[&a]);
    let l2 = held.add(ROOM, "L2", &[&l1]);
    let l3 = held.add(ROOM, "L3", &[&l2]);
    let s1 = held.add(ROOM, "S1", &[&a]);
    let m = held.add(ROOM, "M", &[&l3, &s1]);
    let [x, y] = tie(&l1, &s1);
    assert_eq!(
        held.backfill(&[&m], 10),
        ids(&[&m, &l3, &l2, x, y, &a, &first])
    );
}

#[test]
fn every_event_once_after_a_merge() {
    let mut held = Held::default();
    let [first, a, b, c, d] = diamond(&mut held);
    let mut answer = held.backfill(&[&d], 100);
    assert_eq!(answer.len(), 5, "{answer:?}");
    answer.sort();
    let mut all = ids(&[&first, &a, &b, &c, &d]);
    all.sort();
    assert_eq!(answer, all);
}

#[test]
fn several_starting_events_share_their_history() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    // The peer's edge is at two events; m[5] is also m[8]'s ancestor.
    assert_eq!(
        held.backfill(&[&m[5], &m[8]], 5),
        ids(&[&m[8], &m[7], &m[6], &m[5], &m[4]])
    );
    // The same event twice is still one event.
    assert_eq!(held.backfill(&[&m[3], &m[3]], 2), ids(&[&m[3], &m[2]]));
}

#[test]
fn starting_events_we_do_not_hold_are_skipped() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let never = unheld(ROOM, "never received", &[&m[3]]);
    assert_eq!(held.backfill(&[&never], 10), Vec::<EventId>::new());
    assert_eq!(
        held.backfill(&[&never, &m[2]], 10),
        ids(&[&m[2], &m[1], &m[0]])
    );
}

#[test]
fn a_parent_we_do_not_hold_ends_its_branch_only() {
    // first ← A ← (X, missing) ← B ← D and A ← C ← D: B's branch stops at
    // the hole; C's goes on to A and first.
    let mut held = Held::default();
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let x = unheld(ROOM, "X, lost", &[&a]);
    let b = held.add(ROOM, "B", &[&x]);
    let c = held.add(ROOM, "C", &[&a]);
    let d = held.add(ROOM, "D", &[&b, &c]);
    let answer = held.backfill(&[&d], 10);
    assert!(!answer.contains(x.event_id()), "{answer:?}");
    assert_eq!(answer.len(), 5, "{answer:?}");
    assert_eq!(answer[0], *d.event_id());
    assert_eq!(answer[3..], ids(&[&a, &first]));
}

#[test]
fn events_of_another_room_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 3);
    let elsewhere = held.add(OTHER_ROOM, "elsewhere", &[]);
    let further = held.add(OTHER_ROOM, "further", &[&elsewhere]);
    // Asked for our room, starting at an event of the other room.
    assert_eq!(held.backfill(&[&further], 10), Vec::<EventId>::new());
    assert_eq!(
        held.backfill(&[&further, &m[2]], 10),
        ids(&[&m[2], &m[1], &m[0]])
    );
    // A forged event of our room whose parents reach into the other room:
    // the walk neither returns nor walks through them.
    let forged = held.add(ROOM, "forged", &[&m[2], &further]);
    assert_eq!(
        held.backfill(&[&forged], 10),
        ids(&[&forged, &m[2], &m[1], &m[0]])
    );
    // The other room asked for by name is walked as usual.
    assert_eq!(
        held.backfill_in(OTHER_ROOM, &[&further], 10),
        ids(&[&further, &elsewhere])
    );
}
