//! The server-server (federation) API
//! (<https://spec.matrix.org/v1.16/server-server-api/>): how homeservers
//! share rooms, and how a server that lost events finds them again.
//!
//! | module | what it is for |
//! |---|---|
//! | `directory` | server name → base URL (the lab's map, or `--peer NAME=HOST:PORT`) |
//! | `keys` | `/_matrix/key/v2/server`, and the key ring of peers' keys |
//! | `client` | outgoing requests, signed with X-Matrix |
//! | `auth` | the extractor that verifies incoming X-Matrix requests |
//! | `peers` | [`Federation`]: directory, client and key ring together, implementing [`Peers`] |
//! | `query` | `/_matrix/federation/v1/version` and `query/profile` |
//! | `routes` | every federation route, in one list ([`routes()`]) |
//! | `serve` | what we answer peers: event, backfill, get_missing_events, state_ids, event_auth |
//! | `receive` | the checks on receipt of a PDU, and filling the gaps it reveals |
//! | `backfill` | fetching older history from peers when a client scrolls back past what we hold |
//! | `join` | `make_join` / `send_join`: serving joiners, and joining rooms of other servers |
//! | `invite` | `invite` (v2): receiving invites for our users, and inviting users of other servers |
//! | `leave` | `make_leave` / `send_leave`: serving leavers, and declining invites to rooms we are not in |
//! | `sender` | pushing our events to the servers in their rooms: the outbox, transactions, backoff |
//!
//! The contract between receiving PDUs and talking to peers is [`Peers`]:
//! the receive pipeline asks it for keys and for events it lacks, and tests
//! can answer with a fake federation.

pub mod auth;
pub mod backfill;
pub mod client;
pub mod directory;
pub mod invite;
pub mod join;
pub mod keys;
pub mod leave;
mod peers;
mod query;
pub mod receive;
mod routes;
pub mod sender;
pub mod serve;

pub use peers::{Federation, encode};
pub use routes::routes;

use lostfound_protocol::ids::{EventId, RoomId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::SignatureError;
use serde_json::Value;
use std::future::Future;

/// Why talking to another server failed.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The directory has no address for this server name.
    #[error("no address is known for server {0}")]
    UnknownServer(ServerName),
    /// The connection failed or timed out.
    #[error("cannot reach {server}: {reason}")]
    Unreachable { server: ServerName, reason: String },
    /// The peer answered with an error status.
    #[error("{server} refused: {status} {errcode}: {message}")]
    Refused {
        server: ServerName,
        status: u16,
        errcode: String,
        message: String,
    },
    /// The peer's answer was not what the spec says it should be.
    #[error("unexpected answer from {server}: {reason}")]
    BadResponse { server: ServerName, reason: String },
    /// No usable key for checking a signature.
    #[error("no valid key {key_id} is known for {server}")]
    UnknownKey { server: ServerName, key_id: String },
    /// A signature did not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// What the receive pipeline needs from the rest of the federation.
///
/// The real implementation signs requests and fetches keys over HTTP; tests
/// implement it with a few maps. Events come back as raw JSON: the caller
/// checks them like any other PDU, because a peer's answer is untrusted.
pub trait Peers: Send + Sync {
    /// Checks every signature the spec requires on `event` (the sender's
    /// server's, and for a restricted join the authorising server's),
    /// fetching keys as needed.
    fn verify_event_signatures(
        &self,
        event: &Pdu,
    ) -> impl Future<Output = Result<(), FederationError>> + Send;

    /// `POST /_matrix/federation/v1/get_missing_events/{roomId}` on `server`.
    fn get_missing_events(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        earliest_events: &[EventId],
        latest_events: &[EventId],
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Value>, FederationError>> + Send;

    /// `GET /_matrix/federation/v1/event/{eventId}` on `server`.
    fn get_event(
        &self,
        server: &ServerName,
        event_id: &EventId,
    ) -> impl Future<Output = Result<Value, FederationError>> + Send;

    /// `GET /_matrix/federation/v1/state_ids/{roomId}?event_id=` on
    /// `server`: the state before `event_id`, and its auth chain, as IDs.
    fn get_state_ids(
        &self,
        server: &ServerName,
        room_id: &RoomId,
        event_id: &EventId,
    ) -> impl Future<Output = Result<StateIds, FederationError>> + Send;
}

/// The answer of `state_ids`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateIds {
    pub pdu_ids: Vec<EventId>,
    pub auth_chain_ids: Vec<EventId>,
}
