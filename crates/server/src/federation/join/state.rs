//! Checking and storing a `send_join` answer: the room's state before our
//! join, and the auth chain that proves it.
//!
//! The resident server is one peer among many, and its answer is as
//! untrusted as any. So every event goes through the first checks on
//! receipt (format, signatures, content hash), and every event must be
//! allowed by the auth rules against its own `auth_events`, which the
//! answer must contain too: the chain has to reach the create event, or
//! nothing is proven. A single bad event spoils the answer.
//!
//! What we store: the state and auth chain as *outliers* (we hold them
//! without their history, whose place backfill may find later), then our
//! join as the first event of our timeline in this room, with the state
//! after it = the state we were given + the join. From then on the room
//! is ours like any other: its current state, its forward extremity (the
//! join), and new events received from peers hang off it.

use super::ROOM_VERSION;
use super::joining::bad;
use super::template::authorise;
use crate::federation::receive::checks::check_pdu;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::auth::{auth_types_for_event, check_auth_rules};
use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_store::{EventWrite, Room, Store};
use serde_json::Value;
use std::collections::BTreeMap;

/// Checks the answer's events, then stores them, our join and the room.
pub(super) async fn store_join_answer(
    homeserver: &Homeserver,
    server: &ServerName,
    join: &Pdu,
    answer: &Value,
) -> Result<(), RoomError> {
    let peers = homeserver.federation();
    let mut events = BTreeMap::new();
    let mut state = StateMap::new();
    for field in ["auth_chain", "state"] {
        let list = answer
            .get(field)
            .and_then(Value::as_array)
            .ok_or_else(|| bad(server, &format!("send_join: `{field}` is not an array")))?;
        for raw in list {
            let checked = check_pdu(peers, raw.clone())
                .await
                .map_err(|e| bad(server, &format!("send_join: {e}")))?;
            let event = checked.pdu;
            if event.room_id() != join.room_id() {
                return Err(bad(server, "send_join: an event of another room"));
            }
            if field == "state"
                && let Some(slot) = slot_of(&event)
            {
                state.insert(slot, event.event_id().clone());
            }
            events.insert(event.event_id().clone(), event);
        }
    }
    check_answer(server, join, &events, &state)?;

    let writing = crate::rooms::events::write_lock(homeserver).await;
    let join = join.clone();
    let position = with_store(homeserver, move |store| {
        let _writing = writing;
        persist(store, &join, &events, state)
    })
    .await?;
    homeserver.announce(position);
    Ok(())
}

/// The create event names version 10 and lets other servers in; every
/// event is allowed by its own auth events; our join by the state.
fn check_answer(
    server: &ServerName,
    join: &Pdu,
    events: &BTreeMap<EventId, Pdu>,
    state: &StateMap<EventId>,
) -> Result<(), RoomError> {
    let create = state
        .get(&slot("m.room.create", ""))
        .and_then(|id| events.get(id))
        .ok_or_else(|| bad(server, "send_join: the state has no create event"))?;
    let version = create.content().get("room_version").and_then(Value::as_str);
    if version.unwrap_or("1") != ROOM_VERSION {
        return Err(RoomError::UnsupportedRoomVersion(
            version.unwrap_or("1").to_owned(),
        ));
    }
    if create.content().get("m.federate") == Some(&Value::Bool(false)) {
        return Err(RoomError::Forbidden(
            "the room is not federated (m.federate is false)".to_owned(),
        ));
    }
    for event in events.values() {
        let mut auth_events = Vec::new();
        for id in event.auth_events() {
            let auth = events
                .get(id)
                .ok_or_else(|| bad(server, &format!("send_join: auth event {id} is missing")))?;
            auth_events.push(auth.clone());
        }
        authorise(event, &auth_events).map_err(|failure| {
            bad(
                server,
                &format!("send_join: {} is not allowed: {failure}", event.event_id()),
            )
        })?;
    }
    let mut auth_state = StateMap::new();
    for slot in auth_types_for_event(join) {
        if let Some(event) = state.get(&slot).and_then(|id| events.get(id)) {
            auth_state.insert(slot, event);
        }
    }
    check_auth_rules(join, &auth_state)?;
    Ok(())
}

/// One atomic step after another, under the write lock: the room record,
/// the outliers, then the join with the room's new current state.
fn persist(
    store: &dyn Store,
    join: &Pdu,
    events: &BTreeMap<EventId, Pdu>,
    mut state: StateMap<EventId>,
) -> Result<lostfound_store::StreamPosition, RoomError> {
    if store.room(join.room_id())?.is_none() {
        store.create_room(&Room {
            room_id: join.room_id().clone(),
            room_version: ROOM_VERSION.to_owned(),
            federate: true,
        })?;
    }
    let mut ordered: Vec<&Pdu> = events.values().collect();
    ordered.sort_by_key(|event| event.depth());
    for event in ordered {
        if store.event(event.event_id())?.is_none() {
            store.persist_event(&EventWrite {
                event,
                state_after: &StateMap::new(),
                forward_extremities: &[],
                current_state: None,
                outlier: true,
                transaction: None,
            })?;
        }
    }
    if let Some(slot) = slot_of(join) {
        state.insert(slot, join.event_id().clone());
    }
    Ok(store.persist_event(&EventWrite {
        event: join,
        state_after: &state,
        forward_extremities: std::slice::from_ref(join.event_id()),
        current_state: None,
        outlier: false,
        transaction: None,
    })?)
}
