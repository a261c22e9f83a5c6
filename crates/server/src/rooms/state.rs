//! Reading a room: its state, a user's membership, and what a user may see.
//!
//! The store keeps state as a map from slot to event ID, for the current
//! state and for the state after every event. Reading it means fetching
//! the events behind the IDs.
//!
//! **Who may read.** Members read everything (our presets all use the
//! `shared` history visibility, under which a member sees the whole
//! history, including what was said before they joined). A former member
//! reads what happened up to their leave (or kick, or ban), and the state
//! as it was then; someone who was only ever invited, or never there,
//! reads nothing. Other history visibilities (`invited`, `joined`,
//! `world_readable`) are not evaluated: a deliberate simplification.

use super::{RoomError, load_event};
use lostfound_protocol::ids::{EventId, RoomId, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot};
use lostfound_store::{Store, StoredEvent, StreamPosition};

/// The events behind a map of state event IDs.
pub fn load_state(
    store: &dyn Store,
    state: &StateMap<EventId>,
) -> Result<StateMap<Pdu>, RoomError> {
    let mut events = StateMap::new();
    for (slot, event_id) in state {
        events.insert(slot.clone(), load_event(store, event_id)?.event);
    }
    Ok(events)
}

/// The user's member event in the room's current state, if any.
pub fn member_event(
    store: &dyn Store,
    room_id: &RoomId,
    user_id: &UserId,
) -> Result<Option<StoredEvent>, RoomError> {
    let state = store.current_state(room_id)?;
    match state.get(&slot("m.room.member", user_id.as_str())) {
        Some(event_id) => Ok(Some(load_event(store, event_id)?)),
        None => Ok(None),
    }
}

/// What a user may read of a room.
#[derive(Debug, Clone)]
pub enum ReadAccess {
    /// Joined: everything, and the current state.
    Member,
    /// Left, kicked or banned after having been joined: history up to and
    /// including the event that ended the membership, and the state then.
    FormerMember {
        left_event: EventId,
        left_at: StreamPosition,
    },
}

impl ReadAccess {
    /// The last stream position the user may read, `None` for no limit.
    pub fn readable_until(&self) -> Option<StreamPosition> {
        match self {
            Self::Member => None,
            Self::FormerMember { left_at, .. } => Some(*left_at),
        }
    }

    /// Whether the user may read the event at `position`.
    pub fn may_read(&self, position: StreamPosition) -> bool {
        self.readable_until().is_none_or(|until| position <= until)
    }

    /// The state the user may see: current for members, the state just
    /// after they left for former members.
    pub fn visible_state(
        &self,
        store: &dyn Store,
        room_id: &RoomId,
    ) -> Result<StateMap<EventId>, RoomError> {
        match self {
            Self::Member => Ok(store.current_state(room_id)?),
            Self::FormerMember { left_event, .. } => store
                .state_after(left_event)?
                .ok_or_else(|| RoomError::Internal(format!("no state after {left_event}"))),
        }
    }
}

/// Decides what `user_id` may read of `room_id`, or why nothing.
pub fn read_access(
    store: &dyn Store,
    room_id: &RoomId,
    user_id: &UserId,
) -> Result<ReadAccess, RoomError> {
    if store.room(room_id)?.is_none() {
        return Err(RoomError::UnknownRoom(room_id.clone()));
    }
    let not_member = || {
        RoomError::Forbidden(format!(
            "{user_id} is not a member of {room_id}, so may not read it"
        ))
    };
    let member = member_event(store, room_id, user_id)?.ok_or_else(not_member)?;
    match member.event.membership() {
        Some("join") => Ok(ReadAccess::Member),
        Some("leave" | "ban") if was_joined_before(store, &member.event, user_id)? => {
            Ok(ReadAccess::FormerMember {
                left_event: member.event.event_id().clone(),
                left_at: member.position,
            })
        }
        _ => Err(not_member()),
    }
}

/// Whether the user was joined just before `event` (their leave): an
/// invite that was declined is a leave too, but grants no history.
fn was_joined_before(store: &dyn Store, event: &Pdu, user_id: &UserId) -> Result<bool, RoomError> {
    for prev in event.prev_events() {
        let Some(state) = store.state_after(prev)? else {
            continue;
        };
        if let Some(member_id) = state.get(&slot("m.room.member", user_id.as_str()))
            && load_event(store, member_id)?.event.membership() == Some("join")
        {
            return Ok(true);
        }
    }
    Ok(false)
}
