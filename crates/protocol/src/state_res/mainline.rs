//! Mainline ordering: sorting ordinary events by the power levels they
//! were authorised under (<https://spec.matrix.org/v1.16/rooms/v10/#definitions>).
//!
//! Once power is settled, the other conflicted events (topics, names, joins)
//! need an order too. Their auth DAGs are no help: two topic changes on two
//! branches need not be related at all. What they do have is a power levels
//! event in their `auth_events`. Follow the resolved power levels event `P`
//! back through *its* power levels auth events, and you get the **mainline**:
//! `P`, the power levels before `P`, the ones before that, back to the first.
//! An event's **mainline position** is where its own chain of power levels
//! first meets the mainline. Events that were authorised under older power
//! levels go first, so later events (under newer power) are replayed last
//! and win.

use super::StateResError;
use super::conflict::Events;
use crate::ids::EventId;
use crate::pdu::Pdu;
use crate::state::{StateMap, slot};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Where an event's power levels meet the mainline. `Unreachable` (the
/// spec's ∞) sorts after every index; it is derived `Ord` in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum MainlinePosition {
    /// The index in the mainline: 0 is the resolved power levels event
    /// itself, larger is older.
    At(usize),
    /// The event's power levels chain never meets the mainline (or it cites
    /// no power levels at all).
    Unreachable,
}

/// Sorts `others` by mainline ordering based on the power levels event in
/// `partial_state`: `x < y` if
///
/// 1. `x`'s mainline position is *greater* (based on an older point of the
///    mainline, or on none at all), or
/// 2. equal positions, and `x` has the smaller `origin_server_ts`, or
/// 3. equal positions and timestamps, and `x` has the smaller event ID.
pub(super) fn mainline_ordering(
    events: &Events<'_>,
    others: &BTreeSet<EventId>,
    partial_state: &StateMap<EventId>,
) -> Result<Vec<EventId>, StateResError> {
    let mainline = match partial_state.get(&slot("m.room.power_levels", "")) {
        Some(power_levels) => mainline_of(events, power_levels)?,
        None => BTreeMap::new(),
    };
    let mut keyed = Vec::with_capacity(others.len());
    for event_id in others {
        let event = events.get(event_id)?;
        let position = mainline_position(events, event, &mainline)?;
        keyed.push((Reverse(position), event.origin_server_ts(), event_id));
    }
    keyed.sort();
    Ok(keyed.into_iter().map(|(_, _, id)| id.clone()).collect())
}

/// The mainline of `power_levels`, as a map from event ID to its index:
/// `P0 = power_levels`, `P(i+1)` = the power levels in `Pi`'s `auth_events`.
pub(super) fn mainline_of(
    events: &Events<'_>,
    power_levels: &EventId,
) -> Result<BTreeMap<EventId, usize>, StateResError> {
    let mut mainline = BTreeMap::new();
    let mut current = Some(power_levels.clone());
    while let Some(event_id) = current {
        let index = mainline.len();
        if mainline.insert(event_id.clone(), index).is_some() {
            return Err(cycle(&event_id, index));
        }
        current = power_levels_auth_event(events, events.get(&event_id)?)?;
    }
    Ok(mainline)
}

/// The mainline position of `event`: walk `e1` = the power levels in its
/// `auth_events`, `e2` = the power levels in `e1`'s, ..., and take the index
/// of the first one on the mainline. `event` itself is not considered.
pub(super) fn mainline_position(
    events: &Events<'_>,
    event: &Pdu,
    mainline: &BTreeMap<EventId, usize>,
) -> Result<MainlinePosition, StateResError> {
    let mut seen = BTreeSet::new();
    let mut current = power_levels_auth_event(events, event)?;
    while let Some(event_id) = current {
        if let Some(index) = mainline.get(&event_id) {
            return Ok(MainlinePosition::At(*index));
        }
        if !seen.insert(event_id.clone()) {
            return Err(cycle(&event_id, seen.len()));
        }
        current = power_levels_auth_event(events, events.get(&event_id)?)?;
    }
    Ok(MainlinePosition::Unreachable)
}

/// The `m.room.power_levels` event among `event`'s `auth_events`, if any.
/// The auth rules allow at most one; should there be more, the first counts.
fn power_levels_auth_event(
    events: &Events<'_>,
    event: &Pdu,
) -> Result<Option<EventId>, StateResError> {
    for auth_id in event.auth_events() {
        let auth_event = events.get(auth_id)?;
        if auth_event.event_type() == "m.room.power_levels" && auth_event.state_key() == Some("") {
            return Ok(Some(auth_id.clone()));
        }
    }
    Ok(None)
}

fn cycle(event_id: &EventId, count: usize) -> StateResError {
    StateResError::AuthEventCycle {
        first: event_id.clone(),
        count,
    }
}
