//! The resident server's half of `make_join` and `make_leave`: an
//! unsigned event *template* the joining server fills in and signs.
//!
//! Why a template at all? The joining server holds nothing of the room: it
//! cannot know the room's forward extremities (the `prev_events`), its
//! depth, or which state events prove the join is allowed (the
//! `auth_events`). The resident server does, so it proposes them. The
//! joiner then sets `origin` and `origin_server_ts`, hashes and signs: the
//! event is the joiner's, because only the joiner's server may sign for
//! its user.
//!
//! Before proposing anything we run the auth rules on the would-be event,
//! exactly as for a local one: a join the room would reject (an invite-only
//! room, a banned user) is refused now, naming the rule, instead of after a
//! signed round trip.
//!
//! And we propose templates only while **one of our own users is joined**
//! to the room. A server whose users have all left stops receiving the
//! room's events: its forward extremities and current state freeze at the
//! moment it left. A template built on them would place the joiner on that
//! stale branch, citing a state that may long have changed (a ban, a new
//! join rule), and the joiner would learn the room from a server that no
//! longer knows it. Like Synapse, we answer 404 `M_NOT_FOUND` instead, so
//! the joiner asks another resident server.

use crate::error::ApiError;
use crate::rooms::RoomError;
use crate::rooms::events::MAX_PREV_EVENTS;
use crate::state::Homeserver;
use lostfound_protocol::auth::{auth_types_for_event, check_auth_events, check_auth_rules};
use lostfound_protocol::ids::{RoomId, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_store::Store;
use serde_json::{Value, json};

/// Builds the template for `user`'s `membership` (`join` or `leave`) in
/// `room_id`, refusing what the room or the auth rules would refuse.
pub fn member_template(
    store: &dyn Store,
    homeserver: &Homeserver,
    room_id: &RoomId,
    user: &UserId,
    membership: &str,
) -> Result<Value, ApiError> {
    if !has_joined_local_user(store, homeserver, room_id)? {
        return Err(RoomError::NotFound(format!(
            "this server is not in room {room_id}: none of its users is joined to it, \
             so it cannot propose the room's current position; ask another server"
        ))
        .into());
    }
    let content = json!({ "membership": membership });
    let event = build_member_event(store, homeserver, room_id, user, user, content)?;
    // The joiner signs; our hashes and signature would only be overwritten.
    let mut template = event.into_json();
    for key in ["hashes", "signatures", "origin"] {
        template.remove(key);
    }
    Ok(Value::Object(template))
}

/// Whether one of our users is joined to `room_id` in its current state:
/// only then do we receive its new events and know where it stands now.
fn has_joined_local_user(
    store: &dyn Store,
    homeserver: &Homeserver,
    room_id: &RoomId,
) -> Result<bool, RoomError> {
    let ours = &homeserver.config().server_name;
    for ((event_type, state_key), event_id) in store.current_state(room_id)? {
        if event_type != "m.room.member" {
            continue;
        }
        let local = state_key
            .parse::<UserId>()
            .is_ok_and(|user| user.server_name() == *ours);
        if local
            && store
                .event(&event_id)?
                .is_some_and(|member| member.event.membership() == Some("join"))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An `m.room.member` event by `sender` about `target`, placed after the
/// room's forward extremities, with auth events chosen from the current
/// state, signed by us and allowed by the auth rules; not persisted.
/// Also used to build an invite for a user of another server, which that
/// server must co-sign before we persist it.
pub fn build_member_event(
    store: &dyn Store,
    homeserver: &Homeserver,
    room_id: &RoomId,
    sender: &UserId,
    target: &UserId,
    content: Value,
) -> Result<Pdu, RoomError> {
    let room = store
        .room(room_id)?
        .ok_or_else(|| RoomError::UnknownRoom(room_id.clone()))?;
    if !room.federate {
        return Err(RoomError::Forbidden(format!(
            "room {room_id} is not federated (m.federate is false): no other server may join it"
        )));
    }
    let state = store.current_state(room_id)?;
    if !state.contains_key(&slot("m.room.create", "")) {
        // We hold only an invite to it: we are not resident.
        return Err(RoomError::NotFound(format!(
            "this server is not in room {room_id}"
        )));
    }
    let prev_events: Vec<_> = store
        .forward_extremities(room_id)?
        .into_iter()
        .take(MAX_PREV_EVENTS)
        .collect();
    let mut depth = 0;
    for prev in &prev_events {
        if let Some(stored) = store.event(prev)? {
            depth = depth.max(stored.event.depth());
        }
    }
    let builder = PduBuilder::new(room_id.clone(), sender.clone(), "m.room.member", content)
        .state_key(target.as_str())
        .prev_events(prev_events)
        .depth(depth + 1)
        .origin_server_ts(homeserver.now_ms());
    // A draft, only to ask the protocol core which state slots authorise
    // the event; then the real one, citing them, and the auth rules on it.
    let key = homeserver.signing_key();
    let sign = |builder: PduBuilder| {
        builder
            .sign(key)
            .map_err(|e| RoomError::InvalidEvent(e.to_string()))
    };
    let draft = sign(builder.clone())?;
    let mut auth_events = Vec::new();
    for slot in auth_types_for_event(&draft) {
        if let Some(event_id) = state.get(&slot)
            && let Some(stored) = store.event(event_id)?
        {
            auth_events.push(stored.event);
        }
    }
    let event = sign(builder.auth_events(auth_events.iter().map(|e| e.event_id().clone())))?;
    authorise(&event, &auth_events)?;
    Ok(event)
}

/// Rule 2 on the cited auth events, then the other rules against them.
pub(crate) fn authorise(
    event: &Pdu,
    auth_events: &[Pdu],
) -> Result<(), lostfound_protocol::auth::AuthFailure> {
    let cited: Vec<&Pdu> = auth_events.iter().collect();
    check_auth_events(event, &cited)?;
    let auth_state: StateMap<&Pdu> = auth_events
        .iter()
        .filter_map(|auth| slot_of(auth).map(|slot| (slot, auth)))
        .collect();
    check_auth_rules(event, &auth_state)
}
