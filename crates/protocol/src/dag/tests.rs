use super::*;
use crate::pdu::PduBuilder;
use crate::signing::SigningKey;
use serde_json::json;
use std::collections::HashMap;

fn key() -> SigningKey {
    SigningKey::from_seed(
        "hs.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [3; 32],
    )
}

/// A message named `body` after `prev`, at `depth`, sent at `ts`.
fn event(body: &str, prev: &[&EventId], depth: u64, ts: u64) -> Pdu {
    PduBuilder::new(
        "!room:hs.lab".parse().unwrap(),
        "@alice:hs.lab".parse().unwrap(),
        "m.room.message",
        json!({"msgtype": "m.text", "body": body}),
    )
    .prev_events(prev.iter().map(|id| (*id).clone()))
    .depth(depth)
    .origin_server_ts(ts)
    .sign(&key())
    .unwrap()
}

/// A state event authorised by `auth`.
fn state(name: &str, auth: &[&EventId]) -> Pdu {
    PduBuilder::new(
        "!room:hs.lab".parse().unwrap(),
        "@alice:hs.lab".parse().unwrap(),
        "m.lab.test",
        json!({}),
    )
    .state_key(name)
    .auth_events(auth.iter().map(|id| (*id).clone()))
    .sign(&key())
    .unwrap()
}

fn id(text: &str) -> EventId {
    text.parse().unwrap()
}

fn ids<'a>(events: impl IntoIterator<Item = &'a Pdu>) -> BTreeSet<EventId> {
    events.into_iter().map(|e| e.event_id().clone()).collect()
}

/// ```text
///      A
///     / \
///    B   C      B and C were sent concurrently
///     \ /
///      D        D merges the fork
/// ```
fn diamond() -> [Pdu; 4] {
    let a = event("A", &[], 1, 10);
    let b = event("B", &[a.event_id()], 2, 30);
    let c = event("C", &[a.event_id()], 2, 20);
    let d = event("D", &[b.event_id(), c.event_id()], 3, 40);
    [a, b, c, d]
}

#[test]
fn empty_input_has_no_gaps_no_tips_and_no_order() {
    assert!(missing_prev_events([]).is_empty());
    assert!(forward_extremities([]).is_empty());
    assert!(topological_order([]).is_empty());
    let chain = auth_chain([], |_| None);
    assert!(chain.events.is_empty() && chain.is_complete());
}

#[test]
fn a_merged_diamond_is_complete_with_one_tip() {
    let [a, b, c, d] = diamond();
    let all = [a.clone(), b.clone(), c.clone(), d.clone()];
    assert!(missing_prev_events(&all).is_empty());
    assert_eq!(forward_extremities(&all), ids([&d]));
    // C was sent before B, so among the two ready siblings it goes first.
    assert_eq!(
        topological_order(&all),
        [a.event_id(), c.event_id(), b.event_id(), d.event_id()].map(Clone::clone)
    );
}

#[test]
fn an_unmerged_fork_has_two_tips() {
    let [a, b, c, _] = diamond();
    assert_eq!(forward_extremities([&a, &b, &c]), ids([&b, &c]));
}

#[test]
fn order_does_not_depend_on_input_order_or_duplicates() {
    let [a, b, c, d] = diamond();
    let forwards = topological_order([&a, &b, &c, &d]);
    let backwards = topological_order([&d, &c, &b, &a, &d, &a]);
    assert_eq!(forwards, backwards);
    assert_eq!(forwards.len(), 4);
}

#[test]
fn graph_edges_beat_misleading_depths_and_timestamps() {
    // A child that claims an earlier timestamp and a lower depth than its
    // parent still comes after it: tie-breakers never override edges.
    let parent = event("parent", &[], 5, 500);
    let child = event("child", &[parent.event_id()], 1, 1);
    assert_eq!(
        topological_order([&child, &parent]),
        [parent.event_id().clone(), child.event_id().clone()]
    );
}

#[test]
fn ties_fall_to_depth_then_timestamp_then_event_id() {
    let deep_early = event("deep", &[], 2, 1);
    let shallow_late = event("shallow", &[], 1, 9);
    assert_eq!(
        topological_order([&deep_early, &shallow_late])[0],
        *shallow_late.event_id()
    );
    let x = event("x", &[], 1, 5);
    let y = event("y", &[], 1, 5);
    let smaller = x.event_id().min(y.event_id()).clone();
    assert_eq!(topological_order([&x, &y])[0], smaller);
}

#[test]
fn gaps_are_reported_and_treated_as_roots() {
    let gap = id("$never-received");
    let b = event("B", &[&gap], 7, 70);
    let c = event("C", &[b.event_id()], 8, 80);
    assert_eq!(missing_prev_events([&b, &c]), BTreeSet::from([gap]));
    assert_eq!(
        topological_order([&c, &b]),
        [b.event_id().clone(), c.event_id().clone()]
    );
    assert_eq!(forward_extremities([&b, &c]), ids([&c]));
}

#[test]
fn duplicate_prev_events_count_once() {
    let a = event("A", &[], 1, 1);
    let b = event("B", &[a.event_id(), a.event_id()], 2, 2);
    assert_eq!(
        topological_order([&b, &a]),
        [a.event_id().clone(), b.event_id().clone()]
    );
    assert!(missing_prev_events([&a, &b]).is_empty());
}

#[test]
fn auth_chains_follow_auth_events_transitively() {
    let create = state("create", &[]);
    let power = state("power", &[create.event_id()]);
    let join = state("join", &[create.event_id(), power.event_id()]);
    let topic = state(
        "topic",
        &[create.event_id(), power.event_id(), join.event_id()],
    );
    let store: HashMap<EventId, Pdu> = [&create, &power, &join, &topic]
        .into_iter()
        .map(|e| (e.event_id().clone(), e.clone()))
        .collect();

    let chain = auth_chain([topic.event_id()], |id| store.get(id));
    assert!(chain.is_complete());
    // The starting event is not part of its own chain.
    assert_eq!(chain.events, ids([&create, &power, &join]));

    // ...unless another starting event's chain reaches it.
    let chain = auth_chain([topic.event_id(), join.event_id()], |id| store.get(id));
    assert_eq!(chain.events, ids([&create, &power, &join]));
    let chain = auth_chain([power.event_id()], |id| store.get(id));
    assert_eq!(chain.events, ids([&create]));
}

#[test]
fn missing_auth_events_are_reported_not_fatal() {
    let create = state("create", &[]);
    let lost = state("lost", &[create.event_id()]);
    let join = state("join", &[create.event_id(), lost.event_id()]);
    // The store has everything except `lost`; `create` is still found
    // through `join`, and an unknown starting ID is reported as well.
    let store: HashMap<EventId, Pdu> = [&create, &join]
        .into_iter()
        .map(|e| (e.event_id().clone(), e.clone()))
        .collect();
    let unknown = id("$unknown");
    let chain = auth_chain([join.event_id(), &unknown], |id| store.get(id));
    assert!(!chain.is_complete());
    assert_eq!(
        chain.missing,
        BTreeSet::from([lost.event_id().clone(), unknown])
    );
    assert_eq!(chain.events, ids([&create, &lost]));
}
