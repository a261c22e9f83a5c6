//! One local event, created the way a homeserver creates it for its users.
//!
//! A client sends only a type, a content and perhaps a state key. The
//! server turns that into a PDU, a self-describing link in the room's
//! graph, by filling in what every other server will need to accept it:
//!
//! - **`prev_events`**: the room's *forward extremities*, the newest events
//!   nothing follows yet. They place the event in history ("I come after
//!   these"). A server that receives an event whose `prev_events` it lacks
//!   knows it has a gap and asks for the missing ones (`get_missing_events`,
//!   `backfill`): that is how peers later healed a server restored from an
//!   old backup.
//! - **`depth`**: one more than the deepest of the `prev_events`; a rough
//!   position in history, used to order events and to bound searches.
//! - **`auth_events`**: the state events that prove the sender may do this
//!   (the create event, the power levels, the sender's membership, and for
//!   membership changes the target's membership and the join rules). Each
//!   server re-checks the event against exactly these, so an event carries
//!   its own proof of permission, checkable by a server that joined later.
//! - **`origin_server_ts`**, the content hash and our server's signature.
//!
//! Then the server runs the auth rules on its own event: an event it would
//! reject from a peer, it must not create. Finally it persists the event
//! atomically with the room state after it and the new forward
//! extremities, and wakes waiting `/sync` requests.
//!
//! **One writer at a time.** Building reads the forward extremities and
//! the current state; persisting replaces them. Two interleaved requests
//! would both read the same extremity and name it as their only
//! `prev_event`, forking the room, and, worse, the second would persist a
//! "state after" computed without the first event's state change, losing
//! it. Forks are legal in Matrix (two servers sending at once make one, and
//! state resolution merges them), but a server gains nothing by forking
//! its own room against itself. So each homeserver has one write lock,
//! held from reading to persisting: local history stays a simple chain.
//! One lock per server rather than per room is the simplest correct
//! choice; SQLite serialises writes anyway.

use super::{RoomError, load_event, with_store};
use crate::state::Homeserver;
use lostfound_protocol::JsonObject;
use lostfound_protocol::auth::{auth_types_for_event, check_auth_events, check_auth_rules};
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder, PduError};
use lostfound_protocol::state::{StateMap, slot_of};
use lostfound_store::{EventWrite, Store, StreamPosition, TransactionKey};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use tokio::sync::OwnedMutexGuard;

/// At most this many `prev_events` per event (Synapse's limit too): after a
/// wide fork, the next event merges ten branches, the one after that the
/// next ten, and events stay small.
pub const MAX_PREV_EVENTS: usize = 10;

/// What a local user wants to add to a room.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub room_id: RoomId,
    pub sender: UserId,
    pub event_type: String,
    /// `Some` for a state event (even `Some("")`), `None` for a message.
    pub state_key: Option<String>,
    pub content: JsonObject,
    /// The client transaction this event answers, to make retries safe.
    pub transaction: Option<TransactionKey>,
}

impl NewEvent {
    /// A non-state event (a message, a reaction...).
    pub fn message(room_id: RoomId, sender: UserId, event_type: &str, content: JsonObject) -> Self {
        Self {
            room_id,
            sender,
            event_type: event_type.to_owned(),
            state_key: None,
            content,
            transaction: None,
        }
    }

    /// A state event, filling the slot `(event_type, state_key)`.
    pub fn state(
        room_id: RoomId,
        sender: UserId,
        event_type: &str,
        state_key: &str,
        content: JsonObject,
    ) -> Self {
        Self {
            state_key: Some(state_key.to_owned()),
            ..Self::message(room_id, sender, event_type, content)
        }
    }
}

/// The outcome of creating an event.
#[derive(Debug, Clone)]
pub struct Created {
    pub event_id: EventId,
    /// `None` when a replayed transaction found its earlier event: nothing
    /// new was written.
    pub position: Option<StreamPosition>,
}

/// Creates, authorises and persists one event, then wakes `/sync`.
pub async fn send_event(homeserver: &Homeserver, new: NewEvent) -> Result<EventId, RoomError> {
    let writing = write_lock(homeserver).await;
    let server = homeserver.clone();
    let created = with_store(homeserver, move |store| {
        create_event(store, &server, &new, &writing)
    })
    .await?;
    if let Some(position) = created.position {
        homeserver.announce(position);
    }
    Ok(created.event_id)
}

/// Proof that the holder has this server's write lock; [`create_event`]
/// asks for one.
///
/// The guard moves into the blocking task that writes, and is released
/// when that task ends: if it stayed in the request's future, a client
/// hanging up would drop it while the write was still running, letting the
/// next writer in too early.
pub struct WriteLock {
    _guard: OwnedMutexGuard<()>,
}

/// Waits for this server's write lock (see the module documentation).
/// Keyed by server name because the lab runs many homeservers in one
/// process.
pub async fn write_lock(homeserver: &Homeserver) -> WriteLock {
    type Locks = Mutex<HashMap<ServerName, Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: LazyLock<Locks> = LazyLock::new(Locks::default);
    let lock = {
        // A poisoned map still holds valid locks: nothing is half-written
        // in it, so carry on with its contents.
        let mut locks = LOCKS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let name = homeserver.config().server_name.clone();
        Arc::clone(locks.entry(name).or_default())
    };
    WriteLock {
        _guard: lock.lock_owned().await,
    }
}

/// The synchronous core of [`send_event`], run on a blocking thread by a
/// caller that holds the write lock.
pub fn create_event(
    store: &dyn Store,
    homeserver: &Homeserver,
    new: &NewEvent,
    _writing: &WriteLock,
) -> Result<Created, RoomError> {
    // A client retries a request whose answer it never saw; the retry must
    // not post the message twice. The transaction ID makes it recognisable.
    if let Some(transaction) = &new.transaction
        && let Some(event_id) = store.transaction_event(transaction)?
    {
        return Ok(Created {
            event_id,
            position: None,
        });
    }
    if store.room(&new.room_id)?.is_none() {
        return Err(RoomError::UnknownRoom(new.room_id.clone()));
    }
    let state = store.current_state(&new.room_id)?;
    let extremities = store.forward_extremities(&new.room_id)?;
    let prev_events: Vec<EventId> = extremities.iter().take(MAX_PREV_EVENTS).cloned().collect();
    let mut depth = 0;
    for prev in &prev_events {
        depth = depth.max(load_event(store, prev)?.event.depth());
    }

    let mut builder = PduBuilder::new(
        new.room_id.clone(),
        new.sender.clone(),
        &new.event_type,
        Value::Object(new.content.clone()),
    )
    .prev_events(prev_events.iter().cloned())
    .depth(depth + 1)
    .origin_server_ts(homeserver.now_ms());
    if let Some(state_key) = &new.state_key {
        builder = builder.state_key(state_key);
    }
    let key = homeserver.signing_key();
    // Which state authorises the event depends on the event itself (its
    // type, sender, state key, membership): ask the protocol core, using
    // a draft that has everything but the auth events.
    let draft = builder.clone().sign(key).map_err(pdu_error)?;
    let mut auth_events = Vec::new();
    for slot in auth_types_for_event(&draft) {
        if let Some(event_id) = state.get(&slot) {
            auth_events.push(load_event(store, event_id)?.event);
        }
    }
    let event = builder
        .auth_events(auth_events.iter().map(|auth| auth.event_id().clone()))
        .sign(key)
        .map_err(pdu_error)?;
    authorise(&event, &auth_events)?;

    let mut state_after = state;
    if let Some(slot) = slot_of(&event) {
        state_after.insert(slot, event.event_id().clone());
    }
    let mut extremities_after: Vec<EventId> = extremities
        .into_iter()
        .filter(|extremity| !prev_events.contains(extremity))
        .collect();
    extremities_after.push(event.event_id().clone());
    let position = store.persist_event(&EventWrite {
        event: &event,
        state_after: &state_after,
        forward_extremities: &extremities_after,
        current_state: None,
        outlier: false,
        transaction: new.transaction.as_ref(),
    })?;
    // Under the same write lock: see `federation::sender` on the crash window.
    if crate::federation::sender::queue_local_event(store, homeserver, &event, &state_after)? > 0 {
        homeserver.wake_sender();
    }
    Ok(Created {
        event_id: event.event_id().clone(),
        position: Some(position),
    })
}

/// The checks a receiving server will make, made first by the sender: rule
/// 2 on the auth events list, then every other rule against those events.
/// They were chosen from the current state, so this is also the check
/// against current state.
fn authorise(event: &Pdu, auth_events: &[Pdu]) -> Result<(), RoomError> {
    let cited: Vec<&Pdu> = auth_events.iter().collect();
    check_auth_events(event, &cited)?;
    let auth_state: StateMap<&Pdu> = auth_events
        .iter()
        .filter_map(|auth| slot_of(auth).map(|slot| (slot, auth)))
        .collect();
    check_auth_rules(event, &auth_state)?;
    Ok(())
}

fn pdu_error(error: PduError) -> RoomError {
    match error {
        PduError::TooLarge(size) => RoomError::TooLarge(size),
        other => RoomError::InvalidEvent(other.to_string()),
    }
}
