//! Backfill: asking a peer for the history before the oldest events we
//! hold, when a client scrolls back past them
//! (<https://spec.matrix.org/v1.16/server-server-api/#backfilling-and-retrieving-missing-events>).
//!
//! This is the other half of how the 2021 incident healed. After the
//! restore, receiving new events filled the *recent* gap
//! (`get_missing_events`, see [`super::receive`]), but only a few events
//! deep; older history reached the restored server only when one of its
//! users scrolled back in a public room. Every event names its parents in
//! `prev_events`; a parent we lack (or hold only as an outlier) marks a
//! *backwards extremity*, the edge of our copy of the room. Its ID is what
//! we ask for: `GET /backfill/{roomId}?v=<extremity>&limit=N` answers with
//! that event and its predecessors, newest first.
//!
//! # The flow
//!
//! 1. `/messages?dir=b` reaches the start of what we hold
//!    ([`crate::client::messages`]) and finds the backwards extremities
//!    ([`backwards_extremities`]).
//! 2. [`backfill`] asks the servers of the room's joined members, ours
//!    excepted, one after the other (at most [`MAX_SERVERS_TRIED`]) until
//!    one answers.
//! 3. Each returned PDU goes through the checks on receipt, steps 1–3
//!    (format, signatures, content hash → redacted), reused from
//!    [`super::receive`]; a forged event is dropped like a forged push.
//! 4. In topological order (oldest first), each event must pass the auth
//!    rules against its own `auth_events` (found in the store or earlier in
//!    the batch, in this room only), and against the state before it,
//!    computed from its parents (resolved with state resolution v2 when
//!    there are several). A failure is a rejection: the event is not
//!    stored. When the state before it cannot be known (a parent we lack),
//!    the room's current state stands in; an event failing that is stored
//!    as an outlier, out of the timeline (see `persist`).
//! 5. The survivors are stored in one write *before* everything already in
//!    the timeline, at negative stream positions
//!    ([`Store::persist_backfilled_events`]), so `/sync` never shows them
//!    as new; outliers among them (state fetched earlier) are promoted into
//!    the timeline.
//!
//! Backfilled history is not held to the room's current state when the
//! state before it is known: soft failure protects *now* from stale
//! events, and history is stale by definition. Its state after each event
//! is known when its parents' are (a message keeps it, a state event adds
//! itself). For the oldest events of a batch, whose parents we lack, it is
//! stored as unknown (empty, as for outliers) rather than guessed; such an
//! event enters the timeline only if the current state allows it, because
//! its own `auth_events`, chosen by its sender, prove nothing on their own
//! (a banned user can cite the join he once had).
//!
//! **Bounded work.** One request per `/messages` call, at most
//! [`MAX_BACKFILL_EVENTS`] events, at most [`MAX_SERVERS_TRIED`] servers.

mod persist;

use super::receive::checks::{Checked, check_pdu};
use super::{Federation, FederationError, Peers, encode};
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use lostfound_protocol::dag::topological_order;
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_store::{Store, StoreError, StoredEvent};
use persist::authorise_and_store;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;

/// The most events one backfill asks for (and accepts): Synapse's cap too.
pub const MAX_BACKFILL_EVENTS: u32 = 100;
/// The most servers asked before giving up for this time.
pub const MAX_SERVERS_TRIED: usize = 5;

/// The one request backfill adds to [`Peers`]. A separate trait, so that
/// the receive pipeline's fakes need not implement it.
pub trait Backfill: Peers {
    /// `GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=…` on
    /// `server`: the `from` events and their predecessors, as raw PDUs.
    fn backfill(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        from: &[EventId],
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Value>, FederationError>> + Send;
}

impl Backfill for Federation {
    async fn backfill(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        from: &[EventId],
        limit: u32,
    ) -> Result<Vec<Value>, FederationError> {
        let mut path = format!(
            "/_matrix/federation/v1/backfill/{}?limit={limit}",
            encode(room_id.as_str())
        );
        for event_id in from {
            path.push_str(&format!("&v={}", encode(event_id.as_str())));
        }
        let answer = self.client().get_json(server, &path).await?;
        match answer.get("pdus").and_then(Value::as_array) {
            Some(pdus) => Ok(pdus.clone()),
            None => Err(FederationError::BadResponse {
                server: server.clone(),
                reason: "`pdus` is not an array".to_owned(),
            }),
        }
    }
}

/// What one backfill did, for the log line and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The server that answered, if any did.
    pub server: Option<ServerName>,
    /// PDUs in its answer.
    pub received: usize,
    /// Events newly placed in our timeline (stored or promoted).
    pub stored: usize,
}

/// The `prev_events` of `events` that we do not hold as timeline events:
/// where our copy of the room stops, looking back from `events`.
pub fn backwards_extremities(
    store: &dyn Store,
    events: &[StoredEvent],
) -> Result<Vec<EventId>, StoreError> {
    let mut extremities = BTreeSet::new();
    for stored in events {
        for prev in stored.event.prev_events() {
            if !extremities.contains(prev) && store.event(prev)?.is_none_or(|held| held.outlier) {
                extremities.insert(prev.clone());
            }
        }
    }
    Ok(extremities.into_iter().collect())
}

/// Fetches the history before `extremities` from a server of the room,
/// checks it, and stores it before our timeline. A peer's failure is not
/// an error (the report says nobody answered); only our store's is.
pub async fn backfill<P: Backfill>(
    homeserver: &Homeserver,
    peers: &P,
    room_id: &RoomId,
    extremities: Vec<EventId>,
) -> Result<Report, RoomError> {
    let mut report = Report::default();
    if extremities.is_empty() {
        return Ok(report);
    }
    let ours = homeserver.config().server_name.clone();
    let servers = {
        let room_id = room_id.clone();
        with_store(homeserver, move |store| {
            Ok(servers_in_room(store, &room_id)?)
        })
        .await?
    };
    let mut answer = None;
    for server in servers
        .iter()
        .filter(|s| **s != ours)
        .take(MAX_SERVERS_TRIED)
    {
        match peers
            .backfill(server, room_id, &extremities, MAX_BACKFILL_EVENTS)
            .await
        {
            Ok(pdus) => {
                answer = Some((server.clone(), pdus));
                break;
            }
            Err(error) => tracing::warn!(%server, %error, "backfill failed; trying another server"),
        }
    }
    let Some((server, pdus)) = answer else {
        tracing::info!(room = %room_id, asked = extremities.len(), "backfill: no server answered");
        return Ok(report);
    };
    report.received = pdus.len();
    // Steps 1–3 on every PDU; duplicates and other rooms' events are dropped.
    let mut checked: HashMap<EventId, Checked> = HashMap::new();
    for raw in pdus.into_iter().take(MAX_BACKFILL_EVENTS as usize) {
        match check_pdu(peers, raw).await {
            Ok(event) if event.pdu.room_id() == room_id => {
                checked.insert(event.pdu.event_id().clone(), event);
            }
            Ok(event) => {
                tracing::warn!(event = %event.pdu.event_id(), "backfilled event from another room, dropped");
            }
            Err(error) => tracing::warn!(%server, %error, "backfilled event dropped"),
        }
    }
    let order = topological_order(checked.values().map(|event| &event.pdu));
    let batch: Vec<Pdu> = order
        .iter()
        .filter_map(|id| checked.remove(id).map(|event| event.pdu))
        .collect();
    let hooks = homeserver.config().hooks.clone();
    report.stored = with_store(homeserver, move |store| {
        Ok(authorise_and_store(store, &hooks, batch)?)
    })
    .await?;
    tracing::info!(
        room = %room_id, %server, asked = extremities.len(),
        received = report.received, stored = report.stored, "backfill"
    );
    report.server = Some(server);
    Ok(report)
}

/// The servers of the room's joined members, in name order.
fn servers_in_room(store: &dyn Store, room_id: &RoomId) -> Result<Vec<ServerName>, StoreError> {
    let mut servers = BTreeSet::new();
    for ((kind, state_key), event_id) in store.current_state(room_id)? {
        if kind != "m.room.member" {
            continue;
        }
        let Ok(user) = state_key.parse::<UserId>() else {
            continue;
        };
        let joined = store
            .event(&event_id)?
            .is_some_and(|member| member.event.membership() == Some("join"));
        if joined {
            servers.insert(user.server_name());
        }
    }
    Ok(servers.into_iter().collect())
}
