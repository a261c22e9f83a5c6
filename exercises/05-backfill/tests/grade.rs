//! The graded tests for exercise 5. Each builds a small room of real,
//! signed room v10 events (their IDs are hashes, as on the wire), hands
//! your `backfill` a lookup over them, and checks which events come back,
//! in which order. Failure messages show the names the test gave the
//! events ("first", "A", "event 9"), not their IDs.

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

/// The events a server holds, and the name the test gave every event it
/// built, held or not: answers are shown and compared by names, because a
/// 43-character event ID tells a student nothing about which event it is.
#[derive(Default)]
struct Held {
    /// What `lookup` answers from.
    events: BTreeMap<EventId, Pdu>,
    /// Unique within a test, so comparing names is comparing events.
    names: BTreeMap<EventId, String>,
}

impl Held {
    /// A message in `room_id` after `prev`, one deeper than its deepest
    /// parent, held by the server and named by its body.
    fn add(&mut self, room_id: &str, body: &str, prev: &[&Pdu]) -> Pdu {
        let event = self.unheld(room_id, body, prev);
        self.events.insert(event.event_id().clone(), event.clone());
        event
    }

    /// A message that the server does not hold, named by its body.
    fn unheld(&mut self, room_id: &str, body: &str, prev: &[&Pdu]) -> Pdu {
        let event = message(room_id, body, prev);
        let clash = self.names.values().any(|name| name == body);
        assert!(!clash, "the test names two events {body:?}");
        self.names.insert(event.event_id().clone(), body.to_owned());
        event
    }

    fn name(&self, event: &Pdu) -> &str {
        &self.names[event.event_id()]
    }

    /// The names of `ids`, in order; an ID the test never built shows as
    /// itself.
    fn names(&self, ids: &[EventId]) -> Vec<String> {
        ids.iter()
            .map(|id| match self.names.get(id) {
                Some(name) => name.clone(),
                None => format!("<an event this test never built: {id}>"),
            })
            .collect()
    }

    /// Your answer, by names.
    fn backfill(&self, from: &[&Pdu], limit: usize) -> Vec<String> {
        self.backfill_in(ROOM, from, limit)
    }

    fn backfill_in(&self, room_id: &str, from: &[&Pdu], limit: usize) -> Vec<String> {
        let from: Vec<EventId> = from.iter().map(|e| e.event_id().clone()).collect();
        let lookup = |id: &EventId| self.events.get(id).cloned();
        self.names(&answer::backfill(&room(room_id), &from, limit, &lookup))
    }
}

/// A signed message in `room_id` after `prev`, one deeper than its deepest
/// parent.
fn message(room_id: &str, body: &str, prev: &[&Pdu]) -> Pdu {
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

/// A line of `count` events in ROOM, the first with no parents; `m[n]` is
/// named "event n".
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

const NOTHING: [&str; 0] = [];

#[test]
fn the_given_event_then_its_predecessors_newest_first() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let answer = held.backfill(&[&m[9]], 3);
    assert_eq!(
        answer,
        ["event 9", "event 8", "event 7"],
        "in the line event 0 <- ... <- event 9, from event 9 with limit 3: expected event 9 \
         itself, then its predecessors newest first; your backfill returned {answer:?}"
    );
}

#[test]
fn limit_counts_the_given_events_and_zero_gives_nothing() {
    let mut held = Held::default();
    let m = chain(&mut held, 5);
    let answer = held.backfill(&[&m[4]], 1);
    assert_eq!(
        answer,
        ["event 4"],
        "from event 4 with limit 1: the given event counts towards the limit, so expected \
         event 4 only; your backfill returned {answer:?}"
    );
    let answer = held.backfill(&[&m[4]], 0);
    assert_eq!(
        answer, NOTHING,
        "from event 4 with limit 0: expected nothing; your backfill returned {answer:?}"
    );
}

#[test]
fn the_walk_ends_at_the_first_event_of_the_room() {
    let mut held = Held::default();
    let m = chain(&mut held, 6);
    let answer = held.backfill(&[&m[5]], 100);
    assert_eq!(
        answer,
        [
            "event 5", "event 4", "event 3", "event 2", "event 1", "event 0"
        ],
        "in the line event 0 <- ... <- event 5, from event 5 with limit 100: expected the \
         whole line newest first, ending at event 0 (it has no parents); \
         your backfill returned {answer:?}"
    );
    // From the middle: nothing after the given event comes back.
    let answer = held.backfill(&[&m[2]], 100);
    assert_eq!(
        answer,
        ["event 2", "event 1", "event 0"],
        "from event 2 with limit 100: expected event 2, event 1, event 0 (nothing after \
         event 2); your backfill returned {answer:?}"
    );
}

#[test]
fn branches_interleave_by_depth_the_greater_id_first_on_a_tie() {
    let mut held = Held::default();
    let [_, _, b, c, d] = diamond(&mut held);
    let [newer, older] = tie(&b, &c);
    let (newer, older) = (held.name(newer), held.name(older));
    let answer = held.backfill(&[&d], 10);
    assert_eq!(
        answer,
        ["D", newer, older, "A", "first"],
        "first <- A <- B <- D and A <- C <- D, from D with limit 10: expected newest \
         (deepest) first: D, then B and C (equal depth: the greater event ID first, here \
         {newer}), then A, first; your backfill returned {answer:?}"
    );
    let answer = held.backfill(&[&d], 2);
    assert_eq!(
        answer,
        ["D", newer],
        "the same from D with limit 2: expected D, then {newer} (of B and C, the greater \
         event ID); your backfill returned {answer:?}"
    );
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
    let (x, y) = (held.name(x), held.name(y));
    let answer = held.backfill(&[&m], 10);
    assert_eq!(
        answer,
        ["M", "L3", "L2", x, y, "A", "first"],
        "first <- A <- L1 <- L2 <- L3 <- M and A <- S1 <- M, from M with limit 10: expected \
         deepest first: M, L3, L2, then L1 and S1 (equal depth: the greater event ID first, \
         here {x}), then A, first; your backfill returned {answer:?}"
    );
}

#[test]
fn every_event_once_after_a_merge() {
    let mut held = Held::default();
    let [.., d] = diamond(&mut held);
    let mut answer = held.backfill(&[&d], 100);
    assert_eq!(
        answer.len(),
        5,
        "first <- A <- B <- D and A <- C <- D, from D with limit 100: expected each of the \
         5 events once (A is reached through both B and C); your backfill returned {} \
         events: {answer:?}",
        answer.len()
    );
    answer.sort();
    assert_eq!(
        answer,
        ["A", "B", "C", "D", "first"],
        "the same, in any order: expected first, A, B, C, D; your backfill returned {answer:?}"
    );
}

#[test]
fn several_starting_events_share_their_history() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    // The peer's edge is at two events; m[5] is also m[8]'s ancestor.
    let answer = held.backfill(&[&m[5], &m[8]], 5);
    assert_eq!(
        answer,
        ["event 8", "event 7", "event 6", "event 5", "event 4"],
        "from [event 5, event 8] with limit 5 (event 5 is also event 8's ancestor): expected \
         newest first, each once; your backfill returned {answer:?}"
    );
    // The same event twice is still one event.
    let answer = held.backfill(&[&m[3], &m[3]], 2);
    assert_eq!(
        answer,
        ["event 3", "event 2"],
        "from [event 3, event 3] with limit 2: the same event twice is one event, so expected \
         event 3, event 2; your backfill returned {answer:?}"
    );
}

#[test]
fn starting_events_we_do_not_hold_are_skipped() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let never = held.unheld(ROOM, "never received", &[&m[3]]);
    let answer = held.backfill(&[&never], 10);
    assert_eq!(
        answer, NOTHING,
        "from an event this server does not hold (\"never received\", after event 3): \
         expected nothing, not even its parents; your backfill returned {answer:?}"
    );
    let answer = held.backfill(&[&never, &m[2]], 10);
    assert_eq!(
        answer,
        ["event 2", "event 1", "event 0"],
        "from [\"never received\" (not held), event 2]: expected the held one and its \
         predecessors, event 2, event 1, event 0; your backfill returned {answer:?}"
    );
}

#[test]
fn a_parent_we_do_not_hold_ends_its_branch_only() {
    // first ← A ← (X, missing) ← B ← D and A ← C ← D: B's branch stops at
    // the hole; C's goes on to A and first.
    let mut held = Held::default();
    let first = held.add(ROOM, "first", &[]);
    let a = held.add(ROOM, "A", &[&first]);
    let x = held.unheld(ROOM, "X, lost", &[&a]);
    let b = held.add(ROOM, "B", &[&x]);
    let c = held.add(ROOM, "C", &[&a]);
    let d = held.add(ROOM, "D", &[&b, &c]);
    let answer = held.backfill(&[&d], 10);
    let shape = "first <- A <- (X, not held) <- B <- D and A <- C <- D, from D with limit 10";
    assert!(
        !answer.iter().any(|name| name == "X, lost"),
        "{shape}: X is not held, so it is never returned; your backfill returned {answer:?}"
    );
    assert_eq!(
        answer.len(),
        5,
        "{shape}: expected 5 events, D, B, C, A, first (B's branch stops at X, C's goes on); \
         your backfill returned {} events: {answer:?}",
        answer.len()
    );
    assert_eq!(
        answer[0], "D",
        "{shape}: expected D first; your backfill returned {answer:?}"
    );
    assert_eq!(
        answer[3..],
        ["A", "first"],
        "{shape}: expected A, first last (after B and C); your backfill returned {answer:?}"
    );
}

#[test]
fn events_of_another_room_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 3);
    let elsewhere = held.add(OTHER_ROOM, "elsewhere", &[]);
    let further = held.add(OTHER_ROOM, "further", &[&elsewhere]);
    // Asked for our room, starting at an event of the other room.
    let answer = held.backfill(&[&further], 10);
    assert_eq!(
        answer, NOTHING,
        "asked for our room from \"further\", an event of another room: expected nothing; \
         your backfill returned {answer:?}"
    );
    let answer = held.backfill(&[&further, &m[2]], 10);
    assert_eq!(
        answer,
        ["event 2", "event 1", "event 0"],
        "asked for our room from [\"further\" (another room's), event 2]: expected event 2, \
         event 1, event 0; your backfill returned {answer:?}"
    );
    // A forged event of our room whose parents reach into the other room:
    // the walk neither returns nor walks through them.
    let forged = held.add(ROOM, "forged", &[&m[2], &further]);
    let answer = held.backfill(&[&forged], 10);
    assert_eq!(
        answer,
        ["forged", "event 2", "event 1", "event 0"],
        "from \"forged\", an event of our room naming event 2 and \"further\" (another \
         room's): expected forged, event 2, event 1, event 0, and nothing of the other room; \
         your backfill returned {answer:?}"
    );
    // The other room asked for by name is walked as usual.
    let answer = held.backfill_in(OTHER_ROOM, &[&further], 10);
    assert_eq!(
        answer,
        ["further", "elsewhere"],
        "asked for the other room from \"further\": expected further, elsewhere; \
         your backfill returned {answer:?}"
    );
}
