//! The iterative auth checks: replaying sorted events over a state, keeping
//! those the auth rules allow (<https://spec.matrix.org/v1.16/rooms/v10/#definitions>).
//!
//! This is where conflicts are actually decided. The sorting steps only
//! choose the order; here each event is checked against the state built so
//! far, as if the room's history had happened in that order. An event that
//! was fine on its own branch can fail here: Bob's join, replayed after the
//! ban that the other branch applied, is not allowed, so it is skipped and
//! Bob stays banned.

use super::StateResError;
use super::conflict::Events;
use crate::auth;
use crate::ids::EventId;
use crate::pdu::Pdu;
use crate::state::{StateMap, slot_of};

/// Applies each of `sorted` to `state` in turn if the auth rules allow it.
///
/// Each event is checked against the state so far, with two refinements
/// from the spec:
///
/// - a slot that the auth rules need ([`auth::auth_types_for_event`]) but
///   that the state does not have yet is filled from the event's own
///   `auth_events`, so an event is not refused just because, say, the
///   sender's join is not among the events being replayed;
/// - an event the caller rejected on receipt is never used to fill such a
///   slot ("auth events aren't re-authed"); but the events being replayed
///   are re-authed, rejected or not, so a previously rejected event that
///   passes now is applied like any other (spec: "Rejected events").
///
/// Rule 2 of the auth rules (checks on the `auth_events` list itself: the
/// right slots, each once, all from this room) is not run here: it was run
/// when each event arrived, and it is about the event's own list, not
/// about the state the event is replayed into. That is why
/// [`auth::check_auth_rules`] leaves it out.
pub(super) fn apply(
    events: &Events<'_>,
    mut state: StateMap<EventId>,
    sorted: &[EventId],
) -> Result<StateMap<EventId>, StateResError> {
    for event_id in sorted {
        let event = events.get(event_id)?;
        let Some(event_slot) = slot_of(event) else {
            continue;
        };
        let auth_state = auth_state_for(events, event, &state)?;
        if auth::check_auth_rules(event, &auth_state).is_ok() {
            state.insert(event_slot, event_id.clone());
        }
    }
    Ok(state)
}

/// The state `event` is checked against: its own non-rejected auth events,
/// overridden by the state so far wherever the state has an event for a
/// slot the auth rules need.
fn auth_state_for<'a>(
    events: &Events<'a>,
    event: &Pdu,
    state: &StateMap<EventId>,
) -> Result<StateMap<&'a Pdu>, StateResError> {
    let mut auth_state = StateMap::new();
    for auth_id in event.auth_events() {
        let auth_event = events.get(auth_id)?;
        if let Some(auth_slot) = slot_of(auth_event)
            && !events.is_rejected(auth_id)
        {
            auth_state.entry(auth_slot).or_insert(auth_event);
        }
    }
    for needed in auth::auth_types_for_event(event) {
        if let Some(current_id) = state.get(&needed) {
            auth_state.insert(needed, events.get(current_id)?);
        }
    }
    Ok(auth_state)
}
