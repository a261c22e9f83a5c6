//! The graded tests for exercise 6. Each builds a small room of real,
//! signed room v10 events (their IDs are hashes, as on the wire), hands
//! your `get_missing_events` a lookup over them, and checks which events
//! come back, and that parents come before children. Failure messages
//! show the names the test gave the events ("first", "A", "event 9"), not
//! their IDs.

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
use std::collections::BTreeMap;

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

    fn name(&self, id: &EventId) -> String {
        match self.names.get(id) {
            Some(name) => name.clone(),
            None => format!("<an event this test never built: {id}>"),
        }
    }

    /// The names of `ids`, in order.
    fn names(&self, ids: &[EventId]) -> Vec<String> {
        ids.iter().map(|id| self.name(id)).collect()
    }

    /// Your answer, by names, after checking that it lists parents before
    /// children and no event twice.
    fn missing(&self, question: Ask<'_>) -> Vec<String> {
        let earliest = ids(&question.earliest);
        let latest = ids(&question.latest);
        let lookup = |id: &EventId| self.events.get(id).cloned();
        let answer = answer::get_missing_events(
            &room(question.room),
            &earliest,
            &latest,
            question.limit,
            question.min_depth,
            &lookup,
        );
        self.assert_parents_first(&answer);
        self.names(&answer)
    }

    fn assert_parents_first(&self, answer: &[EventId]) {
        let position: BTreeMap<&EventId, usize> =
            answer.iter().enumerate().map(|(at, id)| (id, at)).collect();
        assert_eq!(
            position.len(),
            answer.len(),
            "expected each event at most once; your get_missing_events returned an event twice: {:?}",
            self.names(answer)
        );
        for (at, id) in answer.iter().enumerate() {
            let Some(event) = self.events.get(id) else {
                continue;
            };
            for parent in event.prev_events() {
                if let Some(parent_at) = position.get(parent) {
                    assert!(
                        *parent_at < at,
                        "expected parents before children; your get_missing_events put {} \
                         (at {at}) before its parent {} (at {parent_at}): {:?}",
                        self.name(id),
                        self.name(parent),
                        self.names(answer)
                    );
                }
            }
        }
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

fn ids(events: &[&Pdu]) -> Vec<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}

/// `names` sorted, for answers whose order is free.
fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
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

const NOTHING: [&str; 0] = [];

#[test]
fn the_events_between_earliest_and_latest_oldest_first() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let answer = held.missing(ask(&[&m[2]], &[&m[9]]));
    assert_eq!(
        answer,
        [
            "event 3", "event 4", "event 5", "event 6", "event 7", "event 8"
        ],
        "in the line event 0 <- ... <- event 9, earliest [event 2], latest [event 9]: expected \
         the events between them, oldest first; your get_missing_events returned {answer:?}"
    );
}

#[test]
fn a_limit_keeps_the_events_next_to_latest() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let question = Ask {
        limit: 3,
        ..ask(&[&m[0]], &[&m[9]])
    };
    let answer = held.missing(question);
    assert_eq!(
        answer,
        ["event 6", "event 7", "event 8"],
        "earliest [event 0], latest [event 9], limit 3: expected the 3 events next to event 9, \
         oldest first; your get_missing_events returned {answer:?}"
    );
    let nothing = Ask {
        limit: 0,
        ..ask(&[&m[0]], &[&m[9]])
    };
    let answer = held.missing(nothing);
    assert_eq!(
        answer, NOTHING,
        "earliest [event 0], latest [event 9], limit 0: expected nothing; \
         your get_missing_events returned {answer:?}"
    );
}

#[test]
fn min_depth_stops_the_walk() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    let question = Ask {
        min_depth: m[5].depth(),
        ..ask(&[], &[&m[9]])
    };
    let answer = held.missing(question);
    assert_eq!(
        answer,
        ["event 5", "event 6", "event 7", "event 8"],
        "no earliest, latest [event 9], min_depth = event 5's depth: expected event 5 to \
         event 8 (nothing below min_depth); your get_missing_events returned {answer:?}"
    );
}

#[test]
fn without_earliest_the_walk_reaches_the_first_event() {
    let mut held = Held::default();
    let m = chain(&mut held, 5);
    let answer = held.missing(ask(&[], &[&m[4]]));
    assert_eq!(
        answer,
        ["event 0", "event 1", "event 2", "event 3"],
        "no earliest, latest [event 4]: expected everything before event 4, back to the \
         first event, oldest first; your get_missing_events returned {answer:?}"
    );
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
    let shape = "first <- A <- L1 <- L2 <- D and A <- S1 <- D (D naming [L2, S1]), \
                 earliest [first], latest [D]";
    let question = Ask {
        limit: 3,
        ..ask(&[&first], &[&d])
    };
    let answer = held.missing(question);
    assert_eq!(
        sorted(answer.clone()),
        ["L1", "L2", "S1"],
        "{shape}, limit 3: breadth first finds L2 and S1 (one step from D), then L1 (two \
         steps), in any order; your get_missing_events returned {answer:?}"
    );
    let question = Ask {
        limit: 1,
        ..ask(&[&first], &[&d])
    };
    let answer = held.missing(question);
    assert_eq!(
        answer,
        ["L2"],
        "{shape}, limit 1: expected the first found, L2 (D names it first); \
         your get_missing_events returned {answer:?}"
    );
    // Unlimited: both branches, A once, and not `first` (an earliest).
    let answer = held.missing(ask(&[&first], &[&d]));
    assert_eq!(
        sorted(answer.clone()),
        ["A", "L1", "L2", "S1"],
        "{shape}, no limit: expected A, L1, L2, S1 in any order (A once, and not first, \
         which the asker holds); your get_missing_events returned {answer:?}"
    );
    assert_eq!(
        answer[0], "A",
        "{shape}, no limit: expected A first (the parent of all the others); \
         your get_missing_events returned {answer:?}"
    );
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
    let shape = "first <- A <- B <- D and A <- C <- D, latest [D]";
    let answer = held.missing(ask(&[&a], &[&d]));
    assert_eq!(
        answer.len(),
        2,
        "{shape}, earliest [A]: expected 2 events, B and C; your get_missing_events returned \
         {} events: {answer:?}",
        answer.len()
    );
    let answer = held.missing(ask(&[&a], &[&d]));
    assert_eq!(
        sorted(answer.clone()),
        ["B", "C"],
        "{shape}, earliest [A]: expected B and C, in any order; \
         your get_missing_events returned {answer:?}"
    );
    let answer = held.missing(ask(&[&b], &[&d]));
    assert_eq!(
        answer,
        ["first", "A", "C"],
        "{shape}, earliest [B]: B stops its own branch only, so C's goes on to A and first; \
         expected first, A, C; your get_missing_events returned {answer:?}"
    );
}

#[test]
fn latest_events_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    // m[6] is a latest event too, and lies on m[9]'s way back.
    let answer = held.missing(ask(&[&m[2]], &[&m[9], &m[6]]));
    assert_eq!(
        sorted(answer.clone()),
        ["event 3", "event 4", "event 5", "event 7", "event 8"],
        "earliest [event 2], latest [event 9, event 6] (event 6 lies on event 9's way back): \
         expected event 3 to event 8 without event 6, which the asker has; \
         your get_missing_events returned {answer:?}"
    );
}

#[test]
fn latest_events_we_do_not_hold_give_nothing() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let never = held.unheld(ROOM, "never received", &[&m[3]]);
    let answer = held.missing(ask(&[], &[&never]));
    assert_eq!(
        answer, NOTHING,
        "latest [\"never received\", after event 3, which this server does not hold]: \
         expected nothing; your get_missing_events returned {answer:?}"
    );
}

#[test]
fn a_hole_in_our_copy_ends_the_walk_there() {
    // m[4] was never received here: the walk from m[9] stops at it.
    let mut held = Held::default();
    let m = chain(&mut held, 10);
    held.events.remove(m[4].event_id());
    let answer = held.missing(ask(&[&m[0]], &[&m[9]]));
    assert_eq!(
        answer,
        ["event 5", "event 6", "event 7", "event 8"],
        "earliest [event 0], latest [event 9], with event 4 not held here: the walk stops at \
         the hole, so expected event 5 to event 8; your get_missing_events returned {answer:?}"
    );
}

#[test]
fn events_of_another_room_are_never_returned() {
    let mut held = Held::default();
    let m = chain(&mut held, 4);
    let elsewhere = held.add(OTHER_ROOM, "elsewhere", &[]);
    let further = held.add(OTHER_ROOM, "further", &[&elsewhere]);
    let latest_elsewhere = held.add(OTHER_ROOM, "latest", &[&further]);
    // Asked for our room, with a latest event of the other room.
    let answer = held.missing(ask(&[], &[&latest_elsewhere]));
    assert_eq!(
        answer, NOTHING,
        "asked for our room with latest [\"latest\", an event of another room]: expected \
         nothing; your get_missing_events returned {answer:?}"
    );
    // A forged event of our room naming an event of the other room: the
    // walk neither returns nor walks through it.
    let forged = held.add(ROOM, "forged", &[&m[3], &further]);
    let after = held.add(ROOM, "after", &[&forged]);
    let answer = held.missing(ask(&[&m[1]], &[&after]));
    assert_eq!(
        answer,
        ["event 2", "event 3", "forged"],
        "earliest [event 1], latest [after], after naming \"forged\", which names event 3 and \
         \"further\" (another room's): expected event 2, event 3, forged, and nothing of the \
         other room; your get_missing_events returned {answer:?}"
    );
    // The other room asked for by name is walked as usual.
    let question = Ask {
        room: OTHER_ROOM,
        ..ask(&[], &[&latest_elsewhere])
    };
    let answer = held.missing(question);
    assert_eq!(
        answer,
        ["elsewhere", "further"],
        "asked for the other room with latest [\"latest\"]: expected elsewhere, further; \
         your get_missing_events returned {answer:?}"
    );
}
