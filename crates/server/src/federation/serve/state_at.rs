//! The state of a room at an event, and auth chains: what a peer needs to
//! check an event it received, or to join a room's history midway.
//!
//! **The state before an event.** The store keeps the state *after* each
//! event. For an event that is not a state event, that is also the state
//! before it. For a state event, the state before it is the state after
//! its parent; with several parents (the room forked and this event merges
//! the branches), it is their states merged by state resolution v2, the
//! same computation the server did when it accepted the event.
//!
//! **Auth chains.** An event's auth chain is its `auth_events`, theirs,
//! and so on back to the create event. A peer that receives the state
//! needs the chain too, to check that every state event was allowed.

use super::{ServeError, event_in_room};
use crate::federation::StateIds;
use lostfound_protocol::dag;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use lostfound_protocol::state_res;
use lostfound_store::Store;
use std::collections::{BTreeMap, BTreeSet};

/// The state of `room_id` just before `event_id`, as event IDs.
pub fn state_before(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<StateMap<EventId>, ServeError> {
    let stored = event_in_room(store, room_id, event_id)?;
    let unknown = || ServeError::StateUnknown(event_id.clone());
    if stored.outlier {
        return Err(unknown());
    }
    let event = stored.event;
    if !event.is_state() {
        return store.state_after(event_id)?.ok_or_else(unknown);
    }
    let mut parent_states = Vec::new();
    for prev in event.prev_events() {
        // Only a parent in this room: the state after an event of another
        // room is that room's state, and serving it as this room's would
        // hand a peer another room's members and power levels. (The
        // receiving side rejects such events; this guards what was stored
        // before it did, and the store, which answers for any room.)
        let in_room = store
            .event(prev)?
            .is_some_and(|parent| parent.event.room_id() == room_id);
        if !in_room {
            return Err(unknown());
        }
        parent_states.push(store.state_after(prev)?.ok_or_else(unknown)?);
    }
    match parent_states.as_slice() {
        [] => Ok(StateMap::new()), // the create event: nothing came before
        [single] => Ok(single.clone()),
        several => {
            let start: Vec<EventId> = several.iter().flat_map(|s| s.values().cloned()).collect();
            let events = load_with_auth_chains(store, room_id, &start)?;
            Ok(state_res::resolve(several, |id| events.get(id))?)
        }
    }
}

/// `state_ids`: the state before `event_id`, and the auth chain of that
/// state, both as event IDs.
pub fn state_ids(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<StateIds, ServeError> {
    let state = state_before(store, room_id, event_id)?;
    let pdu_ids: Vec<EventId> = state.values().cloned().collect();
    let auth_chain_ids = auth_chain(store, room_id, &pdu_ids)?
        .iter()
        .map(|event| event.event_id().clone())
        .collect();
    Ok(StateIds {
        pdu_ids,
        auth_chain_ids,
    })
}

/// `state`: like [`state_ids`], with the events themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomState {
    pub pdus: Vec<Pdu>,
    pub auth_chain: Vec<Pdu>,
}

/// `state`: the state events before `event_id`, and their auth chain.
pub fn state(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<RoomState, ServeError> {
    let state = state_before(store, room_id, event_id)?;
    let mut pdus = Vec::with_capacity(state.len());
    for state_event_id in state.values() {
        pdus.push(event_in_room(store, room_id, state_event_id)?.event);
    }
    let ids: Vec<EventId> = state.into_values().collect();
    let auth_chain = auth_chain(store, room_id, &ids)?;
    Ok(RoomState { pdus, auth_chain })
}

/// `event_auth`: the auth chain of one event (the event itself excluded).
pub fn event_auth(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<Vec<Pdu>, ServeError> {
    event_in_room(store, room_id, event_id)?;
    auth_chain(store, room_id, std::slice::from_ref(event_id))
}

/// The auth chain of `start` (see [`dag::auth_chain`]), as the events we
/// hold, sorted by depth and then ID, so that an event's auth events
/// usually come before it (a receiver must not rely on that).
///
/// If we lack part of the chain (a server that was restored may), we
/// answer with what we hold and log it: the peer can ask `event_auth` or
/// another server for the rest, and a partial truthful answer beats none.
pub fn auth_chain(
    store: &dyn Store,
    room_id: &RoomId,
    start: &[EventId],
) -> Result<Vec<Pdu>, ServeError> {
    let events = load_with_auth_chains(store, room_id, start)?;
    let chain = dag::auth_chain(start, |id| events.get(id));
    if !chain.is_complete() {
        tracing::warn!(room = %room_id, missing = ?chain.missing, "serving an incomplete auth chain");
    }
    let mut found: Vec<Pdu> = chain
        .events
        .iter()
        .filter_map(|id| events.get(id).cloned())
        .collect();
    found.sort_by(|a, b| (a.depth(), a.event_id()).cmp(&(b.depth(), b.event_id())));
    Ok(found)
}

/// Loads `start` and every event reachable from them through
/// `auth_events`, keeping only events of `room_id` (an auth event in
/// another room would be forged, and must not leak that room). Events we
/// do not hold are simply absent from the map.
fn load_with_auth_chains(
    store: &dyn Store,
    room_id: &RoomId,
    start: &[EventId],
) -> Result<BTreeMap<EventId, Pdu>, ServeError> {
    let mut events = BTreeMap::new();
    let mut visited: BTreeSet<EventId> = BTreeSet::new();
    let mut to_visit: Vec<EventId> = start.to_vec();
    while let Some(event_id) = to_visit.pop() {
        if !visited.insert(event_id.clone()) {
            continue;
        }
        let Some(stored) = store.event(&event_id)? else {
            continue;
        };
        if stored.event.room_id() != room_id {
            continue;
        }
        to_visit.extend(stored.event.auth_events().iter().cloned());
        events.insert(event_id, stored.event);
    }
    Ok(events)
}
