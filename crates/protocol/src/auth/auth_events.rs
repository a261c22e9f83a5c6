//! Auth events: the state an event cites as its proof of permission
//! (<https://spec.matrix.org/v1.16/server-server-api/#auth-events-selection>),
//! and rule 2 of the room v10 authorization rules, which polices that list.

use super::{AuthFailure, reject};
use crate::pdu::Pdu;
use crate::state::{StateKey, slot, slot_of};
use serde_json::Value;
use std::collections::BTreeSet;

/// The state slots an event's `auth_events` should reference
/// (<https://spec.matrix.org/v1.16/server-server-api/#auth-events-selection>).
///
/// Auth events are the event's *proof of permission*: the create event
/// (which room, who made it), the power levels (who may do what) and the
/// sender's membership. Membership changes also depend on the target's
/// membership and the join rules, and on whoever vouches for a restricted
/// join. The create event itself has no auth events: nothing precedes it.
pub fn auth_types_for_event(event: &Pdu) -> Vec<StateKey> {
    if event.event_type() == "m.room.create" {
        return Vec::new();
    }
    let mut slots = vec![
        slot("m.room.create", ""),
        slot("m.room.power_levels", ""),
        slot("m.room.member", event.sender().as_str()),
    ];
    if event.event_type() == "m.room.member" {
        let content = event.content();
        let membership = content.get("membership").and_then(Value::as_str);
        if let Some(target) = event.state_key() {
            slots.push(slot("m.room.member", target));
        }
        if matches!(membership, Some("join" | "invite" | "knock")) {
            slots.push(slot("m.room.join_rules", ""));
        }
        if membership == Some("invite") {
            let token = content
                .get("third_party_invite")
                .and_then(|invite| invite.get("signed"))
                .and_then(|signed| signed.get("token"))
                .and_then(Value::as_str);
            if let Some(token) = token {
                slots.push(slot("m.room.third_party_invite", token));
            }
        }
        if membership == Some("join") {
            let authoriser = content
                .get("join_authorised_via_users_server")
                .and_then(Value::as_str);
            if let Some(authoriser) = authoriser {
                slots.push(slot("m.room.member", authoriser));
            }
        }
    }
    // The sender may also be the target or the authoriser: list each slot once.
    let mut seen = BTreeSet::new();
    slots.retain(|s| seen.insert(s.clone()));
    slots
}

/// Rule 2: checks on the event's `auth_events` list itself.
///
/// An event chooses its own auth events, so a forger could try to cite a
/// convenient old power levels event, or cite two, or cite an event from
/// another room where they are an admin. These checks pin the list down to
/// exactly the slots [`auth_types_for_event`] names, each at most once,
/// all from this room. (Rule 2.3, no *rejected* auth events, is the
/// caller's job: it alone knows what it rejected.)
///
/// The create event is not checked: rule 1 allows or rejects it before
/// rule 2 is reached.
pub fn check_auth_events(event: &Pdu, auth_events: &[&Pdu]) -> Result<(), AuthFailure> {
    if event.event_type() == "m.room.create" {
        return Ok(());
    }
    let mut seen = BTreeSet::new();
    for auth_event in auth_events {
        if let Some(key) = slot_of(auth_event)
            && !seen.insert(key.clone())
        {
            return Err(reject(
                "2.1",
                format!(
                    "auth_events lists two events for ({:?}, {:?}); an event may cite only one version of each piece of state",
                    key.0, key.1
                ),
            ));
        }
    }
    let allowed = auth_types_for_event(event);
    for auth_event in auth_events {
        match slot_of(auth_event) {
            Some(key) if allowed.contains(&key) => {}
            Some((event_type, state_key)) => {
                return Err(reject(
                    "2.2",
                    format!(
                        "auth_events cites ({event_type:?}, {state_key:?}), which has no say over this {} event from {}",
                        event.event_type(),
                        event.sender()
                    ),
                ));
            }
            None => {
                return Err(reject(
                    "2.2",
                    format!(
                        "auth_events cites {}, which is not a state event and so cannot grant permission",
                        auth_event.event_id()
                    ),
                ));
            }
        }
    }
    if !seen.contains(&slot("m.room.create", "")) {
        return Err(reject(
            "2.4",
            "auth_events does not cite the room's m.room.create event, so nothing ties the event to a room",
        ));
    }
    if let Some(stranger) = auth_events.iter().find(|a| a.room_id() != event.room_id()) {
        return Err(reject(
            "2.5",
            format!(
                "auth event {} belongs to room {}, not {}; permission in one room grants nothing in another",
                stranger.event_id(),
                stranger.room_id(),
                event.room_id()
            ),
        ));
    }
    Ok(())
}
