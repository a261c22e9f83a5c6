//! Power events and the reverse topological power ordering
//! (<https://spec.matrix.org/v1.16/rooms/v10/#definitions>).
//!
//! Power is resolved before anything else because everything else depends
//! on it: whether Bob's topic change stands depends on whether Bob was
//! banned, and whether the ban stands depends on the ban sender's power
//! level. So the events that can *take power away* are replayed first, in
//! an order that respects their auth DAG (an event after the events that
//! authorised it) and, where the DAG leaves a choice, lets the most
//! powerful sender go first.

use super::StateResError;
use super::conflict::Events;
use crate::auth::PowerLevels;
use crate::ids::EventId;
use crate::pdu::Pdu;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// A **power event** is one that might remove someone's ability to do
/// something: an `m.room.power_levels` or `m.room.join_rules` state event,
/// or a membership change to `leave` or `ban` sent by someone other than
/// its target (a kick or a ban, not a user leaving on their own).
///
/// This follows the spec's wording: any state key, and not the create
/// event. (Synapse and ruma also count `m.room.create` and require an empty
/// state key; with a single create event and well-formed state, the sets
/// are the same.)
pub fn is_power_event(event: &Pdu) -> bool {
    if !event.is_state() {
        return false;
    }
    match event.event_type() {
        "m.room.power_levels" | "m.room.join_rules" => true,
        "m.room.member" => {
            matches!(event.membership(), Some("leave" | "ban"))
                && event.state_key() != Some(event.sender().as_str())
        }
        _ => false,
    }
}

/// Step 1's selection: the power events in the full conflicted set, and the
/// events of their auth chains that are also in the full conflicted set.
///
/// The spec says "the union of their auth chains"; taken alone, that would
/// replay the room's whole history (the create event, every old power
/// level) over the unconflicted state. Like the spec's earlier wording
/// ("...that appear in the full conflicted set") and the implementations,
/// we keep only events that are in dispute. (Synapse and ruma follow
/// `auth_events` only *through* disputed events, so in theory they can miss
/// a disputed event reachable only via an undisputed one; on thousands of
/// generated forks the two gave the same state every time.)
pub(super) fn power_events_with_conflicted_ancestors(
    events: &Events<'_>,
    full_conflicted: &BTreeSet<EventId>,
) -> Result<BTreeSet<EventId>, StateResError> {
    let mut selected = BTreeSet::new();
    for event_id in full_conflicted {
        if is_power_event(events.get(event_id)?) {
            selected.insert(event_id.clone());
            selected.extend(
                events
                    .auth_chain(event_id)
                    .into_iter()
                    .filter(|id| full_conflicted.contains(id)),
            );
        }
    }
    Ok(selected)
}

/// Sorts `selected` by **reverse topological power ordering**: the
/// lexicographically smallest topological order of the auth DAG, earliest
/// event first.
///
/// Kahn's algorithm, over the `auth_events` edges between selected events:
/// an event becomes ready once all of its selected auth events are placed,
/// and among the ready events the smallest goes next, where `x < y` if
///
/// 1. `x`'s sender has the *greater* power level (computed from `x`'s own
///    `auth_events`: the power levels that authorised it, not today's), or
/// 2. equal levels, and `x` has the smaller `origin_server_ts`, or
/// 3. equal levels and timestamps, and `x` has the smaller event ID.
pub(super) fn reverse_topological_power_ordering(
    events: &Events<'_>,
    selected: &BTreeSet<EventId>,
) -> Result<Vec<EventId>, StateResError> {
    // How many selected auth events each event still waits for, and which
    // selected events each one authorises.
    let mut waiting_on: BTreeMap<&EventId, usize> = BTreeMap::new();
    let mut authorises: BTreeMap<&EventId, Vec<&EventId>> = BTreeMap::new();
    let mut ready = BinaryHeap::new();
    for event_id in selected {
        let auth_events: BTreeSet<&EventId> = events
            .get(event_id)?
            .auth_events()
            .iter()
            .filter(|id| selected.contains(*id))
            .collect();
        waiting_on.insert(event_id, auth_events.len());
        for auth_id in auth_events {
            authorises.entry(auth_id).or_default().push(event_id);
        }
        if waiting_on[event_id] == 0 {
            ready.push(Reverse(ordering_key(events, event_id)?));
        }
    }

    let mut order = Vec::with_capacity(selected.len());
    while let Some(Reverse((_, _, event_id))) = ready.pop() {
        for next in authorises.get(&event_id).into_iter().flatten() {
            if let Some(waiting) = waiting_on.get_mut(*next) {
                *waiting -= 1;
                if *waiting == 0 {
                    ready.push(Reverse(ordering_key(events, next)?));
                }
            }
        }
        order.push(event_id);
    }

    if order.len() < selected.len() {
        let placed: BTreeSet<&EventId> = order.iter().collect();
        let mut stuck = selected.iter().filter(|id| !placed.contains(id));
        if let Some(first) = stuck.next() {
            return Err(StateResError::AuthEventCycle {
                first: first.clone(),
                count: 1 + stuck.count(),
            });
        }
    }
    Ok(order)
}

/// `(higher power first, earlier first, smaller ID first)` as one key that
/// sorts ascending.
fn ordering_key(
    events: &Events<'_>,
    event_id: &EventId,
) -> Result<(Reverse<i64>, u64, EventId), StateResError> {
    let event = events.get(event_id)?;
    Ok((
        Reverse(sender_power_level(events, event)?),
        event.origin_server_ts(),
        event_id.clone(),
    ))
}

/// The sender's power level according to the `m.room.power_levels` and
/// `m.room.create` events in the event's own `auth_events`: the power the
/// sender had when the event was made, which every server can recompute.
///
/// Without a power levels event the creator has 100 and everyone else 0,
/// as in the auth rules. Power levels that cannot be read count as 0; an
/// accepted room v10 event cannot cite such power levels anyway, since
/// they would have been rejected.
pub(super) fn sender_power_level(events: &Events<'_>, event: &Pdu) -> Result<i64, StateResError> {
    let mut power_levels = None;
    let mut create = None;
    for auth_id in event.auth_events() {
        let auth_event = events.get(auth_id)?;
        match (auth_event.event_type(), auth_event.state_key()) {
            ("m.room.power_levels", Some("")) => power_levels = power_levels.or(Some(auth_event)),
            ("m.room.create", Some("")) => create = create.or(Some(auth_event)),
            _ => {}
        }
    }
    Ok(PowerLevels::from_state(power_levels, create)
        .map(|levels| levels.user_level(event.sender()))
        .unwrap_or(0))
}
