//! What this server answers its peers: single events, history
//! (`backfill`, `get_missing_events`), and the state and auth chain at an
//! event (`state_ids`, `state`, `event_auth`).
//!
//! These endpoints are how the federation healed part of the 2021
//! incident. A server restored from an old backup holds a room's history
//! only up to the backup. When a peer sends it a new event, the event's
//! `prev_events` name parents it never saw: it asks the sender for them
//! with `get_missing_events`. When one of its users scrolls back past the
//! gap, it asks a peer to `backfill`. Both walks follow `prev_events`
//! backwards, because `prev_events` are the only thing that orders a
//! room's history: there is no global clock, only "I came after these".
//! What peers hold, the restored server gets back; what no peer held (an
//! unfederated room, accounts, media) stays lost.
//!
//! | module | what it is for |
//! |---|---|
//! | [`access`] | who may ask: the room must be federated, and the asking server must have a member in it |
//! | [`history`] | the two walks over `prev_events`: [`history::backfill`], [`history::get_missing_events`] |
//! | [`state_at`] | the state before an event, and auth chains: `state_ids`, `state`, `event_auth` |
//! | [`handlers`] | the HTTP routes, one per endpoint, and their answers' shapes |
//! | [`query`] | a query-string parser that keeps repeated keys (`?v=…&v=…`) |
//!
//! The logic is synchronous and works over a `&dyn Store`, so it is tested
//! without HTTP; the handlers run it on a blocking thread.
//!
//! **Outliers are not history.** An outlier is an event we hold without
//! its place in the timeline (for example an auth event fetched from a
//! peer): we never knew the state before it, nor whether its parents are
//! ours. The walks neither return outliers nor walk through them, and
//! `state_ids` refuses them; `event` and `event_auth` serve them, since
//! they are about an event itself, not about where it sits.

pub mod access;
pub mod handlers;
pub mod history;
pub mod query;
pub mod state_at;

use crate::error::ApiError;
use crate::hooks::HookPanicked;
use lostfound_protocol::ids::{EventId, RoomId, ServerName};
use lostfound_protocol::state_res::StateResError;
use lostfound_store::{Store, StoreError, StoredEvent};

/// Why we do not answer a peer's request.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("room {0} is not known to this server")]
    UnknownRoom(RoomId),
    /// `m.federate: false`: the room never leaves its server, whoever asks.
    #[error("room {0} is not federated (m.federate is false): its events never leave this server")]
    UnfederatedRoom(RoomId),
    /// The asking server has no user who is, was, or was invited to be, in
    /// the room: it has no business reading it.
    #[error("server {origin} has no member in room {room_id}")]
    NotInRoom { origin: ServerName, room_id: RoomId },
    /// We hold no such event, or it belongs to another room (the two are
    /// not told apart, so a peer cannot probe other rooms).
    #[error("this server holds no event {event_id} in room {room_id}")]
    UnknownEvent { event_id: EventId, room_id: RoomId },
    /// We hold no such event, in any room (`GET /event` names no room).
    #[error("this server holds no event {0}")]
    NoSuchEvent(EventId),
    /// We hold the event only as an outlier: we never knew the state at it.
    #[error("the state at {0} is not known to this server (it holds the event only as an outlier)")]
    StateUnknown(EventId),
    #[error("cannot resolve the state before the event: {0}")]
    StateResolution(#[from] StateResError),
    /// An exercise hook (see [`crate::hooks`]) panicked.
    #[error(transparent)]
    Hook(#[from] HookPanicked),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ServeError> for ApiError {
    fn from(error: ServeError) -> Self {
        let message = error.to_string();
        match error {
            ServeError::UnknownRoom(_)
            | ServeError::UnknownEvent { .. }
            | ServeError::NoSuchEvent(_)
            | ServeError::StateUnknown(_) => Self::not_found(message),
            ServeError::UnfederatedRoom(_) | ServeError::NotInRoom { .. } => {
                Self::forbidden(message)
            }
            ServeError::StateResolution(_) | ServeError::Hook(_) => Self::unknown(message),
            ServeError::Store(error) => Self::from(error),
        }
    }
}

/// The event `event_id` of room `room_id`, outlier or not.
pub fn event_in_room(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<StoredEvent, ServeError> {
    match store.event(event_id)? {
        Some(stored) if stored.event.room_id() == room_id => Ok(stored),
        _ => Err(ServeError::UnknownEvent {
            event_id: event_id.clone(),
            room_id: room_id.clone(),
        }),
    }
}

#[cfg(test)]
mod tests;
