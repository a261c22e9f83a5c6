//! Durable storage for a Lost & Found homeserver.
//!
//! A homeserver's durable state is its database plus its media directory:
//! everything the incident destroyed, and everything a backup can bring
//! back. This crate owns both, behind one narrow trait, [`Store`], so that
//! the server never sees SQL and the lab can back up, migrate and restore a
//! server's data as files.
//!
//! **Invariant:** only this crate knows SQLite. **Invariant:** a write that
//! returns `Ok` is durable (WAL, `synchronous=FULL`): if the server
//! acknowledges a message to a client after a store call returned, the
//! message survives a crash.
//!
//! | module | what it is for |
//! |---|---|
//! | [`model`] | the records the store keeps: accounts, devices, rooms, stored events, media |
//! | [`sqlite`] | [`SqliteStore`], the SQLite implementation, its schema and migrations |

pub mod model;
pub mod sqlite;

use lostfound_protocol::ids::{EventId, RoomAlias, RoomId, ServerName, UserId};
use lostfound_protocol::state::StateMap;
pub use model::*;
pub use sqlite::{CopyCheck, CopyReport, TableCopy};
pub use sqlite::{DATABASE_FILE, MEDIA_DIR, SqliteStore};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A user with this ID already exists.
    #[error("user {0} already exists")]
    UserInUse(UserId),
    /// The alias already points at a room.
    #[error("alias {0} is already in use")]
    AliasInUse(RoomAlias),
    /// The room already exists.
    #[error("room {0} already exists")]
    RoomExists(RoomId),
    /// The record a write refers to does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database file is not one this version can use: damaged, cut
    /// short, or written by an unknown schema version.
    #[error("database {path} is unusable: {reason}")]
    Unusable { path: String, reason: String },
    /// The disk (or the quota) is full: the write did not happen.
    #[error("the disk is full: {0}")]
    DiskFull(String),
    /// Data in the database that does not parse back (a bug or tampering).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A file in the media directory or a backup could not be read or written.
    #[error("file error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything a homeserver keeps. Methods are synchronous: callers on an
/// async runtime run them on a blocking thread. Every write is atomic and
/// durable when it returns.
pub trait Store: Send + Sync {
    // --- accounts -------------------------------------------------------

    /// Creates an account; [`StoreError::UserInUse`] if the ID is taken.
    fn create_account(&self, account: &Account) -> Result<()>;
    fn account(&self, user_id: &UserId) -> Result<Option<Account>>;
    /// Replaces the password hash (the server hashes; the store never sees passwords).
    fn set_password_hash(&self, user_id: &UserId, password_hash: &str) -> Result<()>;

    // --- devices and access tokens ----------------------------------------

    /// Adds a device, or replaces the device with the same ID (and its token).
    fn upsert_device(&self, device: &Device) -> Result<()>;
    fn device_by_token(&self, access_token: &str) -> Result<Option<Device>>;
    fn delete_device(&self, user_id: &UserId, device_id: &str) -> Result<()>;
    /// Logs out every device of `user_id` except `keep` (used on password change).
    fn delete_devices_except(&self, user_id: &UserId, keep: Option<&str>) -> Result<()>;

    // --- profiles ---------------------------------------------------------

    /// The profile, empty if none was ever set.
    fn profile(&self, user_id: &UserId) -> Result<Profile>;
    fn set_profile(&self, user_id: &UserId, profile: &Profile) -> Result<()>;

    // --- rooms and aliases ------------------------------------------------

    fn create_room(&self, room: &Room) -> Result<()>;
    fn room(&self, room_id: &RoomId) -> Result<Option<Room>>;
    fn set_alias(&self, alias: &RoomAlias, room_id: &RoomId) -> Result<()>;
    fn resolve_alias(&self, alias: &RoomAlias) -> Result<Option<RoomId>>;

    // --- events and state -------------------------------------------------

    /// Persists one event atomically with everything that changes with it:
    /// the room state after it, the room's forward extremities, and the
    /// client transaction ID it answers. Returns its stream position.
    fn persist_event(&self, write: &EventWrite<'_>) -> Result<StreamPosition>;
    /// Persists events fetched with backfill, oldest first, in one
    /// transaction at *negative* positions below everything stored, so
    /// that they sit before the timeline (`/messages` finds them when
    /// scrolling back; `/sync`, which reads above its token, never sees
    /// them as new). Current state and forward extremities are untouched.
    /// A timeline event already held keeps its position; an outlier is
    /// promoted into the timeline. Returns the positions, in order.
    fn persist_backfilled_events(&self, writes: &[EventWrite<'_>]) -> Result<Vec<StreamPosition>>;
    fn event(&self, event_id: &EventId) -> Result<Option<StoredEvent>>;
    /// The event a client transaction already produced, if any.
    fn transaction_event(&self, key: &TransactionKey) -> Result<Option<EventId>>;
    /// The room's state now: `(type, state_key)` → event ID.
    fn current_state(&self, room_id: &RoomId) -> Result<StateMap<EventId>>;
    /// The room's state just after `event_id` was applied.
    fn state_after(&self, event_id: &EventId) -> Result<Option<StateMap<EventId>>>;
    /// Events with no children yet: the `prev_events` of the next event.
    fn forward_extremities(&self, room_id: &RoomId) -> Result<Vec<EventId>>;
    /// Rooms in which `user_id`'s current membership is one of `memberships`.
    fn rooms_with_membership(&self, user_id: &UserId, memberships: &[&str]) -> Result<Vec<RoomId>>;
    /// Non-outlier events of a room with `after < position <= up_to`, oldest first, at most `limit`.
    fn room_events_after(
        &self,
        room_id: &RoomId,
        after: StreamPosition,
        up_to: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>>;
    /// Non-outlier events of a room with `position < before`, newest first, at most `limit`.
    fn room_events_before(
        &self,
        room_id: &RoomId,
        before: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>>;
    /// The highest stream position written so far (0 for an empty store);
    /// backfilled events, below zero, never move it.
    fn current_position(&self) -> Result<StreamPosition>;

    // --- media ------------------------------------------------------------

    /// Writes the bytes to the media directory, then the metadata row.
    fn put_media(&self, media: &Media, bytes: &[u8]) -> Result<()>;
    fn media(&self, origin: &ServerName, media_id: &str) -> Result<Option<(Media, Vec<u8>)>>;

    // --- federation outbox ------------------------------------------------

    /// Queues `event_id` for `destination`; survives restarts until acknowledged.
    fn enqueue_outgoing(&self, destination: &ServerName, event_id: &EventId) -> Result<()>;
    /// The oldest queued events for `destination`, at most `limit`.
    fn outgoing(&self, destination: &ServerName, limit: usize) -> Result<Vec<OutboxEntry>>;
    /// Removes delivered entries, up to and including `up_to`.
    fn acknowledge_outgoing(&self, destination: &ServerName, up_to: OutboxId) -> Result<()>;
    /// Destinations with queued events.
    fn outgoing_destinations(&self) -> Result<Vec<ServerName>>;
}
