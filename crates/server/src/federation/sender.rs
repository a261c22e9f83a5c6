//! The federation sender: pushing our users' events to the other servers
//! in their rooms, with `PUT /_matrix/federation/v1/send/{txnId}`
//! (<https://spec.matrix.org/v1.16/server-server-api/#transactions>).
//!
//! A Matrix room has no central server: every server with a member in it
//! holds a full copy, and each server is responsible for telling the others
//! about the events *its* users create. So when alice@a.lab speaks in a
//! room that bob@b.lab has joined, a.lab must deliver the event to b.lab.
//!
//! **Why a persistent outbox.** Delivery can fail for minutes or days: the
//! peer is down, restarting, or cut off. A queue in memory would forget
//! everything it owed its peers at our next restart, and a peer that was
//! down would never see what it missed (it could only notice the gap later,
//! when a newer event names the lost ones as `prev_events`). So an event is
//! queued in the store, per destination, before anyone tries to send it,
//! and leaves the queue only when the destination has answered `200`.
//! That is also what the 2021 restore broke: it brought back January's
//! outbox, and whatever was waiting in June was never sent.
//!
//! **Why never an unfederated room.** A room created with
//! `"m.federate": false` promises its members that it stays on this
//! server. The auth rules already keep foreign users out, but the sender
//! checks the flag itself before queuing anything: a private room must not
//! depend on a second line of code being right, and must not leak through a
//! bug elsewhere (or a restored, hand-edited database).
//!
//! **Crash window.** The event is persisted first, then queued, in two
//! store transactions under the same write lock. A crash between the two
//! leaves an event stored but never queued; its peers will find it anyway
//! as soon as they receive our next event, whose `prev_events` name it
//! (they fetch it with `get_missing_events`). Queuing in the event's own
//! transaction would close the window at the cost of a wider store API.
//!
//! | module | what it is for |
//! |---|---|
//! | this file | who receives an event ([`destinations`]) and queuing it ([`queue_local_event`]) |
//! | `delivery` | the background task: one worker per destination, transactions of at most 50 PDUs, backoff |

mod delivery;

pub use delivery::{
    INITIAL_BACKOFF, MAX_BACKOFF, MAX_PDUS_PER_TRANSACTION, spawn_sender, transaction_id,
};

use crate::state::Homeserver;
use lostfound_protocol::ids::{EventId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use lostfound_store::{Store, StoreError};
use std::collections::BTreeSet;

/// The servers that must receive `event`, given the room's state after it:
/// every server with a joined member, and for a membership event also the
/// target's server (the invitee learns of its invite, a kicked or departing
/// user's server learns that they are out, though they are no longer
/// joined). Never ourselves.
///
/// Member events whose JSON cannot be read are skipped: a server cannot
/// deliver to a member it cannot identify, and the rest must still get
/// the event.
pub fn destinations(
    store: &dyn Store,
    ourselves: &ServerName,
    event: &Pdu,
    state_after: &StateMap<EventId>,
) -> Result<BTreeSet<ServerName>, StoreError> {
    let mut servers = BTreeSet::new();
    for ((kind, state_key), event_id) in state_after {
        if kind != "m.room.member" {
            continue;
        }
        let Ok(user) = state_key.parse::<UserId>() else {
            continue;
        };
        let server = user.server_name();
        if &server == ourselves || servers.contains(&server) {
            continue;
        }
        let Some(member) = store.event(event_id)? else {
            continue;
        };
        if member.event.membership() == Some("join") {
            servers.insert(server);
        }
    }
    if event.event_type() == "m.room.member"
        && let Some(Ok(target)) = event.state_key().map(str::parse::<UserId>)
    {
        servers.insert(target.server_name());
    }
    servers.remove(ourselves);
    Ok(servers)
}

/// Queues a local event, just persisted, for every server in [`destinations`],
/// unless its room is unfederated; returns how many servers it was queued
/// for. Call it under the write lock that persisted the event, then
/// [`Homeserver::wake_sender`] once the lock's work is done.
pub fn queue_local_event(
    store: &dyn Store,
    homeserver: &Homeserver,
    event: &Pdu,
    state_after: &StateMap<EventId>,
) -> Result<usize, StoreError> {
    let federate = store
        .room(event.room_id())?
        .is_some_and(|room| room.federate);
    if !federate {
        return Ok(0);
    }
    let ourselves = &homeserver.config().server_name;
    let servers = destinations(store, ourselves, event, state_after)?;
    queue_for(store, event.event_id(), &servers)?;
    Ok(servers.len())
}

/// Queues `event_id` (already stored) for each of `servers`: for callers
/// that choose the destinations themselves, such as a resident server
/// passing on a join it accepted. Queuing twice is harmless.
pub fn queue_for<'a>(
    store: &dyn Store,
    event_id: &EventId,
    servers: impl IntoIterator<Item = &'a ServerName>,
) -> Result<(), StoreError> {
    for server in servers {
        store.enqueue_outgoing(server, event_id)?;
    }
    Ok(())
}
