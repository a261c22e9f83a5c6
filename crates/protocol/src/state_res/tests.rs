//! The pieces of state resolution on their own. The whole algorithm is
//! tested case by case, from fixtures, in `tests/state_res.rs`.

use super::conflict::{Events, split};
use super::mainline::{MainlinePosition, mainline_of, mainline_position};
use super::power_ordering::sender_power_level;
use super::*;
use crate::pdu::PduBuilder;
use crate::signing::SigningKey;
use crate::state::{slot, slot_of};
use serde_json::{Value, json};
use std::collections::HashMap;

const ALICE: &str = "@alice:a.lab";
const BOB: &str = "@bob:b.lab";

/// A state event from `sender`, citing `auth`, sent at time 0.
fn event(sender: &str, event_type: &str, state_key: &str, content: Value, auth: &[&Pdu]) -> Pdu {
    event_at(0, sender, event_type, state_key, content, auth)
}

fn event_at(
    ts: u64,
    sender: &str,
    event_type: &str,
    state_key: &str,
    content: Value,
    auth: &[&Pdu],
) -> Pdu {
    let sender: crate::ids::UserId = sender.parse().unwrap();
    let key = SigningKey::from_seed(sender.server_name(), "ed25519:1".parse().unwrap(), [5; 32]);
    PduBuilder::new("!r:a.lab".parse().unwrap(), sender, event_type, content)
        .state_key(state_key)
        .auth_events(auth.iter().map(|e| e.event_id().clone()))
        .origin_server_ts(ts)
        .sign(&key)
        .unwrap()
}

/// Alice's room: create, her join, power levels (Bob at 50), Bob's join.
struct Room {
    create: Pdu,
    alice: Pdu,
    power: Pdu,
    bob: Pdu,
}

fn room() -> Room {
    let create = event(ALICE, "m.room.create", "", json!({"creator": ALICE}), &[]);
    let alice = event(
        ALICE,
        "m.room.member",
        ALICE,
        json!({"membership": "join"}),
        &[&create],
    );
    let power = event(
        ALICE,
        "m.room.power_levels",
        "",
        json!({"users": {ALICE: 100, BOB: 50}}),
        &[&create, &alice],
    );
    let bob = event(
        BOB,
        "m.room.member",
        BOB,
        json!({"membership": "join"}),
        &[&create, &power],
    );
    Room {
        create,
        alice,
        power,
        bob,
    }
}

fn state(events: &[&Pdu]) -> StateMap<EventId> {
    events
        .iter()
        .map(|e| (slot_of(e).unwrap(), e.event_id().clone()))
        .collect()
}

fn store(events: &[&Pdu]) -> HashMap<EventId, Pdu> {
    events
        .iter()
        .map(|e| (e.event_id().clone(), (*e).clone()))
        .collect()
}

#[test]
fn split_separates_agreement_from_dispute() {
    let r = room();
    let topic = event(
        BOB,
        "m.room.topic",
        "",
        json!({"topic": "x"}),
        &[&r.create, &r.bob],
    );
    let ours = state(&[&r.create, &r.alice, &r.bob]);
    let theirs = state(&[&r.create, &r.alice, &topic]);
    let (unconflicted, conflicted) = split(&[ours, theirs]);
    assert_eq!(unconflicted, state(&[&r.create, &r.alice]));
    // Bob's membership is in one input only: "absent" disagrees with "joined".
    assert_eq!(
        conflicted,
        [r.bob.event_id().clone(), topic.event_id().clone()].into()
    );
    assert_eq!(split(&[]), (StateMap::new(), BTreeSet::new()));
}

#[test]
fn trivial_inputs_resolve_to_themselves() {
    let r = room();
    let only = state(&[&r.create, &r.alice]);
    let nothing = HashMap::<EventId, Pdu>::new();
    assert_eq!(resolve(&[], |id| nothing.get(id)), Ok(StateMap::new()));
    // Nothing is in dispute, so no event even needs to be looked up.
    assert_eq!(
        resolve(&[only.clone(), only.clone()], |id| nothing.get(id)),
        Ok(only)
    );
}

#[test]
fn the_auth_difference_counts_each_inputs_own_events() {
    // Both inputs hold Bob's join; only the first holds an event that cites
    // it. Counting each input's own events as part of its chain (as Synapse
    // and ruma do), Bob's join is in both chains and not in dispute. The
    // two topics are in one chain each, but they are conflicted anyway.
    let r = room();
    let topic_bob = event_at(
        1,
        BOB,
        "m.room.topic",
        "",
        json!({"topic": "b"}),
        &[&r.create, &r.power, &r.bob],
    );
    let topic_alice = event_at(
        2,
        ALICE,
        "m.room.topic",
        "",
        json!({"topic": "a"}),
        &[&r.create, &r.power, &r.alice],
    );
    let base = [&r.create, &r.alice, &r.power, &r.bob];
    let all = store(&[
        &r.create,
        &r.alice,
        &r.power,
        &r.bob,
        &topic_bob,
        &topic_alice,
    ]);
    let sets = [
        state(&[&base[..], &[&topic_bob]].concat()),
        state(&[&base[..], &[&topic_alice]].concat()),
    ];
    let events = Events::gather(&sets, &|id: &EventId| all.get(id), &|_: &EventId| false).unwrap();
    assert_eq!(
        events.auth_difference(),
        [topic_bob.event_id().clone(), topic_alice.event_id().clone()].into()
    );
    // The topics share a mainline position; the later one wins.
    let resolved = resolve(&sets, |id| all.get(id)).unwrap();
    assert_eq!(resolved[&slot("m.room.topic", "")], *topic_alice.event_id());
    assert_eq!(resolved[&slot("m.room.member", BOB)], *r.bob.event_id());
}

#[test]
fn power_events_are_those_that_can_take_power_away() {
    let r = room();
    let member = |sender, target, membership| {
        event(
            sender,
            "m.room.member",
            target,
            json!({"membership": membership}),
            &[],
        )
    };
    let join_rules = event(
        ALICE,
        "m.room.join_rules",
        "",
        json!({"join_rule": "invite"}),
        &[],
    );
    for (event, expected) in [
        (&r.power, true),
        (&join_rules, true),
        (&member(ALICE, BOB, "ban"), true),
        (&member(ALICE, BOB, "leave"), true), // a kick
        (&member(BOB, BOB, "leave"), false),  // leaving of one's own accord
        (&member(BOB, BOB, "join"), false),
        (&r.create, false),
        (&event(BOB, "m.room.topic", "", json!({}), &[]), false),
    ] {
        assert_eq!(is_power_event(event), expected, "{:?}", event.json());
    }
}

#[test]
fn sender_power_comes_from_the_events_own_auth_events() {
    let r = room();
    let all = store(&[&r.create, &r.alice, &r.power, &r.bob]);
    let sets = [state(&[&r.create, &r.alice, &r.power, &r.bob])];
    let events = Events::gather(&sets, &|id: &EventId| all.get(id), &|_: &EventId| false).unwrap();
    // Bob's join cites the power levels that give him 50.
    assert_eq!(sender_power_level(&events, &r.bob), Ok(50));
    // Alice's power levels event cites no power levels: she is the creator.
    assert_eq!(sender_power_level(&events, &r.power), Ok(100));
}

#[test]
fn mainline_positions_count_back_from_the_resolved_power_levels() {
    let r = room();
    let newer = event(
        ALICE,
        "m.room.power_levels",
        "",
        json!({"users": {ALICE: 100}}),
        &[&r.create, &r.alice, &r.power],
    );
    let under_old = event(
        BOB,
        "m.room.topic",
        "",
        json!({}),
        &[&r.create, &r.power, &r.bob],
    );
    let under_new = event(
        ALICE,
        "m.room.topic",
        "",
        json!({}),
        &[&r.create, &newer, &r.alice],
    );
    let all = store(&[
        &r.create, &r.alice, &r.power, &r.bob, &newer, &under_old, &under_new,
    ]);
    let sets = [state(&[
        &r.create, &r.alice, &newer, &r.bob, &under_old, &under_new,
    ])];
    let events = Events::gather(&sets, &|id: &EventId| all.get(id), &|_: &EventId| false).unwrap();
    let mainline = mainline_of(&events, newer.event_id()).unwrap();
    assert_eq!(mainline.len(), 2);
    let position = |e: &Pdu| mainline_position(&events, e, &mainline).unwrap();
    assert_eq!(position(&under_new), MainlinePosition::At(0));
    assert_eq!(position(&under_old), MainlinePosition::At(1));
    // Alice's join cites no power levels at all: it never meets the mainline.
    assert_eq!(position(&r.alice), MainlinePosition::Unreachable);
    assert!(MainlinePosition::Unreachable > MainlinePosition::At(usize::MAX));
}

#[test]
fn missing_events_are_named_not_guessed_at() {
    let r = room();
    let topic = event(
        BOB,
        "m.room.topic",
        "",
        json!({}),
        &[&r.create, &r.power, &r.bob],
    );
    let sets = [state(&[&r.create, &topic]), state(&[&r.create])];
    // The store lost Bob's join, which is in the topic's auth chain.
    let partial = store(&[&r.create, &r.alice, &r.power, &topic]);
    assert_eq!(
        resolve(&sets, |id| partial.get(id)),
        Err(StateResError::MissingEvent {
            event_id: r.bob.event_id().clone()
        })
    );
}

#[test]
fn a_state_map_must_put_events_in_their_own_slots() {
    let r = room();
    let all = store(&[&r.create, &r.alice, &r.power, &r.bob]);
    let mut lying = state(&[&r.create]);
    lying.insert(slot("m.room.member", BOB), r.alice.event_id().clone());
    let error = resolve(&[lying, state(&[&r.create])], |id| all.get(id)).unwrap_err();
    assert_eq!(
        error,
        StateResError::WrongSlot {
            slot: slot("m.room.member", BOB),
            event_id: r.alice.event_id().clone(),
        }
    );
}

#[test]
fn a_lookup_that_forms_an_auth_cycle_is_an_error_not_a_hang() {
    // Real events cannot cite each other in a circle, but a buggy store can
    // hand out events under the wrong IDs. `$x` cites `$y` and `$y` cites `$x`.
    let (x, y): (EventId, EventId) = ("$x".parse().unwrap(), "$y".parse().unwrap());
    let cite = |id: &EventId, state_key| {
        let sender: crate::ids::UserId = ALICE.parse().unwrap();
        let key =
            SigningKey::from_seed(sender.server_name(), "ed25519:1".parse().unwrap(), [5; 32]);
        PduBuilder::new(
            "!r:a.lab".parse().unwrap(),
            sender,
            "m.room.join_rules",
            json!({}),
        )
        .state_key(state_key)
        .auth_events([id.clone()])
        .sign(&key)
        .unwrap()
    };
    let (event_x, event_y) = (cite(&y, "x"), cite(&x, "y"));
    let lookup = |id: &EventId| match id.as_str() {
        "$x" => Some(&event_x),
        "$y" => Some(&event_y),
        _ => None,
    };
    let sets = [
        [(slot("m.room.join_rules", "x"), x.clone())].into(),
        [(slot("m.room.join_rules", "y"), y.clone())].into(),
    ];
    assert!(matches!(
        resolve(&sets, lookup),
        Err(StateResError::AuthEventCycle { count: 2, .. })
    ));
}
