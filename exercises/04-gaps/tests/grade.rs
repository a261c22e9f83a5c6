//! The graded tests for exercise 4. Each builds real, signed room v10
//! events (their IDs are hashes, as on the wire) and asks for the gaps and
//! the tips of the graph.

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
use std::collections::BTreeSet;

fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        [4; 32],
    )
}

/// A message with these parents. The body makes each event's ID distinct.
fn message(body: &str, prev: &[&Pdu]) -> Pdu {
    message_after(body, prev.iter().map(|event| event.event_id().clone()))
}

/// A message whose `prev_events` are exactly `prev`, in order, repeats included.
fn message_after(body: &str, prev: impl IntoIterator<Item = EventId>) -> Pdu {
    let prev: Vec<EventId> = prev.into_iter().collect();
    PduBuilder::new(
        "!lobby:tomesh.lab".parse().expect("a valid room ID"),
        "@ada:tomesh.lab".parse().expect("a valid user ID"),
        "m.room.message",
        json!({"msgtype": "m.text", "body": body}),
    )
    .depth(prev.len() as u64 + 1)
    .origin_server_ts(1_610_000_000_000)
    .prev_events(prev)
    .sign(&key())
    .expect("the test event signs")
}

fn nothing_known(_: &EventId) -> bool {
    false
}

fn ids(events: &[&Pdu]) -> BTreeSet<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}

fn gaps(events: &[Pdu]) -> BTreeSet<EventId> {
    answer::missing_prev_events(events, &nothing_known)
}

#[test]
fn empty_input_has_no_gaps_and_no_tips() {
    assert!(gaps(&[]).is_empty());
    assert!(answer::missing_prev_events(&[], &|_| true).is_empty());
    assert!(answer::forward_extremities(&[]).is_empty());
}

#[test]
fn a_complete_linear_chain_has_no_gaps_and_one_tip() {
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&b]);
    let events = [a, b, c.clone()];
    assert_eq!(gaps(&events), BTreeSet::new());
    assert_eq!(answer::forward_extremities(&events), ids(&[&c]));
}

#[test]
fn the_gap_is_the_missing_parent_not_the_event_that_names_it() {
    let x = message("X, never received", &[]);
    let b = message("B", &[&x]);
    let c = message("C", &[&b]);
    let events = [b.clone(), c.clone()];
    assert_eq!(gaps(&events), ids(&[&x]));
    // X is outside the events given, so it is no tip; C still is.
    assert_eq!(answer::forward_extremities(&events), ids(&[&c]));
}

#[test]
fn a_child_may_come_before_its_parent_in_the_slice() {
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&b]);
    // Every order of the same three events: the answer cannot depend on it.
    let orders = [
        [c.clone(), b.clone(), a.clone()],
        [b.clone(), c.clone(), a.clone()],
        [c.clone(), a.clone(), b.clone()],
    ];
    for events in orders {
        assert_eq!(gaps(&events), BTreeSet::new(), "children listed first");
        assert_eq!(answer::forward_extremities(&events), ids(&[&c]));
    }
}

#[test]
fn a_gap_in_the_middle_of_the_history() {
    // A <- B <- C <- D, and B never arrived.
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&b]);
    let d = message("D", &[&c]);
    let events = [a.clone(), c, d.clone()];
    assert_eq!(gaps(&events), ids(&[&b]));
    // With B missing, nothing we hold names A: it looks like a tip too.
    // That is how a gap shows in the extremities.
    assert_eq!(answer::forward_extremities(&events), ids(&[&a, &d]));
}

#[test]
fn a_merge_whose_second_parent_is_missing() {
    //      A
    //     / \
    //    B   C      C never arrived
    //     \ /
    //      D        D.prev_events = [B, C]
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&a]);
    let d = message("D", &[&b, &c]);
    assert_eq!(gaps(&[a.clone(), b.clone(), d.clone()]), ids(&[&c]));
    // And with the first parent missing instead.
    let d_other_way = message("D2", &[&c, &b]);
    assert_eq!(gaps(&[a, c.clone(), d_other_way]), ids(&[&b]));
}

#[test]
fn a_fork_has_two_tips_and_a_merge_has_one() {
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&a]);
    let forked = [a.clone(), b.clone(), c.clone()];
    assert!(gaps(&forked).is_empty());
    assert_eq!(answer::forward_extremities(&forked), ids(&[&b, &c]));

    let d = message("D", &[&b, &c]);
    let merged = [a, b, c, d.clone()];
    assert!(gaps(&merged).is_empty());
    assert_eq!(answer::forward_extremities(&merged), ids(&[&d]));
}

#[test]
fn several_gaps_are_all_reported() {
    let x = message("X", &[]);
    let y = message("Y", &[]);
    let z = message("Z", &[]);
    let b = message("B", &[&x, &y]);
    let c = message("C", &[&z]);
    let events = [b.clone(), c.clone()];
    assert_eq!(gaps(&events), ids(&[&x, &y, &z]));
    assert_eq!(answer::forward_extremities(&events), ids(&[&b, &c]));
}

#[test]
fn a_parent_named_many_times_is_one_gap() {
    let x = message("X", &[]);
    let twice = message_after(
        "names X twice",
        [x.event_id().clone(), x.event_id().clone()],
    );
    let again = message("also after X", &[&x]);
    let events = [twice.clone(), again.clone(), twice.clone()];
    let found = gaps(&events);
    assert_eq!(found.len(), 1);
    assert_eq!(found, ids(&[&x]));
    // A duplicated event is still one tip.
    assert_eq!(answer::forward_extremities(&events), ids(&[&twice, &again]));
}

#[test]
fn what_the_server_already_holds_is_no_gap() {
    let x = message("X", &[]);
    let y = message("Y", &[]);
    let b = message("B", &[&x, &y]);
    let held = x.event_id().clone();
    let is_known = move |id: &EventId| *id == held;
    assert_eq!(
        answer::missing_prev_events(std::slice::from_ref(&b), &is_known),
        ids(&[&y])
    );
}

#[test]
fn everything_known_means_no_gaps() {
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let c = message("C", &[&b]);
    assert!(answer::missing_prev_events(&[b, c], &|_| true).is_empty());
}

#[test]
fn an_unknown_parent_stays_missing_even_if_an_unrelated_event_is_known() {
    let a = message("A", &[]);
    let b = message("B", &[&a]);
    let unrelated = message("unrelated", &[]).event_id().clone();
    let is_known = move |id: &EventId| *id == unrelated;
    assert_eq!(
        answer::missing_prev_events(std::slice::from_ref(&b), &is_known),
        ids(&[&a])
    );
}

#[test]
fn auth_events_are_not_part_of_the_question() {
    let create = message("stands in for the create event", &[]);
    let a = message("A", &[]);
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
    let events = [a, b.clone()];
    assert!(
        gaps(&events).is_empty(),
        "a missing auth event is not a gap"
    );
    assert_eq!(answer::forward_extremities(&events), ids(&[&b]));
}

/// The incident in miniature. The restored server holds the room up to
/// January. A June message arrives from a peer; behind it is a chain the
/// server has never seen. Its only gap is the newest event it is missing,
/// which is where `get_missing_events` starts walking back.
#[test]
fn the_restored_server_sees_the_edge_of_its_five_missing_months() {
    let january = message("January: last event in the backup", &[]);
    let february = message("February", &[&january]);
    let march = message("March", &[&february]);
    let june = message("June, pushed by a peer", &[&march]);

    let held = january.event_id().clone();
    let is_known = move |id: &EventId| *id == held;
    assert_eq!(
        answer::missing_prev_events(std::slice::from_ref(&june), &is_known),
        ids(&[&march])
    );
    // Once the peer has sent March and February, the gap is closed: their
    // remaining parent, January, is held.
    assert!(answer::missing_prev_events(&[june, march, february], &is_known).is_empty());
}
