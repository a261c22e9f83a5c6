//! Property: the resolved state does not depend on the order in which the
//! forks' state sets are given, and never overturns what they all agree on.
//!
//! Each generated fork starts from the base room and plays a few random
//! actions (topics, power level edits, bans, kicks, joins, leaves, invites,
//! join rule changes) the way an honest server would: each event cites the
//! auth events the branch's state selects, and an action the auth rules
//! refuse on its own branch is never sent. Timestamps come from a small
//! range so that ties, and thus the event ID tie-breaker, happen often.

use crate::fixture::{Room, base_room, permutations};
use lostfound_protocol::auth::{auth_types_for_event, check_auth_rules};
use lostfound_protocol::ids::{EventId, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_protocol::state_res::resolve;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

const USERS: [&str; 4] = [
    "@alice:a.lab",
    "@bob:b.lab",
    "@charlie:c.lab",
    "@dave:d.lab",
];

#[derive(Debug, Clone)]
enum Action {
    Topic(usize),
    SetUserLevel(usize, usize, i64),
    Membership(usize, usize, &'static str),
    JoinRules(usize, &'static str),
}

fn action() -> impl Strategy<Value = Action> {
    let user = 0..USERS.len();
    prop_oneof![
        user.clone().prop_map(Action::Topic),
        (
            user.clone(),
            user.clone(),
            prop_oneof![Just(0), Just(50), Just(100)]
        )
            .prop_map(|(s, t, l)| Action::SetUserLevel(s, t, l)),
        (
            user.clone(),
            user.clone(),
            prop_oneof![Just("join"), Just("leave"), Just("ban"), Just("invite")]
        )
            .prop_map(|(s, t, m)| Action::Membership(s, t, m)),
        (user, prop_oneof![Just("public"), Just("invite")])
            .prop_map(|(s, r)| Action::JoinRules(s, r)),
    ]
}

/// A branch: actions, each with a timestamp offset from a small range.
fn branch() -> impl Strategy<Value = Vec<(Action, u64)>> {
    prop::collection::vec((action(), 0..4u64), 1..7)
}

/// The sender, type, state key and content of the event an action stands
/// for, on top of `state`.
fn content_of(action: &Action, state: &StateMap<&Pdu>) -> (usize, &'static str, String, Value) {
    match action {
        Action::Topic(s) => (
            *s,
            "m.room.topic",
            String::new(),
            json!({"topic": format!("by {s}")}),
        ),
        Action::SetUserLevel(s, t, level) => {
            let mut content = state
                .get(&slot("m.room.power_levels", ""))
                .map(|pl| Value::Object(pl.content().clone()))
                .unwrap_or_else(|| json!({}));
            content["users"][USERS[*t]] = json!(level);
            (*s, "m.room.power_levels", String::new(), content)
        }
        Action::Membership(s, t, m) => (
            *s,
            "m.room.member",
            USERS[*t].to_owned(),
            json!({"membership": m}),
        ),
        Action::JoinRules(s, rule) => (
            *s,
            "m.room.join_rules",
            String::new(),
            json!({"join_rule": rule}),
        ),
    }
}

fn build(
    sender: usize,
    event_type: &str,
    state_key: &str,
    content: Value,
    auth: Vec<EventId>,
    prev: &EventId,
    ts: u64,
) -> Pdu {
    let sender: UserId = USERS[sender].parse().unwrap();
    let key = SigningKey::from_seed(sender.server_name(), "ed25519:1".parse().unwrap(), [9; 32]);
    PduBuilder::new("!lab:a.lab".parse().unwrap(), sender, event_type, content)
        .state_key(state_key)
        .auth_events(auth)
        .prev_events([prev.clone()])
        .depth(10)
        .origin_server_ts(ts)
        .sign(&key)
        .unwrap()
}

/// Plays `actions` on top of the base room; returns the branch's state.
fn play(
    room: &Room,
    actions: &[(Action, u64)],
    events: &mut HashMap<EventId, Pdu>,
) -> StateMap<EventId> {
    let mut state = room.base_state.clone();
    let mut prev = room.id("IMC");
    for (n, (action, ts)) in actions.iter().enumerate() {
        let current: StateMap<&Pdu> = state
            .iter()
            .map(|(k, id)| (k.clone(), &events[id]))
            .collect();
        let (sender, event_type, state_key, content) = content_of(action, &current);
        let draft = build(
            sender,
            event_type,
            &state_key,
            content.clone(),
            vec![],
            &prev,
            0,
        );
        let auth = auth_types_for_event(&draft)
            .iter()
            .filter_map(|needed| state.get(needed).cloned())
            .collect();
        let event = build(
            sender,
            event_type,
            &state_key,
            content,
            auth,
            &prev,
            10_000 + 1000 * n as u64 + ts,
        );
        if check_auth_rules(&event, &current).is_err() {
            continue; // an honest server does not send what its own state forbids
        }
        let id = event.event_id().clone();
        state.insert(slot_of(&event).unwrap(), id.clone());
        prev = id.clone();
        events.insert(id, event);
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn resolution_ignores_the_order_of_forks(branches in prop::collection::vec(branch(), 2..4)) {
        let room = base_room();
        let mut events = room.events.clone();
        let state_sets: Vec<_> = branches.iter().map(|b| play(&room, b, &mut events)).collect();

        let resolved = resolve(&state_sets, |id| events.get(id)).unwrap();
        for order in permutations(&state_sets) {
            prop_assert_eq!(&resolve(&order, |id| events.get(id)).unwrap(), &resolved);
        }
        // What every fork agrees on is never overturned.
        for (slot, id) in &state_sets[0] {
            if state_sets.iter().all(|set| set.get(slot) == Some(id)) {
                prop_assert_eq!(resolved.get(slot), Some(id));
            }
        }
    }
}
