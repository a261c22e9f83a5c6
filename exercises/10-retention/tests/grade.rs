//! The graded tests for exercise 10: what a server purges under its
//! retention policy, and what a server that lost history can get back from
//! peers that purge too.

#[cfg(not(feature = "reference"))]
use ex10_retention as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use ex10_retention::{DAY_MS, Purge, RetentionPolicy};
use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// 6 June 2021, 00:00 UTC: the morning of the cleanup.
const JUNE_6: u64 = 1_622_937_600_000;
/// 4 January 2021, 00:00 UTC: the last backup.
const JANUARY_4: u64 = 1_609_718_400_000;

fn key() -> SigningKey {
    SigningKey::from_seed(
        "hypha.lab".parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        [10; 32],
    )
}

fn build(event_type: &str, state_key: Option<&str>, content: Value, prev: &[&Pdu], ts: u64) -> Pdu {
    let mut builder = PduBuilder::new(
        "!lobby:hypha.lab".parse().expect("a valid room ID"),
        "@ada:hypha.lab".parse().expect("a valid user ID"),
        event_type,
        content,
    )
    .prev_events(prev.iter().map(|event| event.event_id().clone()))
    .origin_server_ts(ts);
    if let Some(state_key) = state_key {
        builder = builder.state_key(state_key);
    }
    builder.sign(&key()).expect("the test event signs")
}

fn message(body: &str, prev: &[&Pdu], ts: u64) -> Pdu {
    build(
        "m.room.message",
        None,
        json!({"msgtype": "m.text", "body": body}),
        prev,
        ts,
    )
}

fn days_before_june_6(days: u64) -> u64 {
    JUNE_6 - days * DAY_MS
}

fn ids(events: &[&Pdu]) -> BTreeSet<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}

fn server(name: &str) -> ServerName {
    name.parse().expect("a valid server name")
}

fn no_state() -> StateMap<EventId> {
    StateMap::new()
}

/// The result every purge must have: each input ID in exactly one set.
fn assert_partition(events: &[Pdu], purge: &Purge) {
    let all: BTreeSet<EventId> = events.iter().map(|e| e.event_id().clone()).collect();
    assert!(
        purge.kept.is_disjoint(&purge.purged),
        "an event both kept and purged"
    );
    let union: BTreeSet<EventId> = purge.kept.union(&purge.purged).cloned().collect();
    assert_eq!(
        union, all,
        "kept and purged must together be exactly the input events"
    );
}

#[test]
fn expired_means_strictly_older_than_the_lifetime() {
    let policy = RetentionPolicy::days(90);
    let at_limit = message("exactly 90 days old", &[], days_before_june_6(90));
    let past_limit = message("90 days and 1 ms", &[&at_limit], days_before_june_6(90) - 1);
    let young = message(
        "yesterday",
        &[&at_limit, &past_limit],
        days_before_june_6(1),
    );
    let events = [at_limit.clone(), past_limit.clone(), young.clone()];
    let result = answer::purge(&events, &no_state(), &policy, JUNE_6);
    assert_partition(&events, &result);
    assert_eq!(result.purged, ids(&[&past_limit]));
    assert_eq!(result.kept, ids(&[&at_limit, &young]));
}

#[test]
fn a_timestamp_in_the_future_is_not_old() {
    let early = message("clock ahead", &[], JUNE_6 + DAY_MS);
    let tip = message("tip", &[&early], JUNE_6);
    let events = [early.clone(), tip];
    let result = answer::purge(&events, &no_state(), &RetentionPolicy::days(0), JUNE_6);
    assert_partition(&events, &result);
    assert!(result.purged.is_empty(), "nothing here is older than now");
}

#[test]
fn a_quiet_room_keeps_its_last_message() {
    let first = message("hello", &[], days_before_june_6(200));
    let last = message("anyone here?", &[&first], days_before_june_6(180));
    let events = [first.clone(), last.clone()];
    let result = answer::purge(&events, &no_state(), &RetentionPolicy::days(90), JUNE_6);
    assert_partition(&events, &result);
    assert_eq!(result.purged, ids(&[&first]));
    assert_eq!(result.kept, ids(&[&last]));
}

#[test]
fn every_tip_of_a_fork_is_kept() {
    let root = message("root", &[], days_before_june_6(300));
    let left = message("left", &[&root], days_before_june_6(200));
    let right = message("right", &[&root], days_before_june_6(250));
    let events = [right.clone(), left.clone(), root.clone()];
    let result = answer::purge(&events, &no_state(), &RetentionPolicy::days(90), JUNE_6);
    assert_partition(&events, &result);
    assert_eq!(result.purged, ids(&[&root]));
    assert_eq!(result.kept, ids(&[&left, &right]));
}

#[test]
fn the_create_event_is_never_purged() {
    let create = build(
        "m.room.create",
        Some(""),
        json!({"creator": "@ada:hypha.lab", "room_version": "10"}),
        &[],
        days_before_june_6(400),
    );
    let chat = message("old chat", &[&create], days_before_june_6(300));
    let tip = message("today", &[&chat], JUNE_6);
    let events = [create.clone(), chat.clone(), tip.clone()];
    // Even when the caller's state does not list it.
    let result = answer::purge(&events, &no_state(), &RetentionPolicy::days(30), JUNE_6);
    assert_partition(&events, &result);
    assert_eq!(result.purged, ids(&[&chat]));
    assert_eq!(result.kept, ids(&[&create, &tip]));
}

#[test]
fn current_state_stays_and_superseded_state_goes() {
    let create = build(
        "m.room.create",
        Some(""),
        json!({"creator": "@ada:hypha.lab"}),
        &[],
        days_before_june_6(400),
    );
    let join = build(
        "m.room.member",
        Some("@ada:hypha.lab"),
        json!({"membership": "join"}),
        &[&create],
        days_before_june_6(399),
    );
    let old_topic = build(
        "m.room.topic",
        Some(""),
        json!({"topic": "first"}),
        &[&join],
        days_before_june_6(300),
    );
    let topic = build(
        "m.room.topic",
        Some(""),
        json!({"topic": "second"}),
        &[&old_topic],
        days_before_june_6(200),
    );
    let chat = message("chat", &[&topic], days_before_june_6(100));
    let tip = message("today", &[&chat], JUNE_6);
    let events = [
        create.clone(),
        join.clone(),
        old_topic.clone(),
        topic.clone(),
        chat.clone(),
        tip.clone(),
    ];
    let state: StateMap<EventId> = [&create, &join, &topic]
        .into_iter()
        .map(|event| (slot_of(event).expect("state"), event.event_id().clone()))
        .collect();
    let result = answer::purge(&events, &state, &RetentionPolicy::days(90), JUNE_6);
    assert_partition(&events, &result);
    assert_eq!(result.purged, ids(&[&old_topic, &chat]));
    assert_eq!(result.kept, ids(&[&create, &join, &topic, &tip]));
}

#[test]
fn only_the_events_given_are_reported() {
    let elsewhere = message("held by the state map only", &[], 1);
    let old = message("old", &[], days_before_june_6(100));
    let tip = message("tip", &[&old], JUNE_6);
    let mut state = no_state();
    state.insert(slot("m.room.topic", ""), elsewhere.event_id().clone());
    // Duplicates in the input count once.
    let events = [old.clone(), tip.clone(), old.clone()];
    let result = answer::purge(&events, &state, &RetentionPolicy::days(90), JUNE_6);
    assert_partition(&events, &result);
    assert!(!result.kept.contains(elsewhere.event_id()));
    assert_eq!(result.purged, ids(&[&old]));
}

#[test]
fn no_events_nothing_to_purge() {
    let result = answer::purge(&[], &no_state(), &RetentionPolicy::days(1), JUNE_6);
    assert_eq!(result, Purge::default());
}

#[test]
fn lost_events_split_by_who_still_holds_them() {
    let (a, b, c) = (
        message("a", &[], 1).event_id().clone(),
        message("b", &[], 2).event_id().clone(),
        message("c", &[], 3).event_id().clone(),
    );
    let not_lost = message("still here", &[], 4).event_id().clone();
    let purged_here = BTreeSet::from([a.clone(), b.clone(), c.clone()]);
    let peers = BTreeMap::from([
        (
            server("hypha.lab"),
            BTreeSet::from([a.clone(), not_lost.clone()]),
        ),
        (server("mesh.lab"), BTreeSet::from([a.clone(), b.clone()])),
        (server("forgetful.lab"), BTreeSet::new()),
    ]);
    let result = answer::recoverable(&purged_here, &peers);
    assert_eq!(
        result.recoverable,
        BTreeMap::from([
            (a, BTreeSet::from([server("hypha.lab"), server("mesh.lab")])),
            (b, BTreeSet::from([server("mesh.lab")])),
        ])
    );
    assert_eq!(result.lost, BTreeSet::from([c]));
    assert!(!result.recoverable.contains_key(&not_lost));
}

#[test]
fn without_peers_everything_lost_is_gone() {
    let a = message("only ever here", &[], 1).event_id().clone();
    let result = answer::recoverable(&BTreeSet::from([a.clone()]), &BTreeMap::new());
    assert!(result.recoverable.is_empty());
    assert_eq!(result.lost, BTreeSet::from([a]));
}

#[test]
fn nothing_lost_nothing_to_recover() {
    let peers = BTreeMap::from([(
        server("hypha.lab"),
        BTreeSet::from([message("a", &[], 1).event_id().clone()]),
    )]);
    let result = answer::recoverable(&BTreeSet::new(), &peers);
    assert!(result.recoverable.is_empty());
    assert!(result.lost.is_empty());
}

/// The incident, with retention. A room's history runs from December to
/// June; `tomesh.lab` is restored to 4 January and has lost everything
/// after. Its two peers purge with their own policies on 6 June: one keeps
/// 90 days, one 30. What comes back is what *they* still held: the longer
/// a peer's memory, the more it can return. Every message a peer forgot is
/// one it could no longer give back.
#[test]
fn peers_can_only_give_back_what_their_retention_kept() {
    let create = build(
        "m.room.create",
        Some(""),
        json!({"creator": "@ada:hypha.lab"}),
        &[],
        JANUARY_4 - 30 * DAY_MS,
    );
    let join = build(
        "m.room.member",
        Some("@ada:hypha.lab"),
        json!({"membership": "join"}),
        &[&create],
        JANUARY_4 - 29 * DAY_MS,
    );
    // One message a month after the backup, then the last one on 5 June.
    let february = message("February", &[&join], days_before_june_6(120));
    let march = message("March", &[&february], days_before_june_6(80));
    let april = message("April", &[&march], days_before_june_6(50));
    let may = message("May", &[&april], days_before_june_6(20));
    let june = message("5 June", &[&may], days_before_june_6(1));
    let power = build(
        "m.room.power_levels",
        Some(""),
        json!({"users": {"@ada:hypha.lab": 100}}),
        &[&february],
        days_before_june_6(119),
    );
    let history = [
        create.clone(),
        join.clone(),
        february.clone(),
        power.clone(),
        march.clone(),
        april.clone(),
        may.clone(),
        june.clone(),
    ];
    let state: StateMap<EventId> = [&create, &join, &power]
        .into_iter()
        .map(|event| (slot_of(event).expect("state"), event.event_id().clone()))
        .collect();

    // Lost on tomesh.lab: everything sent after the backup.
    let lost_here: BTreeSet<EventId> = history
        .iter()
        .filter(|event| event.origin_server_ts() > JANUARY_4)
        .map(|event| event.event_id().clone())
        .collect();
    let held_after =
        |days: u64| answer::purge(&history, &state, &RetentionPolicy::days(days), JUNE_6).kept;
    let peers = BTreeMap::from([
        (server("hypha.lab"), held_after(90)),
        (server("mesh.lab"), held_after(30)),
    ]);
    let result = answer::recoverable(&lost_here, &peers);

    let both = BTreeSet::from([server("hypha.lab"), server("mesh.lab")]);
    let hypha = BTreeSet::from([server("hypha.lab")]);
    assert_eq!(
        result.recoverable,
        BTreeMap::from([
            // State the room still runs on is kept by everyone.
            (power.event_id().clone(), both.clone()),
            (march.event_id().clone(), hypha.clone()),
            (april.event_id().clone(), hypha),
            (may.event_id().clone(), both.clone()),
            (june.event_id().clone(), both),
        ])
    );
    // February is older than either peer's memory: gone everywhere.
    assert_eq!(result.lost, ids(&[&february]));
}
