use super::*;
use crate::pdu::PduBuilder;
use crate::signing::SigningKey;
use crate::state::slot;
use serde_json::{Value, json};

const NOW: u64 = 1_623_000_000_000; // early June 2021

fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [5; 32],
    )
}

fn event(event_type: &str, state_key: Option<&str>, content: Value, prev: &[&Pdu], ts: u64) -> Pdu {
    let mut builder = PduBuilder::new(
        "!lobby:tomesh.lab".parse().unwrap(),
        "@ada:tomesh.lab".parse().unwrap(),
        event_type,
        content,
    )
    .prev_events(prev.iter().map(|e| e.event_id().clone()))
    .origin_server_ts(ts);
    if let Some(state_key) = state_key {
        builder = builder.state_key(state_key);
    }
    builder.sign(&key()).unwrap()
}

fn message(body: &str, prev: &[&Pdu], ts: u64) -> Pdu {
    event("m.room.message", None, json!({"body": body}), prev, ts)
}

fn days_ago(days: u64) -> u64 {
    NOW - days * DAY_MS
}

fn ids(events: &[&Pdu]) -> BTreeSet<EventId> {
    events.iter().map(|e| e.event_id().clone()).collect()
}

fn server(name: &str) -> ServerName {
    name.parse().unwrap()
}

#[test]
fn expiry_is_strictly_older_than_the_lifetime() {
    let policy = RetentionPolicy::days(90);
    assert!(!policy.is_expired(days_ago(90), NOW));
    assert!(policy.is_expired(days_ago(90) - 1, NOW));
    assert!(
        !policy.is_expired(NOW + 1_000, NOW),
        "a future timestamp has age zero"
    );
}

#[test]
fn old_messages_go_recent_ones_and_the_latest_stay() {
    let old = message("January", &[], days_ago(150));
    let older_tip_parent = message("February", &[&old], days_ago(120));
    let recent = message("May", &[&older_tip_parent], days_ago(10));
    let events = [old.clone(), older_tip_parent.clone(), recent.clone()];
    let result = purge(&events, &StateMap::new(), &RetentionPolicy::days(90), NOW);
    assert_eq!(result.purged, ids(&[&old, &older_tip_parent]));
    assert_eq!(result.kept, ids(&[&recent]));
}

#[test]
fn a_quiet_room_keeps_its_last_message() {
    let first = message("hello", &[], days_ago(200));
    let last = message("anyone here?", &[&first], days_ago(180));
    let result = purge(
        &[first.clone(), last.clone()],
        &StateMap::new(),
        &RetentionPolicy::days(90),
        NOW,
    );
    assert_eq!(result.purged, ids(&[&first]));
    assert_eq!(result.kept, ids(&[&last]));
}

#[test]
fn the_create_event_and_current_state_survive_but_superseded_state_does_not() {
    let create = event(
        "m.room.create",
        Some(""),
        json!({"creator": "@ada:tomesh.lab"}),
        &[],
        days_ago(300),
    );
    let old_topic = event(
        "m.room.topic",
        Some(""),
        json!({"topic": "old"}),
        &[&create],
        days_ago(290),
    );
    let topic = event(
        "m.room.topic",
        Some(""),
        json!({"topic": "new"}),
        &[&old_topic],
        days_ago(280),
    );
    let chat = message("chat", &[&topic], days_ago(100));
    let tip = message("today", &[&chat], NOW);
    let mut state = StateMap::new();
    state.insert(slot("m.room.create", ""), create.event_id().clone());
    state.insert(slot("m.room.topic", ""), topic.event_id().clone());
    let events = [
        create.clone(),
        old_topic.clone(),
        topic.clone(),
        chat.clone(),
        tip.clone(),
    ];
    let result = purge(&events, &state, &RetentionPolicy::days(90), NOW);
    assert_eq!(result.purged, ids(&[&old_topic, &chat]));
    assert_eq!(result.kept, ids(&[&create, &topic, &tip]));
}

#[test]
fn the_create_event_survives_even_outside_the_given_state() {
    let create = event("m.room.create", Some(""), json!({}), &[], days_ago(300));
    let tip = message("today", &[&create], NOW);
    let result = purge(
        &[create.clone(), tip],
        &StateMap::new(),
        &RetentionPolicy::days(1),
        NOW,
    );
    assert!(result.kept.contains(create.event_id()));
    assert!(result.purged.is_empty());
}

#[test]
fn every_event_is_kept_or_purged_once() {
    let a = message("a", &[], days_ago(100));
    let b = message("b", &[&a], days_ago(5));
    let result = purge(
        &[a.clone(), b.clone(), a.clone()],
        &StateMap::new(),
        &RetentionPolicy::days(30),
        NOW,
    );
    assert_eq!(result.purged, ids(&[&a]));
    assert_eq!(result.kept, ids(&[&b]));
    assert_eq!(
        purge(&[], &StateMap::new(), &RetentionPolicy::days(30), NOW),
        Purge::default()
    );
}

#[test]
fn lost_events_split_into_recoverable_and_gone() {
    let (a, b, c) = (
        message("a", &[], 1).event_id().clone(),
        message("b", &[], 2).event_id().clone(),
        message("c", &[], 3).event_id().clone(),
    );
    let unrelated = message("kept here", &[], 4).event_id().clone();
    let purged_here: BTreeSet<EventId> = [a.clone(), b.clone(), c.clone()].into();
    let peers = BTreeMap::from([
        (
            server("hypha.lab"),
            BTreeSet::from([a.clone(), unrelated.clone()]),
        ),
        (server("mesh.lab"), BTreeSet::from([a.clone(), b.clone()])),
        (server("quiet.lab"), BTreeSet::new()),
    ]);
    let result = recoverable(&purged_here, &peers);
    assert_eq!(
        result.recoverable,
        BTreeMap::from([
            (a, BTreeSet::from([server("hypha.lab"), server("mesh.lab")])),
            (b, BTreeSet::from([server("mesh.lab")])),
        ])
    );
    assert_eq!(result.lost, BTreeSet::from([c]));
    assert!((result.recovered_fraction() - 2.0 / 3.0).abs() < 1e-9);
}

#[test]
fn nothing_lost_nothing_to_recover() {
    let result = recoverable(&BTreeSet::new(), &BTreeMap::new());
    assert_eq!(result, Recoverability::default());
    assert_eq!(result.recovered_fraction(), 1.0);
}

#[test]
fn without_peers_everything_lost_is_gone() {
    let a = message("only here", &[], 1).event_id().clone();
    let result = recoverable(&BTreeSet::from([a.clone()]), &BTreeMap::new());
    assert_eq!(result.lost, BTreeSet::from([a]));
    assert_eq!(result.recovered_fraction(), 0.0);
}
