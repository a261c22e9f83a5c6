//! Rooms, as this homeserver keeps them: building its users' events,
//! checking them against the auth rules, and persisting them.
//!
//! A Matrix room is not a row in a table; it is a graph of signed events
//! that every participating server holds a copy of. This module is where
//! our server adds to that graph on behalf of its own users. It knows
//! nothing of HTTP: the handlers in [`crate::client`] parse requests, call
//! in here, and turn a [`RoomError`] into the spec's error JSON.
//!
//! | module | what it is for |
//! |---|---|
//! | [`events`] | one local event: `prev_events`, `depth`, `auth_events`, signature, auth check, persist |
//! | [`state`] | reading room state and membership; who may read what |
//! | [`create_room`] | `createRoom`: presets, and the spec's order of initial events |
//! | [`membership`] | invite, join, leave |
//!
//! Everything that touches the store runs on a blocking thread (SQLite
//! calls block), through [`with_store`]; everything that writes events
//! also holds this server's write lock (see [`events`] for why).

pub mod create_room;
pub mod events;
pub mod membership;
pub mod state;

use crate::state::{Homeserver, IdSource};
use lostfound_protocol::auth::AuthFailure;
use lostfound_protocol::ids::{EventId, RoomAlias, RoomId, ServerName, UserId};
use lostfound_store::{Store, StoreError};

pub use events::{NewEvent, send_event};

/// Why a room operation failed, in the room's terms. The HTTP edge maps
/// each reason to a status and an `errcode`.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// The auth rules reject the event; the failure names the rule.
    #[error(transparent)]
    Rejected(#[from] AuthFailure),
    /// The user may not see or do this (for example, read a room they
    /// never joined).
    #[error("{0}")]
    Forbidden(String),
    #[error("room {0} is not known to this server")]
    UnknownRoom(RoomId),
    #[error("no room has the alias {0}")]
    UnknownAlias(RoomAlias),
    #[error("there is no user {0}")]
    UnknownUser(UserId),
    #[error("{0}")]
    NotFound(String),
    /// An alias of another server: resolving it needs a directory query
    /// over federation, which this server does not make yet.
    #[error(
        "{0} is an alias of another server, which this server cannot resolve yet; join by room ID with ?server_name="
    )]
    RemoteRoom(String),
    /// A user of another server where only local users are supported
    /// (the `invite` list of `createRoom`).
    #[error(
        "{0} is a user of another server; createRoom cannot invite them yet: invite them once the room exists"
    )]
    RemoteUser(UserId),
    /// The event would be larger than the spec's 65,536-byte PDU limit.
    #[error("the event would be {0} bytes as canonical JSON; the limit is 65536")]
    TooLarge(usize),
    #[error("room version {0:?} is not supported; this server implements room version 10 only")]
    UnsupportedRoomVersion(String),
    #[error("alias {0} is already in use")]
    AliasInUse(RoomAlias),
    /// A request value that is well-formed JSON but makes no sense.
    #[error("{0}")]
    InvalidParam(String),
    /// The event could not be built (a field the client chose is invalid).
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or a broken invariant (for example, state naming an event the
    /// store does not hold).
    #[error("{0}")]
    Internal(String),
}

/// Runs room logic against the store on a blocking thread. The logic is
/// synchronous on purpose: one hop to the blocking pool per operation, not
/// one per SQL query.
pub async fn with_store<T, F>(homeserver: &Homeserver, operation: F) -> Result<T, RoomError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, RoomError> + Send + 'static,
{
    match homeserver.store(move |store| Ok(operation(store))).await {
        Ok(result) => result,
        // Only a panicked or cancelled task gets here: the closure above
        // never fails by itself.
        Err(error) => Err(RoomError::Internal(error.message)),
    }
}

/// A fresh room ID: `!` + 18 random letters + `:` + this server's name,
/// the shape Synapse uses (about 102 bits of randomness, so collisions are
/// not worth checking beyond the store's own uniqueness constraint).
///
/// The server part says who *created* the room, nothing more: once other
/// servers join, the room lives on all of them equally, which is why it
/// could outlive its creator's database in 2021.
pub fn new_room_id(server: &ServerName) -> Result<RoomId, RoomError> {
    new_room_id_from(server, &crate::state::SystemIds)
}

/// [`new_room_id`] with its randomness from `ids`: the lab passes a seeded
/// source, so that a replayed scenario creates the same rooms.
pub fn new_room_id_from(server: &ServerName, ids: &dyn IdSource) -> Result<RoomId, RoomError> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut opaque = String::with_capacity(18);
    while opaque.len() < 18 {
        let mut bytes = [0u8; 32];
        ids.fill(&mut bytes)
            .map_err(|e| RoomError::Internal(format!("no randomness: {e}")))?;
        // 208 = 4 × 52: dropping larger bytes keeps every letter equally likely.
        let letters = bytes.iter().filter(|&&b| b < 208);
        for &byte in letters.take(18 - opaque.len()) {
            opaque.push(char::from(LETTERS[usize::from(byte) % LETTERS.len()]));
        }
    }
    format!("!{opaque}:{server}")
        .parse()
        .map_err(|e| RoomError::Internal(format!("generated room ID is invalid: {e}")))
}

/// The event `event_id`, which the caller knows must exist (it is named by
/// state or by forward extremities).
pub(crate) fn load_event(
    store: &dyn Store,
    event_id: &EventId,
) -> Result<lostfound_store::StoredEvent, RoomError> {
    store.event(event_id)?.ok_or_else(|| {
        RoomError::Internal(format!(
            "the store names event {event_id}, but does not hold it"
        ))
    })
}
