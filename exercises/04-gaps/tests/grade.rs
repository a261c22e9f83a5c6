//! The graded tests for exercise 4. Each builds real, signed room v10
//! events (their IDs are hashes, as on the wire) and asks for the gaps and
//! the tips of the graph. Failure messages show the names the test gave
//! the events ("A", "X, never received"), not their IDs.

#[cfg(not(feature = "reference"))]
use ex04_gaps as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        [4; 32],
    )
}

/// The events a test built, with the name it gave each: an answer is
/// shown and compared by names, because a 43-character event ID tells a
/// student nothing about which event it is.
#[derive(Default)]
struct Built(BTreeMap<EventId, String>);

impl Built {
    /// A message with these parents, named by its body. The body makes
    /// each event's ID distinct.
    fn message(&mut self, body: &str, prev: &[&Pdu]) -> Pdu {
        self.message_after(body, prev.iter().map(|event| event.event_id().clone()))
    }

    /// A message whose `prev_events` are exactly `prev`, in order, repeats
    /// included.
    fn message_after(&mut self, body: &str, prev: impl IntoIterator<Item = EventId>) -> Pdu {
        let prev: Vec<EventId> = prev.into_iter().collect();
        let event = PduBuilder::new(
            "!lobby:tomesh.lab".parse().expect("a valid room ID"),
            "@ada:tomesh.lab".parse().expect("a valid user ID"),
            "m.room.message",
            json!({"msgtype": "m.text", "body": body}),
        )
        .depth(prev.len() as u64 + 1)
        .origin_server_ts(1_610_000_000_000)
        .prev_events(prev)
        .sign(&key())
        .expect("the test event signs");
        self.name(&event, body);
        event
    }

    /// Remembers `name` for `event`. Names are unique within a test, so
    /// comparing names is comparing events.
    fn name(&mut self, event: &Pdu, name: &str) {
        let clash = self
            .0
            .iter()
            .find(|(id, known)| *id != event.event_id() && *known == name);
        assert!(clash.is_none(), "the test names two events {name:?}");
        self.0.insert(event.event_id().clone(), name.to_owned());
    }

    /// The names of `ids`; an ID the test never built shows as itself.
    fn names(&self, ids: &BTreeSet<EventId>) -> BTreeSet<String> {
        ids.iter()
            .map(|id| match self.0.get(id) {
                Some(name) => name.clone(),
                None => format!("<an event this test never built: {id}>"),
            })
            .collect()
    }
}

/// A set of names, to compare with `Built::names`.
fn named(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn nothing_known(_: &EventId) -> bool {
    false
}

fn gaps(events: &[Pdu]) -> BTreeSet<EventId> {
    answer::missing_prev_events(events, &nothing_known)
}

#[test]
fn empty_input_has_no_gaps_and_no_tips() {
    let built = Built::default();
    let found = built.names(&gaps(&[]));
    assert!(
        found.is_empty(),
        "no events, no gaps; your missing_prev_events returned {found:?}"
    );
    let found = built.names(&answer::missing_prev_events(&[], &|_| true));
    assert!(
        found.is_empty(),
        "no events (and everything known), no gaps; your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&[]));
    assert!(
        tips.is_empty(),
        "no events, no tips; your forward_extremities returned {tips:?}"
    );
}

#[test]
fn a_complete_linear_chain_has_no_gaps_and_one_tip() {
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&b]);
    let events = [a, b, c];
    let found = built.names(&gaps(&events));
    assert_eq!(
        found,
        named(&[]),
        "A <- B <- C, all given: no gaps; your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["C"]),
        "A <- B <- C: only C has no child; your forward_extremities returned {tips:?}"
    );
}

#[test]
fn the_gap_is_the_missing_parent_not_the_event_that_names_it() {
    let mut built = Built::default();
    let x = built.message("X, never received", &[]);
    let b = built.message("B", &[&x]);
    let c = built.message("C", &[&b]);
    let events = [b, c];
    let found = built.names(&gaps(&events));
    assert_eq!(
        found,
        named(&["X, never received"]),
        "given B and C, with B naming X: the gap is X (not B, which names it); \
         your missing_prev_events returned {found:?}"
    );
    // X is outside the events given, so it is no tip; C still is.
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["C"]),
        "given B and C: C is the only tip (X was not given, so it is no tip); \
         your forward_extremities returned {tips:?}"
    );
}

#[test]
fn a_child_may_come_before_its_parent_in_the_slice() {
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&b]);
    // Every order of the same three events: the answer cannot depend on it.
    let orders = [
        ([c.clone(), b.clone(), a.clone()], "C, B, A"),
        ([b.clone(), c.clone(), a.clone()], "B, C, A"),
        ([c.clone(), a.clone(), b.clone()], "C, A, B"),
    ];
    for (events, order) in orders {
        let found = built.names(&gaps(&events));
        assert_eq!(
            found,
            named(&[]),
            "A <- B <- C given in the order {order} (children listed first): no gaps; \
             your missing_prev_events returned {found:?}"
        );
        let tips = built.names(&answer::forward_extremities(&events));
        assert_eq!(
            tips,
            named(&["C"]),
            "A <- B <- C given in the order {order}: C is the only tip; \
             your forward_extremities returned {tips:?}"
        );
    }
}

#[test]
fn a_gap_in_the_middle_of_the_history() {
    // A <- B <- C <- D, and B never arrived.
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&b]);
    let d = built.message("D", &[&c]);
    let events = [a, c, d];
    let found = built.names(&gaps(&events));
    assert_eq!(
        found,
        named(&["B"]),
        "A <- B <- C <- D given without B: the gap is B; your missing_prev_events returned {found:?}"
    );
    // With B missing, nothing we hold names A: it looks like a tip too.
    // That is how a gap shows in the extremities.
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["A", "D"]),
        "A <- B <- C <- D given without B: no given event names A, so A is a tip, and D is; \
         your forward_extremities returned {tips:?}"
    );
}

#[test]
fn a_merge_whose_second_parent_is_missing() {
    //      A
    //     / \
    //    B   C      C never arrived
    //     \ /
    //      D        D.prev_events = [B, C]
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&a]);
    let d = built.message("D", &[&b, &c]);
    let found = built.names(&gaps(&[a.clone(), b.clone(), d]));
    assert_eq!(
        found,
        named(&["C"]),
        "given A, B and D, with D naming [B, C]: the gap is D's second parent, C; \
         your missing_prev_events returned {found:?}"
    );
    // And with the first parent missing instead.
    let d_other_way = built.message("D2", &[&c, &b]);
    let found = built.names(&gaps(&[a, c, d_other_way]));
    assert_eq!(
        found,
        named(&["B"]),
        "given A, C and D2, with D2 naming [C, B]: the gap is D2's second parent, B; \
         your missing_prev_events returned {found:?}"
    );
}

#[test]
fn a_fork_has_two_tips_and_a_merge_has_one() {
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&a]);
    let forked = [a.clone(), b.clone(), c.clone()];
    let found = built.names(&gaps(&forked));
    assert!(
        found.is_empty(),
        "A <- B and A <- C, all given: no gaps; your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&forked));
    assert_eq!(
        tips,
        named(&["B", "C"]),
        "A <- B and A <- C (a fork): two tips, B and C; your forward_extremities returned {tips:?}"
    );

    let d = built.message("D", &[&b, &c]);
    let merged = [a, b, c, d];
    let found = built.names(&gaps(&merged));
    assert!(
        found.is_empty(),
        "A <- B <- D and A <- C <- D, all given: no gaps; \
         your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&merged));
    assert_eq!(
        tips,
        named(&["D"]),
        "A <- B <- D and A <- C <- D (a fork and its merge): one tip, D; \
         your forward_extremities returned {tips:?}"
    );
}

#[test]
fn several_gaps_are_all_reported() {
    let mut built = Built::default();
    let x = built.message("X", &[]);
    let y = built.message("Y", &[]);
    let z = built.message("Z", &[]);
    let b = built.message("B", &[&x, &y]);
    let c = built.message("C", &[&z]);
    let events = [b, c];
    let found = built.names(&gaps(&events));
    assert_eq!(
        found,
        named(&["X", "Y", "Z"]),
        "given B (naming X and Y) and C (naming Z): three gaps, X, Y and Z; \
         your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["B", "C"]),
        "given B and C, neither naming the other: two tips, B and C; \
         your forward_extremities returned {tips:?}"
    );
}

#[test]
fn a_parent_named_many_times_is_one_gap() {
    let mut built = Built::default();
    let x = built.message("X", &[]);
    let twice = built.message_after(
        "names X twice",
        [x.event_id().clone(), x.event_id().clone()],
    );
    let again = built.message("also after X", &[&x]);
    let events = [twice.clone(), again, twice];
    let found = gaps(&events);
    assert_eq!(
        found.len(),
        1,
        "the parent X is missing once, even though it is named 3 times (twice by one event, \
         and that event is given twice); your missing_prev_events returned {} IDs: {:?}",
        found.len(),
        built.names(&found)
    );
    let found = built.names(&found);
    assert_eq!(
        found,
        named(&["X"]),
        "the one gap is X; your missing_prev_events returned {found:?}"
    );
    // A duplicated event is still one tip.
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["also after X", "names X twice"]),
        "given \"names X twice\" (twice) and \"also after X\": two tips, each once; \
         your forward_extremities returned {tips:?}"
    );
}

#[test]
fn what_the_server_already_holds_is_no_gap() {
    let mut built = Built::default();
    let x = built.message("X", &[]);
    let y = built.message("Y", &[]);
    let b = built.message("B", &[&x, &y]);
    let held = x.event_id().clone();
    let is_known = move |id: &EventId| *id == held;
    let found = built.names(&answer::missing_prev_events(
        std::slice::from_ref(&b),
        &is_known,
    ));
    assert_eq!(
        found,
        named(&["Y"]),
        "given B (naming X and Y), with X already held (is_known says so): the gap is Y only; \
         your missing_prev_events returned {found:?}"
    );
}

#[test]
fn everything_known_means_no_gaps() {
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let c = built.message("C", &[&b]);
    let found = built.names(&answer::missing_prev_events(&[b, c], &|_| true));
    assert!(
        found.is_empty(),
        "given B and C, with every event already held (is_known always true): no gaps; \
         your missing_prev_events returned {found:?}"
    );
}

#[test]
fn an_unknown_parent_stays_missing_even_if_an_unrelated_event_is_known() {
    let mut built = Built::default();
    let a = built.message("A", &[]);
    let b = built.message("B", &[&a]);
    let unrelated = built.message("unrelated", &[]).event_id().clone();
    let is_known = move |id: &EventId| *id == unrelated;
    let found = built.names(&answer::missing_prev_events(
        std::slice::from_ref(&b),
        &is_known,
    ));
    assert_eq!(
        found,
        named(&["A"]),
        "given B (naming A), with only an unrelated event held: the gap is A; \
         your missing_prev_events returned {found:?}"
    );
}

#[test]
fn auth_events_are_not_part_of_the_question() {
    let mut built = Built::default();
    let create = built.message("stands in for the create event", &[]);
    let a = built.message("A", &[]);
    let b = PduBuilder::new(
        "!lobby:tomesh.lab".parse().expect("a valid room ID"),
        "@ada:tomesh.lab".parse().expect("a valid user ID"),
        "m.room.message",
        json!({"msgtype": "m.text", "body": "B"}),
    )
    .prev_events([a.event_id().clone()])
    .auth_events([create.event_id().clone()])
    .depth(2)
    .sign(&key())
    .expect("the test event signs");
    built.name(&b, "B");
    let events = [a, b];
    let found = built.names(&gaps(&events));
    assert!(
        found.is_empty(),
        "given A and B (B's prev_events = [A], its auth_events = [a create event not given]): \
         a missing auth event is not a gap; your missing_prev_events returned {found:?}"
    );
    let tips = built.names(&answer::forward_extremities(&events));
    assert_eq!(
        tips,
        named(&["B"]),
        "given A and B (after A): B is the only tip; your forward_extremities returned {tips:?}"
    );
}

/// The incident in miniature. The restored server holds the room up to
/// January. A June message arrives from a peer; behind it is a chain the
/// server has never seen. Its only gap is the newest event it is missing,
/// which is where `get_missing_events` starts walking back.
#[test]
fn the_restored_server_sees_the_edge_of_its_five_missing_months() {
    let mut built = Built::default();
    let january = built.message("January: last event in the backup", &[]);
    let february = built.message("February", &[&january]);
    let march = built.message("March", &[&february]);
    let june = built.message("June, pushed by a peer", &[&march]);

    let held = january.event_id().clone();
    let is_known = move |id: &EventId| *id == held;
    let found = built.names(&answer::missing_prev_events(
        std::slice::from_ref(&june),
        &is_known,
    ));
    assert_eq!(
        found,
        named(&["March"]),
        "given June (after March, after February, after the held January): the gap is \
         June's parent, March, the newest event missing; your missing_prev_events returned {found:?}"
    );
    // Once the peer has sent March and February, the gap is closed: their
    // remaining parent, January, is held.
    let found = built.names(&answer::missing_prev_events(
        &[june, march, february],
        &is_known,
    ));
    assert!(
        found.is_empty(),
        "given June, March and February, with January held: no gaps left; \
         your missing_prev_events returned {found:?}"
    );
}
