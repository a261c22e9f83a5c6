//! One room's part of a `/sync` response: `rooms.join`, `rooms.invite`
//! and `rooms.leave` entries, computed from the store.
//!
//! A joined room has a **timeline** (the newest events, at most the
//! filter's limit, oldest first) and a **state** section: the state
//! *before* the timeline, so that the client's view of state after
//! applying the timeline's own state events is right.
//!
//! - First sync, `full_state`, or a room joined since the token: `state`
//!   is the whole state before the timeline.
//! - Otherwise: only the state that changed between the token and the
//!   start of the timeline, which is nothing unless the timeline is
//!   `limited` (more events happened than fit, so some state changes
//!   happened in the gap the client did not see).
//!
//! `prev_batch` is the token just before the timeline's first event; the
//! client hands it to `/messages` to scroll back into the gap.

use super::StreamToken;
use crate::client::rooms::client_event;
use crate::rooms::state::{ReadAccess, member_event, read_access};
use crate::rooms::{RoomError, load_event};
use lostfound_protocol::ids::{EventId, RoomId, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot};
use lostfound_store::{Store, StoredEvent, StreamPosition};
use serde_json::{Value, json};

/// What this `/sync` covers.
#[derive(Debug, Clone, Copy)]
pub struct SyncWindow {
    /// The client's token, `None` on a first sync.
    pub since: Option<StreamPosition>,
    /// The newest position included; becomes `next_batch`.
    pub up_to: StreamPosition,
    pub limit: usize,
    pub full_state: bool,
    pub now_ms: u64,
}

/// The state slots an invitee sees before joining (the spec's recommended
/// "stripped state"), so that a client can show whom the invite is from
/// and what the room is called.
const INVITE_STATE: [(&str, &str); 6] = [
    ("m.room.create", ""),
    ("m.room.join_rules", ""),
    ("m.room.name", ""),
    ("m.room.canonical_alias", ""),
    ("m.room.avatar", ""),
    ("m.room.topic", ""),
];

/// The `rooms.join` entry for a room the user is joined to; `None` when
/// nothing changed in it since the token.
pub fn joined_room(
    store: &dyn Store,
    room_id: &RoomId,
    user: &UserId,
    window: SyncWindow,
) -> Result<Option<Value>, RoomError> {
    // A room the user was not joined to at the token is new to the
    // client: send it whole. (Asking when the *current* member event was
    // sent would be wrong: a display name change is a join→join event.)
    let incremental = match window.since {
        Some(since) if joined_at(store, room_id, user, since)? => Some(since),
        _ => None,
    };
    let timeline = timeline(store, room_id, incremental, window.up_to, window.limit)?;
    let start = timeline
        .first()
        .map_or(window.up_to, |event| event.position - 1);
    let state: Vec<EventId> = match incremental {
        Some(_) if timeline.events.is_empty() && !window.full_state => return Ok(None),
        Some(_) if !timeline.limited && !window.full_state => Vec::new(),
        Some(since) if !window.full_state => {
            let known = state_at(store, room_id, since)?;
            let before = state_at(store, room_id, start)?;
            before
                .into_iter()
                .filter(|(slot, id)| known.get(slot) != Some(id))
                .map(|(_, id)| id)
                .collect()
        }
        _ => state_at(store, room_id, start)?.into_values().collect(),
    };
    let mut state_events = Vec::new();
    for event_id in &state {
        state_events.push(client_event(
            &load_event(store, event_id)?.event,
            window.now_ms,
        ));
    }
    Ok(Some(json!({
        "timeline": timeline.to_json(start, window.now_ms),
        "state": { "events": state_events },
        "ephemeral": { "events": [] },
        "account_data": { "events": [] },
    })))
}

/// The `rooms.invite` entry for a pending invite, on a first sync or when
/// the invite arrived after the token.
pub fn invited_room(
    store: &dyn Store,
    room_id: &RoomId,
    user: &UserId,
    window: SyncWindow,
) -> Result<Option<Value>, RoomError> {
    let Some(invite) = member_event(store, room_id, user)? else {
        return Ok(None);
    };
    if invite.position > window.up_to || window.since.is_some_and(|since| invite.position <= since)
    {
        return Ok(None);
    }
    let state = store.current_state(room_id)?;
    let mut events = Vec::new();
    // An invite from another server to a room we do not hold: the inviting
    // server sent the stripped state along (`federation::invite`).
    if !state.contains_key(&slot("m.room.create", ""))
        && let Some(Value::Array(sent)) = invite
            .event
            .json()
            .get("unsigned")
            .and_then(|u| u.get("invite_room_state"))
    {
        events.extend(sent.iter().cloned());
    }
    for (event_type, state_key) in INVITE_STATE {
        if let Some(event_id) = state.get(&slot(event_type, state_key)) {
            events.push(stripped(&load_event(store, event_id)?.event));
        }
    }
    events.push(stripped(&invite.event));
    Ok(Some(json!({ "invite_state": { "events": events } })))
}

/// The `rooms.leave` entry for a room left (or been kicked or banned from)
/// after the token. Only incremental syncs report leaves, as Synapse does.
/// A former member sees the events up to their leave; someone who only
/// declined an invite sees just their leave event.
pub fn left_room(
    store: &dyn Store,
    room_id: &RoomId,
    user: &UserId,
    window: SyncWindow,
) -> Result<Option<Value>, RoomError> {
    let Some(since) = window.since else {
        return Ok(None);
    };
    let Some(left) = member_event(store, room_id, user)? else {
        return Ok(None);
    };
    if left.position <= since || left.position > window.up_to {
        return Ok(None);
    }
    let timeline = match read_access(store, room_id, user) {
        Ok(ReadAccess::FormerMember { .. }) => {
            timeline(store, room_id, Some(since), left.position, window.limit)?
        }
        Ok(ReadAccess::Member) | Err(RoomError::Forbidden(_)) => Timeline {
            events: vec![left],
            limited: false,
        },
        Err(other) => return Err(other),
    };
    let start = timeline.first().map_or(since, |event| event.position - 1);
    Ok(Some(json!({
        "timeline": timeline.to_json(start, window.now_ms),
        "state": { "events": [] },
        "account_data": { "events": [] },
    })))
}

/// Timeline events, oldest first, and whether older ones were left out.
struct Timeline {
    events: Vec<StoredEvent>,
    limited: bool,
}

impl Timeline {
    fn first(&self) -> Option<&StoredEvent> {
        self.events.first()
    }

    fn to_json(&self, start: StreamPosition, now_ms: u64) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|stored| client_event(&stored.event, now_ms))
            .collect();
        json!({
            "events": events,
            "limited": self.limited,
            "prev_batch": StreamToken(start).to_string(),
        })
    }
}

/// The newest `limit` events with `after < position <= up_to`. One more is
/// fetched to learn whether the timeline is `limited`.
fn timeline(
    store: &dyn Store,
    room_id: &RoomId,
    after: Option<StreamPosition>,
    up_to: StreamPosition,
    limit: usize,
) -> Result<Timeline, RoomError> {
    let mut newest_first =
        store.room_events_before(room_id, up_to.saturating_add(1), limit.saturating_add(1))?;
    if let Some(after) = after {
        newest_first.retain(|stored| stored.position > after);
    }
    let limited = newest_first.len() > limit;
    newest_first.truncate(limit);
    newest_first.reverse();
    Ok(Timeline {
        events: newest_first,
        limited,
    })
}

/// The room's state at a stream position: the state after the newest of
/// its events at or before it (empty before the room existed).
/// Whether `user` was joined to the room at stream position `position`.
pub fn joined_at(
    store: &dyn Store,
    room_id: &RoomId,
    user: &UserId,
    position: StreamPosition,
) -> Result<bool, RoomError> {
    let state = state_at(store, room_id, position)?;
    let Some(member) = state.get(&slot("m.room.member", user.as_str())) else {
        return Ok(false);
    };
    Ok(load_event(store, member)?.event.membership() == Some("join"))
}

fn state_at(
    store: &dyn Store,
    room_id: &RoomId,
    position: StreamPosition,
) -> Result<StateMap<EventId>, RoomError> {
    let Some(newest) = store
        .room_events_before(room_id, position.saturating_add(1), 1)?
        .pop()
    else {
        return Ok(StateMap::new());
    };
    let event_id = newest.event.event_id();
    store
        .state_after(event_id)?
        .ok_or_else(|| RoomError::Internal(format!("the store has no state after {event_id}")))
}

/// A state event stripped to what an invitee may see
/// (<https://spec.matrix.org/v1.16/client-server-api/#stripped-state>).
fn stripped(event: &Pdu) -> Value {
    json!({
        "content": event.content(),
        "sender": event.sender(),
        "state_key": event.state_key(),
        "type": event.event_type(),
    })
}
