//! The records a homeserver keeps, as plain data.

use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;

/// A position in the server's single stream of events: every persisted
/// event gets the next one. `/sync` tokens and `/messages` pagination
/// tokens are positions. Events fetched with backfill (old history learnt
/// late) get negative positions, below everything else, so they sit
/// before the timeline rather than after it.
pub type StreamPosition = i64;

/// The ID of an entry in the federation outbox.
pub type OutboxId = i64;

/// A local user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: UserId,
    /// A PHC string (argon2id); the store never sees passwords.
    pub password_hash: String,
    /// Milliseconds since the Unix epoch, from the server's clock.
    pub created_ts: u64,
}

/// A logged-in device and its access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user_id: UserId,
    pub device_id: String,
    pub access_token: String,
    pub display_name: Option<String>,
}

/// Display name and avatar, as `/profile` serves them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub displayname: Option<String>,
    pub avatar_url: Option<String>,
}

/// A room this server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub room_id: RoomId,
    pub room_version: String,
    /// `m.federate` from the create event: false keeps the room on this server.
    pub federate: bool,
}

/// Identifies a client transaction: the same `txnId` from the same device
/// must not create a second event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionKey {
    pub user_id: UserId,
    pub device_id: String,
    pub txn_id: String,
}

/// One event to persist, and what changes with it.
#[derive(Debug, Clone)]
pub struct EventWrite<'a> {
    pub event: &'a Pdu,
    /// The room state after this event (for a non-state event: the state
    /// before it, unchanged).
    pub state_after: &'a StateMap<EventId>,
    /// The room's forward extremities once this event is in.
    pub forward_extremities: &'a [EventId],
    /// The room's current state once this event is in, when it is not
    /// `state_after`: an event received on one branch of a fork leaves the
    /// room with several extremities, and the current state is then the
    /// resolution of all their states. `None` means `state_after` (a local
    /// event, which always extends the only branch).
    pub current_state: Option<&'a StateMap<EventId>>,
    /// An outlier is an event we hold without its place in the timeline
    /// (for example an auth event fetched from a peer); it is not shown to
    /// clients and does not change current state.
    pub outlier: bool,
    /// The client transaction this event answers, if any.
    pub transaction: Option<&'a TransactionKey>,
}

/// An event as stored, with where it sits in the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: Pdu,
    pub position: StreamPosition,
    pub outlier: bool,
}

/// Metadata of an uploaded file; the bytes live in the media directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub origin: ServerName,
    pub media_id: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub uploader: UserId,
    pub created_ts: u64,
}

/// A queued outgoing event for one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: OutboxId,
    pub event_id: EventId,
}
