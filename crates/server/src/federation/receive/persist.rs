//! Steps 5–8 of the checks on receipt, under the write lock: the auth
//! rules three times over, then the store.
//!
//! The same rules run against three different states, and each failure
//! means something different
//! (<https://spec.matrix.org/v1.16/server-server-api/#checks-performed-on-receipt-of-a-pdu>):
//!
//! | against | a failure means | so the event is |
//! |---|---|---|
//! | its own `auth_events` | its own proof of permission is bad | rejected |
//! | the state before it (its parents' state) | it was not allowed where it claims to stand in history | rejected |
//! | the room's current state | it was allowed then, but no longer (soft failure, <https://spec.matrix.org/v1.16/server-server-api/#soft-failure>) | kept, without effect |
//!
//! The third check stops a banned user's server from slipping events in by
//! pretending it never saw the ban: it may attach them to history before
//! the ban, and they are valid there, but they will not reach clients.

use super::Outcome;
use super::ReceiveError;
use super::checks::Checked;
use super::gaps::Plan;
use super::resolution::resolve_states;
use crate::hooks::Hooks;
use crate::rooms::events::WriteLock;
use lostfound_protocol::auth::{
    AuthFailure, auth_types_for_event, check_auth_events, check_auth_rules,
};
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_store::{EventWrite, Store, StoreError, StreamPosition};

/// What happened to each event of a plan, in order, with its stream
/// position when it entered the timeline.
pub(super) type Results = Vec<(
    EventId,
    Result<Outcome, ReceiveError>,
    Option<StreamPosition>,
)>;

/// Checks and stores the plan's outliers, then its timeline events in order.
pub(super) fn apply(store: &dyn Store, hooks: &Hooks, plan: Plan, _writing: &WriteLock) -> Results {
    for outlier in &plan.outliers {
        if let Err(error) = store_outlier(store, outlier) {
            tracing::warn!(event = %outlier.event_id(), %error, "outlier not stored");
        }
    }
    let mut results = Results::new();
    for checked in &plan.timeline {
        let event_id = checked.pdu.event_id().clone();
        let given_state = plan.state_before.get(&event_id);
        match receive_one(store, hooks, checked, given_state) {
            Ok((outcome, position)) => results.push((event_id, Ok(outcome), position)),
            Err(error) => results.push((event_id, Err(error), None)),
        }
    }
    results
}

/// Whether we hold `event_id`, *as an event of `room_id`*, together with
/// the state after it. Outliers fetched for their own sake are stored with
/// an empty state (see the module docs of `receive`); no real room state
/// lacks the create event.
///
/// The room matters because event IDs are global: the store answers for
/// any room. The state after an event of another room is that room's
/// state, and taken as "the state before" an event here it would carry
/// the other room's members and power levels into this one. An event of
/// another room is therefore never a parent whose state we know.
pub(super) fn state_is_known(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<bool, StoreError> {
    let in_room = store
        .event(event_id)?
        .is_some_and(|stored| stored.event.room_id() == room_id);
    Ok(in_room
        && store
            .state_after(event_id)?
            .is_some_and(|state| state.contains_key(&slot("m.room.create", ""))))
}

/// The reason to reject `event` if one of its `prev_events` is an event we
/// hold in *another* room; `None` if every parent we hold is in its room.
///
/// The attack: a server with a member in room X sends, in X, an event
/// whose `prev_events` name an event of room Z that we also hold. Without
/// this check the parent looks known, so no gap is filled, and the state
/// before the new event is the state after Z's event: Z's create event,
/// members and power levels. The auth rules pass against it (the attacker
/// picks a Z where it may speak), and state resolution then merges Z's
/// state into X's current state, where it locks X's own users out.
///
/// A room's graph never crosses rooms, so such an event is not a subtle
/// fork but a forgery: rejected, like an auth event from another room
/// (auth rule 2.5). Parents we do not hold are left to the gap filling,
/// which only ever asks for and keeps events of this room.
pub(super) fn parent_in_another_room(
    store: &dyn Store,
    event: &Pdu,
) -> Result<Option<String>, StoreError> {
    for prev in event.prev_events() {
        if let Some(stored) = store.event(prev)?
            && stored.event.room_id() != event.room_id()
        {
            return Ok(Some(format!(
                "prev_event {prev} belongs to room {}, not {}; an event's parents must be in its own room",
                stored.event.room_id(),
                event.room_id()
            )));
        }
    }
    Ok(None)
}

/// An auth event or a piece of state at a gap: checked against its own
/// auth events only (we do not know where it stands in history), then kept
/// out of the timeline. One that fails is not stored; whatever cites it
/// will find it missing.
fn store_outlier(store: &dyn Store, event: &Pdu) -> Result<(), ReceiveError> {
    if store.event(event.event_id())?.is_some() {
        return Ok(());
    }
    let Some(auth_events) = load_all(store, event.auth_events())? else {
        return Err(ReceiveError::StateUnknown(format!(
            "{}: its auth events are unavailable",
            event.event_id()
        )));
    };
    if let Err(failure) = authorise(event, &auth_events) {
        tracing::warn!(event = %event.event_id(), %failure, "outlier rejected");
        return Ok(());
    }
    store.persist_event(&EventWrite {
        event,
        state_after: &StateMap::new(),
        forward_extremities: &[],
        current_state: None,
        outlier: true,
        transaction: None,
    })?;
    Ok(())
}

/// Steps 5 to 8 for one timeline event.
fn receive_one(
    store: &dyn Store,
    hooks: &Hooks,
    checked: &Checked,
    given_state: Option<&StateMap<EventId>>,
) -> Result<(Outcome, Option<StreamPosition>), ReceiveError> {
    let event = &checked.pdu;
    if store.event(event.event_id())?.is_some() {
        return Ok((Outcome::AlreadyKnown, None));
    }
    // Step 5: the event's own proof of permission.
    let Some(auth_events) = load_all(store, event.auth_events())? else {
        let reason = "some of its auth events are unavailable, so its permission cannot be checked";
        return Ok((Outcome::Rejected(reason.to_owned()), None));
    };
    if let Err(failure) = authorise(event, &auth_events) {
        return Ok((Outcome::Rejected(failure.to_string()), None));
    }
    // Step 6: the state where the event claims to stand, which must be in
    // this room (`receive_pdu` checked the received event already; this
    // covers the events of a gap too, and anything stored since).
    if let Some(reason) = parent_in_another_room(store, event)? {
        return Ok((Outcome::Rejected(reason), None));
    }
    let state_before = match given_state {
        Some(state) => state.clone(),
        None => state_before(store, hooks, event)?,
    };
    if let Err(failure) = check_against(store, event, &state_before)? {
        return Ok((Outcome::Rejected(failure.to_string()), None));
    }
    let mut state_after = state_before;
    if let Some(slot) = slot_of(event) {
        state_after.insert(slot, event.event_id().clone());
    }
    // Step 7: the room as it is now. A soft-failed event is stored as an
    // outlier: in the graph (its children can be checked), with its true
    // state after, but not in the timeline, the current state or the
    // forward extremities, so no new event of ours will build on it.
    let current = store.current_state(event.room_id())?;
    if let Err(failure) = check_against(store, event, &current)? {
        store.persist_event(&EventWrite {
            event,
            state_after: &state_after,
            forward_extremities: &[],
            current_state: None,
            outlier: true,
            transaction: None,
        })?;
        return Ok((Outcome::SoftFailed(failure.to_string()), None));
    }
    // Step 8: the event's parents are no longer extremities; it is one.
    let mut extremities: Vec<EventId> = store
        .forward_extremities(event.room_id())?
        .into_iter()
        .filter(|extremity| !event.prev_events().contains(extremity))
        .collect();
    extremities.push(event.event_id().clone());
    // With one extremity the room's state is the state after it; with
    // several (a fork we have not merged yet), all their states count.
    let current_after = if extremities.len() == 1 {
        None
    } else {
        let mut sets = Vec::with_capacity(extremities.len());
        for extremity in &extremities[..extremities.len() - 1] {
            sets.push(store.state_after(extremity)?.ok_or_else(|| {
                ReceiveError::StateUnknown(format!(
                    "no state after the forward extremity {extremity}"
                ))
            })?);
        }
        sets.push(state_after.clone());
        Some(resolve_states(store, hooks, &sets, event)?)
    };
    let position = store.persist_event(&EventWrite {
        event,
        state_after: &state_after,
        forward_extremities: &extremities,
        current_state: current_after.as_ref(),
        outlier: false,
        transaction: None,
    })?;
    let outcome = if checked.redacted {
        Outcome::Redacted
    } else {
        Outcome::Accepted
    };
    Ok((outcome, Some(position)))
}

/// The state before `event`: the state after its one parent, or the
/// resolution of its parents' states. Parents we do not hold are left out
/// (they are a backwards extremity); with none left, the state is unknown.
fn state_before(
    store: &dyn Store,
    hooks: &Hooks,
    event: &Pdu,
) -> Result<StateMap<EventId>, ReceiveError> {
    let mut sets = Vec::new();
    for prev in event.prev_events() {
        if state_is_known(store, event.room_id(), prev)?
            && let Some(state) = store.state_after(prev)?
        {
            sets.push(state);
        }
    }
    match sets.len() {
        0 => Err(ReceiveError::StateUnknown(format!(
            "all prev_events of {} are missing",
            event.event_id()
        ))),
        1 => Ok(sets.pop().unwrap_or_default()),
        _ => resolve_states(store, hooks, &sets, event),
    }
}

/// The auth rules (all but rule 2) against `state`: only the slots the
/// event's auth events would be chosen from are read.
fn check_against(
    store: &dyn Store,
    event: &Pdu,
    state: &StateMap<EventId>,
) -> Result<Result<(), AuthFailure>, ReceiveError> {
    let mut events = StateMap::new();
    for slot in auth_types_for_event(event) {
        if let Some(event_id) = state.get(&slot) {
            // A state map names events of its own room only; one that does
            // not would let another room's events decide this one's rules.
            let stored = store
                .event(event_id)?
                .filter(|stored| stored.event.room_id() == event.room_id())
                .ok_or_else(|| {
                    ReceiveError::StateUnknown(format!(
                        "state names {event_id}, which is not stored in room {}",
                        event.room_id()
                    ))
                })?;
            events.insert(slot, stored.event);
        }
    }
    let by_ref: StateMap<&Pdu> = events
        .iter()
        .map(|(slot, pdu)| (slot.clone(), pdu))
        .collect();
    Ok(check_auth_rules(event, &by_ref))
}

/// Rule 2 on the auth events list, then the other rules against it.
fn authorise(event: &Pdu, auth_events: &[Pdu]) -> Result<(), AuthFailure> {
    let cited: Vec<&Pdu> = auth_events.iter().collect();
    check_auth_events(event, &cited)?;
    let auth_state: StateMap<&Pdu> = auth_events
        .iter()
        .filter_map(|auth| slot_of(auth).map(|slot| (slot, auth)))
        .collect();
    check_auth_rules(event, &auth_state)
}

/// Every event of `ids` from the store, or `None` if any is missing.
fn load_all(store: &dyn Store, ids: &[EventId]) -> Result<Option<Vec<Pdu>>, ReceiveError> {
    let mut events = Vec::with_capacity(ids.len());
    for id in ids {
        match store.event(id)? {
            Some(stored) => events.push(stored.event),
            None => return Ok(None),
        }
    }
    Ok(Some(events))
}
