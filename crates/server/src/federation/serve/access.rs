//! Who may read a room over federation.
//!
//! A signed request proves which server is asking (the X-Matrix check in
//! `federation::auth`); this module decides whether that server may read
//! the room. Two rules, checked before anything else:
//!
//! 1. **An unfederated room is never served, to anyone.** A room created
//!    with `m.federate: false` lives on its creator's server alone; the
//!    auth rules reject any event from another server's user, so no peer
//!    can legitimately hold it. That is exactly why such rooms were lost
//!    for good in 2021: there was nowhere to heal them from. Serving them
//!    here would break the promise their creators were made.
//! 2. **The asking server must have a member in the room**: at least one
//!    of its users has a `join`, `invite` or `leave` membership in the
//!    room's current state. A server whose users were never there (or were
//!    only banned) learns nothing. This is a simplification of the spec's
//!    history visibility, which would check each event against the
//!    membership *at that event*: our rooms use `shared` visibility, and
//!    a server that is or was in the room may read its history.

use super::ServeError;
use lostfound_protocol::ids::{RoomId, ServerName, UserId};
use lostfound_store::Store;

/// The memberships that let a server read a room.
const READING_MEMBERSHIPS: [&str; 3] = ["join", "invite", "leave"];

/// Checks that `origin` may read `room_id`; see the module docs.
pub fn check_origin_may_read(
    store: &dyn Store,
    room_id: &RoomId,
    origin: &ServerName,
) -> Result<(), ServeError> {
    let room = store
        .room(room_id)?
        .ok_or_else(|| ServeError::UnknownRoom(room_id.clone()))?;
    if !room.federate {
        return Err(ServeError::UnfederatedRoom(room_id.clone()));
    }
    let state = store.current_state(room_id)?;
    let members_of_origin = state
        .iter()
        .filter(|((event_type, _), _)| event_type == "m.room.member")
        .filter(|((_, state_key), _)| {
            state_key
                .parse::<UserId>()
                .is_ok_and(|user| user.server_name() == *origin)
        })
        .map(|(_, event_id)| event_id);
    for event_id in members_of_origin {
        let membership = store.event(event_id)?;
        let membership = membership
            .as_ref()
            .and_then(|stored| stored.event.membership());
        if membership.is_some_and(|m| READING_MEMBERSHIPS.contains(&m)) {
            return Ok(());
        }
    }
    Err(ServeError::NotInRoom {
        origin: origin.clone(),
        room_id: room_id.clone(),
    })
}
