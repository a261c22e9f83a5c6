//! Receiving a PDU from another server: the checks the spec requires before
//! an event may join our copy of a room, and the gap-filling that an event
//! with unknown parents sets off
//! (<https://spec.matrix.org/v1.16/server-server-api/#checks-performed-on-receipt-of-a-pdu>).
//!
//! This is the mechanism that healed part of the 2021 incident. A server
//! restored from an old backup holds a room's history up to the backup and
//! no further. The first event a peer sends it afterwards names, in its
//! `prev_events`, an event the restored server has never seen: a *gap*.
//! The server asks the sender for what lies between (`get_missing_events`),
//! checks each of those events like any other, and the lost stretch of
//! history is back, because every other server in the room kept it.
//!
//! # The pipeline, in the spec's order
//!
//! 1. **Format** (`checks`): the JSON is a room v10 PDU ([`Pdu::from_json`]):
//!    canonical numbers, size, fields, and a room we know. Otherwise: dropped.
//!    Three more refusals come here, before any key, store or peer work:
//!    at most [`checks::MAX_PREV_EVENTS`] parents and
//!    [`checks::MAX_AUTH_EVENTS`] auth events (Synapse's limits, so one
//!    event cannot order up unbounded work); no event at all for a room
//!    created with `m.federate: false` (asking peers about its gaps would
//!    leak it); and, once the signature checks out, no parent we hold
//!    from *another* room (its state would pass for this room's, see
//!    `persist::parent_in_another_room`): rejected.
//! 2. **Signatures** (`checks`): the sender's server signed it
//!    ([`Peers::verify_event_signatures`]). Otherwise: dropped, since anyone
//!    could have written it.
//! 3. **Content hash** (`checks`): if the content does not match its hash,
//!    the body was altered after signing; we keep the *redacted* event (which
//!    the signature does cover) and carry on with it.
//! 4. **Missing `prev_events`** (`gaps`): ask the sender for the events
//!    between our forward extremities and this one, at most
//!    [`MISSING_EVENTS_LIMIT`], and process them oldest first through steps
//!    1–3 and 5–8. If that does not reach events we hold, we ask for the
//!    *state* at the oldest event we got (`state_ids`), store those state
//!    events as outliers, and leave its unknown parents as a *backwards
//!    extremity*: we do not fetch further history now; backfill fills it in
//!    when a client scrolls back.
//! 5. **Auth events** (`gaps` fetches, `persist` checks): every event the
//!    PDU cites as its proof of permission must be known; unknown ones are
//!    fetched, checked and stored as outliers. Then rule 2 on the list and
//!    the other rules against those events. Failure: **rejected**.
//! 6. **State before the event** (`persist`): the state after its one
//!    parent, or the state resolution (v2) of its parents' states. The auth
//!    rules must pass against it too. Failure: **rejected**.
//! 7. **Current state** (`persist`): the auth rules against the room's state
//!    now. Failure: **soft-failed**: the event is legitimate history (its
//!    sender was allowed when they sent it) but it must not change the room
//!    now or reach clients; think of a message sent by someone who was
//!    banned on another branch meanwhile.
//! 8. **Persist** (`persist`): the state after it, the new forward
//!    extremities, and the current state (the resolution of the
//!    extremities' states when the room has forked); then `/sync` wakes up.
//!
//! **Bounded work.** There is no recursion: the events of a gap do not
//! open gaps of their own (one `get_missing_events` round per received
//! PDU; whatever still lacks parents gets the state path). So one received
//! PDU costs at most one `get_missing_events`, one `state_ids` per event of
//! the gap, and [`MAX_FETCHED_EVENTS`] single-event fetches.
//!
//! Steps 1–4 and the fetching of step 5 talk to peers and take no lock;
//! steps 5–8 run under this server's write lock (see
//! [`crate::rooms::events`]), so received and local events never interleave.
//!
//! # What the store cannot say, and how we say it anyway
//!
//! - **Rejected events are not stored** (the store has no "rejected" flag).
//!   The verdict is in the [`Outcome`]; an event citing a rejected event
//!   finds it missing, fetches it, and rejects it again.
//! - **Soft-failed events are stored as outliers**, with their true state
//!   after: outliers are kept out of the timeline, the current state and the
//!   forward extremities, which is exactly what the spec asks for them.
//! - **Current state is not always the state after the newest event**: an
//!   event on a second branch leaves the room with two extremities, and the
//!   current state is the resolution of both; [`EventWrite::current_state`]
//!   says so to the store in the same atomic write.
//! - **Outliers fetched for their own sake** (auth events, state at a gap)
//!   are stored with an *empty* state: their state is unknown, and no real
//!   room state is empty (it always holds the create event).
//!
//! [`Pdu::from_json`]: lostfound_protocol::pdu::Pdu::from_json
//! [`EventWrite::current_state`]: lostfound_store::EventWrite::current_state

pub(crate) mod checks;
mod fetch;
mod gaps;
mod persist;
mod resolution;
pub mod send_transaction;

use super::{FederationError, Peers};
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::ids::{RoomId, ServerName};
use lostfound_protocol::pdu::{Pdu, PduError};
use lostfound_protocol::state_res::StateResError;
use serde_json::Value;

/// How many events one `get_missing_events` call may return (Synapse asks
/// for 10 too). A longer gap is bridged by the state at its newest part,
/// and the older history comes later through backfill.
pub const MISSING_EVENTS_LIMIT: u32 = 10;

/// How many events (auth events, state at a gap) one received PDU may make
/// us fetch one by one with `/event`. A peer decides what it sends us; a
/// budget keeps a hostile or broken one from keeping us busy forever.
pub const MAX_FETCHED_EVENTS: usize = 200;

/// What became of a received PDU that passed the format and signature checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, in the timeline and (for a state event) in the room state.
    Accepted,
    /// Its content did not match its hash: stored, in its redacted form.
    Redacted,
    /// Allowed by the state before it, not by the room's state now: kept in
    /// the graph, hidden from clients, without effect on current state. The
    /// reason names the auth rule.
    SoftFailed(String),
    /// The auth rules refuse it (or the state it claims to follow could not
    /// be established): not stored. The reason names the auth rule.
    Rejected(String),
    /// We already hold this event.
    AlreadyKnown,
}

/// Why a PDU was dropped before any verdict on it, or processing failed.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Step 1: not a room v10 PDU.
    #[error("invalid PDU: {0}")]
    Format(#[from] PduError),
    /// Step 2: the signatures do not check out; the event is dropped.
    #[error("signature check failed, event dropped: {0}")]
    Signature(FederationError),
    /// The room is not one we hold: a server joins a room
    /// (`federation::join`) before it receives the room's events.
    #[error("room {0} is not known to this server (it must join the room first)")]
    UnknownRoom(RoomId),
    /// The room was created with `m.federate: false`: it never takes
    /// events from other servers (see `refuse_unfederated`).
    #[error(
        "room {0} is not federated (m.federate is false): it takes no events from other servers"
    )]
    UnfederatedRoom(RoomId),
    /// The event names more `prev_events` or `auth_events` than we agree
    /// to look at ([`checks::MAX_PREV_EVENTS`], [`checks::MAX_AUTH_EVENTS`],
    /// Synapse's limits); dropped before any store or peer work.
    #[error(
        "the event has {count} {field}, more than the {limit} this server accepts (as Synapse does)"
    )]
    TooManyReferences {
        field: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("room version {0:?} is not supported; this server implements room version 10 only")]
    UnsupportedRoomVersion(String),
    /// A peer could not give us what the checks need.
    #[error("asking a peer failed: {0}")]
    Peer(FederationError),
    /// More events to fetch than [`MAX_FETCHED_EVENTS`].
    #[error("the event needs more than {MAX_FETCHED_EVENTS} events fetched; giving up")]
    TooManyEvents,
    /// The state needed to check the event cannot be established from what
    /// we hold (its parents, its auth events, or the events state names).
    #[error("the state needed to check the event is unknown: {0}")]
    StateUnknown(String),
    #[error("state resolution failed: {0}")]
    StateResolution(#[from] StateResError),
    /// An exercise hook ([`crate::hooks`]) failed or panicked.
    #[error("the exercise hook failed: {0}")]
    Hook(String),
    #[error(transparent)]
    Room(#[from] RoomError),
}

impl From<lostfound_store::StoreError> for ReceiveError {
    fn from(error: lostfound_store::StoreError) -> Self {
        Self::Room(RoomError::Store(error))
    }
}

/// Runs the checks on receipt of one PDU that `origin` sent us, filling any
/// gap it reveals, and stores it according to the verdict.
///
/// `Err` means the event was dropped without a verdict (bad format, bad
/// signature, unknown room) or could not be processed now (a peer or the
/// store failed); `Ok` carries the verdict.
pub async fn receive_pdu<P: Peers>(
    homeserver: &Homeserver,
    peers: &P,
    origin: &ServerName,
    raw: Value,
) -> Result<Outcome, ReceiveError> {
    // Step 1, then the cheap refusals that need no key and no peer: an
    // event we will not take should cost us as little as possible.
    let pdu = Pdu::from_json(raw)?;
    checks::check_reference_counts(&pdu)?;
    let room_id = pdu.room_id().clone();
    let event_id = pdu.event_id().clone();
    let room = {
        let room_id = room_id.clone();
        with_store(homeserver, move |store| Ok(store.room(&room_id)?)).await?
    };
    let room = room.ok_or_else(|| ReceiveError::UnknownRoom(room_id.clone()))?;
    if room.room_version != "10" {
        return Err(ReceiveError::UnsupportedRoomVersion(room.room_version));
    }
    if !room.federate {
        return refuse_unfederated(homeserver, &pdu);
    }
    // Steps 2 and 3.
    let checked = checks::check_signed(peers, pdu).await?;
    let (known, foreign_parent) = {
        let event = checked.pdu.clone();
        with_store(homeserver, move |store| {
            let known = store.event(event.event_id())?.is_some();
            Ok((known, persist::parent_in_another_room(store, &event)?))
        })
        .await?
    };
    if known {
        return Ok(Outcome::AlreadyKnown);
    }
    // Before step 4: a parent from another room would make us fill "gaps"
    // and compute "the state before" out of that other room's history.
    if let Some(reason) = foreign_parent {
        tracing::warn!(event = %event_id, %reason, "received PDU rejected");
        return Ok(Outcome::Rejected(reason));
    }

    // Steps 4 and 5, the network part: gather everything the checks need.
    let plan = gaps::prepare(homeserver, peers, origin, checked).await?;

    // Steps 5 to 8, under the write lock, in one blocking task.
    let writing = crate::rooms::events::write_lock(homeserver).await;
    let hooks = homeserver.config().hooks.clone();
    let outcomes = with_store(homeserver, move |store| {
        Ok(persist::apply(store, &hooks, plan, &writing))
    })
    .await?;
    let mut last = Err(ReceiveError::Room(RoomError::Internal(format!(
        "{event_id} was not in its own plan"
    ))));
    for (id, outcome, position) in outcomes {
        if let Some(position) = position {
            homeserver.announce(position);
        }
        match &outcome {
            Ok(verdict) => tracing::info!(event = %id, ?verdict, "received PDU"),
            Err(error) => tracing::warn!(event = %id, %error, "received PDU not processed"),
        }
        if id == event_id {
            last = outcome;
        }
    }
    last
}

/// The answer to a PDU for a room created with `m.federate: false`.
///
/// Such a room lives on this server alone (see `federation::sender`,
/// which never sends its events out, and `serve::access`, which never
/// serves them). Auth rule 3 would reject a foreign sender's event too,
/// but only at step 5, *after* gap filling: by then we would have sent the
/// peer our forward extremities in `get_missing_events` and asked it for
/// `state_ids`, telling a stranger about a room that promised its members
/// to stay private. So the refusal comes first, before any peer is asked
/// anything (not even for a signing key).
///
/// A foreign sender gets rule 3's verdict, as the auth rules would give
/// it. An event of our own users cannot legitimately come from a peer at
/// all (we never sent it out), so that is refused as an error.
fn refuse_unfederated(homeserver: &Homeserver, pdu: &Pdu) -> Result<Outcome, ReceiveError> {
    let home = &homeserver.config().server_name;
    let sender_server = pdu.sender().server_name();
    tracing::warn!(event = %pdu.event_id(), room = %pdu.room_id(), "PDU for an unfederated room refused");
    if &sender_server == home {
        return Err(ReceiveError::UnfederatedRoom(pdu.room_id().clone()));
    }
    Ok(Outcome::Rejected(format!(
        "rejected by auth rule 3: room {} was created with m.federate false, so only users of {home} may take part, not {}; refused before any federation request",
        pdu.room_id(),
        pdu.sender()
    )))
}
