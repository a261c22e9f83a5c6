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
//! 2. **The asking server must have a member in the room now**: at least
//!    one of its users has a `join` or `invite` membership in the room's
//!    current state. A server whose users were never there, were banned,
//!    or have all left (a kick is a `leave` too) learns nothing, and in
//!    particular none of the events sent after they went: reading rights
//!    end with the membership, as they do for a client.
//!
//! This is a simplification of the spec's history visibility, which would
//! check each event against the membership *at that event*. Our rooms use
//! `shared` visibility: a current member may read the whole history, from
//! before it joined too. An invitee's server is let in as well: the invite
//! flow itself needs only the stripped state sent with the invite, but
//! under `shared` (and `invited`) visibility an invited user may read the
//! history once joined, so letting its server fetch it a little earlier
//! reveals nothing more. A departed member's server, on the other hand,
//! would under the spec see at most the events up to its departure; we
//! cannot serve "history up to here" per event yet, so we serve it nothing.

use super::ServeError;
use lostfound_protocol::ids::{RoomId, ServerName, UserId};
use lostfound_store::Store;

/// The memberships that let a server read a room: current ones only. Not
/// `leave` (left or kicked), not `ban`, not `knock` (asking is not being
/// admitted).
const READING_MEMBERSHIPS: [&str; 2] = ["join", "invite"];

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
