//! Steps 4 and 5 of backfill (see [`super`]): the auth checks on a
//! checked batch, oldest first, then one write before the timeline.
//!
//! Each event must pass the auth rules against its own `auth_events`,
//! looked up first among the events of the batch already accepted (an
//! old state event cited by an old message often arrives in the same
//! answer), then in the store, and always **in the event's own room**: an
//! ID naming another room's event counts as missing. Rejected events are
//! not stored; an event citing one finds its auth event missing and is
//! rejected in turn.
//!
//! # Why its own auth events are not enough
//!
//! `auth_events` are chosen by the event's sender. A user banned long ago
//! can still cite the join he once had, and the pair passes the rules: the
//! ban is simply not among the events he cites. What exposes the forgery
//! is the room's state *before* the event, computed from its parents
//! (`prev_events`), which holds the ban. So the state before must be
//! checked too, and it is known only when every parent's state is:
//!
//! - no parents: the create event, and the state before is empty;
//! - one parent: the state after it (from the batch or the store);
//! - several parents whose states are all known: those states resolved
//!   with state resolution v2, as `federation::receive` does;
//! - otherwise (a parent we lack, or one held without state): unknown.
//!
//! # An event whose state before is unknown
//!
//! We cannot run the real check, so we must not present the event as
//! history our users can trust. It is checked instead against the room's
//! **current** state, a conservative substitute: a sender banned or gone
//! since fails it. An event that passes is stored in the timeline (the
//! common case: a current member's messages just behind a gap in what the
//! peer sent). One that fails is not rejected (it may be honest history of
//! a member who has since left) but stored as an **outlier**: kept for the
//! auth chains of other events, never shown by `/messages` or `/sync`,
//! and giving no state to its children. The substitute is weaker than the
//! spec's check in one case: a member who was banned, then unbanned and is
//! joined now, could slip a forged message citing his old join into the
//! gap; closing it needs the state at the missing parent, fetched with
//! `/state_ids`, which backfill does not do yet.

use crate::hooks::Hooks;
use lostfound_protocol::auth::{auth_types_for_event, check_auth_events, check_auth_rules};
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_protocol::state_res::resolve;
use lostfound_store::{EventWrite, Store, StoreError};
use std::collections::HashMap;

/// An accepted event of the batch: the event, the state after it (empty
/// when unknown), and whether it is stored as an outlier.
struct Accepted {
    event: Pdu,
    state_after: StateMap<EventId>,
    outlier: bool,
}

/// Step 4 and 5 of the module docs: the auth checks, oldest first, then one
/// write. Returns how many events entered the timeline (outliers are
/// stored but not counted).
pub(super) fn authorise_and_store(
    store: &dyn Store,
    hooks: &Hooks,
    batch: Vec<Pdu>,
) -> Result<usize, StoreError> {
    let mut accepted: HashMap<EventId, Accepted> = HashMap::new();
    let mut order = Vec::new();
    for event in batch {
        let held = store.event(event.event_id())?;
        if held
            .as_ref()
            .is_some_and(|held| !held.outlier && held.event.room_id() == event.room_id())
        {
            continue;
        }
        let room_id = event.room_id().clone();
        let lookup = |id: &EventId| lookup_in_room(store, &accepted, &room_id, id);
        let mut auth_events = Vec::new();
        for id in event.auth_events() {
            auth_events.extend(lookup(id)?);
        }
        let cited: Vec<&Pdu> = auth_events.iter().collect();
        let auth_state: StateMap<&Pdu> = auth_events
            .iter()
            .filter_map(|auth| slot_of(auth).map(|slot| (slot, auth)))
            .collect();
        let verdict =
            check_auth_events(&event, &cited).and_then(|()| check_auth_rules(&event, &auth_state));
        if let Err(failure) = verdict {
            tracing::warn!(event = %event.event_id(), %failure, "backfilled event rejected");
            continue;
        }
        let before = state_before(store, hooks, &accepted, &event)?;
        let outlier = match &before {
            Some(before) => {
                if let Err(failure) = check_against(&event, before, &lookup)? {
                    tracing::warn!(event = %event.event_id(), %failure, "backfilled event rejected by the state before it");
                    continue;
                }
                false
            }
            None => {
                let now = store.current_state(&room_id)?;
                let verdict = check_against(&event, &now, &lookup)?;
                if let Err(failure) = &verdict {
                    tracing::info!(
                        event = %event.event_id(), %failure,
                        "backfilled event of unknown state fails the current state: kept as an outlier"
                    );
                }
                verdict.is_err()
            }
        };
        // A state event is in the state after itself; unknown stays unknown.
        let state_after = match before {
            Some(mut state) => {
                if let Some(slot) = slot_of(&event) {
                    state.insert(slot, event.event_id().clone());
                }
                state
            }
            None => StateMap::new(),
        };
        if outlier && held.is_some() {
            // Already held as an outlier, and it stays one: nothing to write,
            // but later events of the batch may still cite it.
        } else {
            order.push(event.event_id().clone());
        }
        accepted.insert(
            event.event_id().clone(),
            Accepted {
                event,
                state_after,
                outlier,
            },
        );
    }
    let writes: Vec<EventWrite<'_>> = order
        .iter()
        .filter_map(|id| accepted.get(id))
        .map(|accepted| EventWrite {
            event: &accepted.event,
            state_after: &accepted.state_after,
            forward_extremities: &[],
            current_state: None,
            outlier: accepted.outlier,
            transaction: None,
        })
        .collect();
    let in_timeline = writes.iter().filter(|write| !write.outlier).count();
    store.persist_backfilled_events(&writes)?;
    Ok(in_timeline)
}

/// `id` as an event of `room_id`: from the batch, else from the store. An
/// event of another room is treated as missing, so that no event is
/// authorised, nor given state, by another room's events.
fn lookup_in_room(
    store: &dyn Store,
    accepted: &HashMap<EventId, Accepted>,
    room_id: &RoomId,
    id: &EventId,
) -> Result<Option<Pdu>, StoreError> {
    let found = match accepted.get(id) {
        Some(accepted) => Some(accepted.event.clone()),
        None => store.event(id)?.map(|stored| stored.event),
    };
    Ok(found.filter(|event| event.room_id() == room_id))
}

/// The auth rules on `event` against the state map `state` (event IDs,
/// loaded through `lookup`). The outer error is the store's; the inner
/// one the rules' verdict.
fn check_against(
    event: &Pdu,
    state: &StateMap<EventId>,
    lookup: &impl Fn(&EventId) -> Result<Option<Pdu>, StoreError>,
) -> Result<Result<(), lostfound_protocol::auth::AuthFailure>, StoreError> {
    let mut loaded = StateMap::new();
    for slot in auth_types_for_event(event) {
        if let Some(pdu) = state.get(&slot).map(lookup).transpose()?.flatten() {
            loaded.insert(slot, pdu);
        }
    }
    let by_ref: StateMap<&Pdu> = loaded.iter().map(|(s, p)| (s.clone(), p)).collect();
    Ok(check_auth_rules(event, &by_ref))
}

/// The state before `event` when we know it; see the module docs. `None`
/// when a parent is missing, of another room, held without state, or when
/// resolving several parents' states fails.
fn state_before(
    store: &dyn Store,
    hooks: &Hooks,
    accepted: &HashMap<EventId, Accepted>,
    event: &Pdu,
) -> Result<Option<StateMap<EventId>>, StoreError> {
    let room_id = event.room_id();
    if event.prev_events().is_empty() {
        return Ok(Some(StateMap::new()));
    }
    let mut sets = Vec::with_capacity(event.prev_events().len());
    for parent in event.prev_events() {
        let state = match accepted.get(parent) {
            Some(accepted) if accepted.event.room_id() == room_id => {
                Some(accepted.state_after.clone())
            }
            Some(_) => None,
            None => match store.event(parent)? {
                Some(stored) if stored.event.room_id() == room_id => store.state_after(parent)?,
                _ => None,
            },
        };
        // An empty map (an outlier's) means unknown: every room's state
        // holds its create event.
        match state.filter(|state| state.contains_key(&slot("m.room.create", ""))) {
            Some(state) => sets.push(state),
            None => return Ok(None),
        }
    }
    if let [only] = sets.as_slice() {
        return Ok(Some(only.clone()));
    }
    resolve_in_room(store, hooks, accepted, room_id, &sets)
}

/// Several parents' states resolved with state resolution v2, loading the
/// events named and their auth chains from the batch and the store (this
/// room's only). `None` if an event is missing or resolution fails: the
/// state is then unknown, never guessed.
fn resolve_in_room(
    store: &dyn Store,
    hooks: &Hooks,
    accepted: &HashMap<EventId, Accepted>,
    room_id: &RoomId,
    sets: &[StateMap<EventId>],
) -> Result<Option<StateMap<EventId>>, StoreError> {
    let mut events: HashMap<EventId, Pdu> = HashMap::new();
    let mut to_load: Vec<EventId> = sets.iter().flat_map(|set| set.values().cloned()).collect();
    // Each ID is loaded at most once, so this ends.
    while let Some(id) = to_load.pop() {
        if events.contains_key(&id) {
            continue;
        }
        if let Some(event) = lookup_in_room(store, accepted, room_id, &id)? {
            to_load.extend(event.auth_events().iter().cloned());
            events.insert(id, event);
        }
    }
    let lookup = |id: &EventId| events.get(id).cloned();
    if let Some(answer) = hooks.resolve_by_hook(sets, &lookup) {
        return Ok(answer.ok());
    }
    match resolve(sets, |id| events.get(id)) {
        Ok(state) => Ok(Some(state)),
        Err(error) => {
            tracing::warn!(%error, "backfill: could not resolve the parents' states");
            Ok(None)
        }
    }
}
