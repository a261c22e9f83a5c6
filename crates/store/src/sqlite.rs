//! [`SqliteStore`]: the [`Store`] on one SQLite file and a media directory.
//!
//! A server's data directory holds exactly what the incident destroyed and
//! what a backup must bring back:
//!
//! ```text
//! data_dir/
//!   homeserver.db        the database (DATABASE_FILE); while open, SQLite
//!   homeserver.db-wal    also keeps its write-ahead log and shared-memory
//!   homeserver.db-shm    index beside it: the three are one database
//!   media/<origin>/<id>  uploaded files (MEDIA_DIR)
//! ```
//!
//! | module | what it is for |
//! |---|---|
//! | `connection` | opening the file, checking it, WAL and `synchronous=FULL` |
//! | `migrations` | versioned schema steps (`schema_v1.sql`), version and shape checks |
//! | `errors` | SQLite result codes → [`StoreError`](crate::StoreError) (`DiskFull`, `UserInUse`, ...) |
//! | `accounts` | accounts, devices and access tokens, profiles |
//! | `rooms` | rooms and aliases |
//! | `events` | persisting an event with what changes with it; the timeline |
//! | `backfilled` | history fetched from peers, at negative positions before the timeline |
//! | `state` | state groups, current state, forward extremities, memberships |
//! | `media` | uploads: checked names, file first, row second |
//! | `files` | durable file writes: temporary name, fsync, rename, fsync directory |
//! | `outbox` | the federation outbox |
//! | `backup` | online backups through SQLite's backup API |
//! | `migrate` | copying the database into a capped new file, as the upgrade did; verifying a copy |
//!
//! **One connection behind a mutex.** SQLite lets one writer at a time into
//! a database file, whatever the number of connections, so a pool would
//! buy concurrent *reads* at the price of `SQLITE_BUSY` handling and of
//! reasoning about which connection sees which commit. For a teaching
//! homeserver, one connection that every call takes in turn is simple and
//! obviously correct: each trait method sees the effects of every earlier
//! one, and SQLite never has to arbitrate between us and ourselves.

mod accounts;
mod backfilled;
mod backup;
mod connection;
mod errors;
mod events;
mod files;
mod media;
mod migrate;
mod migrations;
mod outbox;
mod rooms;
mod state;

use crate::{
    Account, Device, EventWrite, Media, OutboxEntry, OutboxId, Profile, Result, Room, Store,
    StoredEvent, StreamPosition, TransactionKey,
};
use lostfound_protocol::ids::{EventId, RoomAlias, RoomId, ServerName, UserId};
use lostfound_protocol::state::StateMap;
pub use migrate::{CopyCheck, CopyReport, TableCopy};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The database's file name inside the data directory.
pub const DATABASE_FILE: &str = "homeserver.db";
/// The media directory's name inside the data directory.
pub const MEDIA_DIR: &str = "media";

/// A [`Store`] on SQLite. See the module documentation for the layout.
pub struct SqliteStore {
    connection: Mutex<Connection>,
    data_dir: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store in `data_dir`, creating the directory, the database
    /// and the media directory if needed.
    ///
    /// A database that is damaged, cut short, another program's, or of a
    /// newer schema is refused with [`StoreError::Unusable`](crate::StoreError::Unusable)
    /// before anything is written to it; an empty one gets the schema.
    pub fn open(data_dir: &Path) -> Result<SqliteStore> {
        files::create_dir_durably(data_dir)?;
        files::create_dir_durably(&data_dir.join(MEDIA_DIR))?;
        let connection = connection::open(&data_dir.join(DATABASE_FILE))?;
        Ok(SqliteStore {
            connection: Mutex::new(connection),
            data_dir: data_dir.to_owned(),
        })
    }

    /// Where the database file is (the lab backs it up and destroys it).
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// Where uploaded files are kept, one directory per origin server.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join(MEDIA_DIR)
    }

    /// Writes a consistent copy of the database to `path`, a new file that
    /// [`SqliteStore::open`] accepts once placed in a data directory as
    /// [`DATABASE_FILE`]. Media files are not included: copy [`Self::media_dir`].
    pub fn backup_to(&self, path: &Path) -> Result<()> {
        self.with_connection(|conn| backup::backup_to(conn, path))
    }

    /// Makes the database backup `backup` the database of `data_dir`, after
    /// checking that it is sound (the same checks as [`Self::open`]). No
    /// server may have `data_dir` open. The old database's write-ahead log
    /// and shared-memory files are removed: replayed onto the restored
    /// file, a stale log would corrupt it. Media are not included: copy
    /// them back into [`MEDIA_DIR`] yourself.
    pub fn restore_database(backup: &Path, data_dir: &Path) -> Result<()> {
        backup::restore_database(backup, data_dir)
    }

    /// Copies the database file `original` into the new file `copy`,
    /// capped at `max_bytes`, table by table, as the incident's upgrade
    /// did; see [`CopyReport`]. No server may have `original` open.
    pub fn copy_database(
        original: &Path,
        copy: &Path,
        max_bytes: Option<u64>,
    ) -> Result<CopyReport> {
        migrate::copy_database(original, copy, max_bytes)
    }

    /// The size of the database file `path` as SQLite sees it, whether or
    /// not its write-ahead log was checkpointed: what a copy needs.
    pub fn database_size(path: &Path) -> Result<u64> {
        migrate::database_size(path)
    }

    /// Whether `copy` can replace `original`: the check the upgrade guide
    /// left out. See [`CopyCheck`].
    pub fn verify_copy(original: &Path, copy: &Path) -> Result<CopyCheck> {
        migrate::verify_copy(original, copy)
    }

    /// The checks [`Self::open`] makes before it writes anything, on a
    /// database file it does not open for writing: SQLite's consistency
    /// check (`PRAGMA quick_check`), then ours (the file is a Lost & Found
    /// database of a schema version we know, stamped as a finished copy).
    /// An empty file passes: `open` would give it the schema.
    pub fn check_file(path: &Path) -> Result<()> {
        connection::check_read_only(path)
    }

    /// Runs `operation` with the connection, and gives any SQLite error
    /// leaving it its meaning (see `errors`).
    ///
    /// A poisoned mutex (a thread panicked while holding it) is taken over:
    /// the connection is still sound, because an unfinished transaction is
    /// rolled back when the panicking thread drops it.
    fn with_connection<T>(
        &self,
        operation: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        operation(&mut connection).map_err(errors::refine)
    }
}

/// Each method takes the connection and hands it to the module that knows
/// the tables involved.
impl Store for SqliteStore {
    fn create_account(&self, account: &Account) -> Result<()> {
        self.with_connection(|c| accounts::create_account(c, account))
    }
    fn account(&self, user_id: &UserId) -> Result<Option<Account>> {
        self.with_connection(|c| accounts::account(c, user_id))
    }
    fn set_password_hash(&self, user_id: &UserId, password_hash: &str) -> Result<()> {
        self.with_connection(|c| accounts::set_password_hash(c, user_id, password_hash))
    }

    fn upsert_device(&self, device: &Device) -> Result<()> {
        self.with_connection(|c| accounts::upsert_device(c, device))
    }
    fn device_by_token(&self, access_token: &str) -> Result<Option<Device>> {
        self.with_connection(|c| accounts::device_by_token(c, access_token))
    }
    fn delete_device(&self, user_id: &UserId, device_id: &str) -> Result<()> {
        self.with_connection(|c| accounts::delete_device(c, user_id, device_id))
    }
    fn delete_devices_except(&self, user_id: &UserId, keep: Option<&str>) -> Result<()> {
        self.with_connection(|c| accounts::delete_devices_except(c, user_id, keep))
    }

    fn profile(&self, user_id: &UserId) -> Result<Profile> {
        self.with_connection(|c| accounts::profile(c, user_id))
    }
    fn set_profile(&self, user_id: &UserId, profile: &Profile) -> Result<()> {
        self.with_connection(|c| accounts::set_profile(c, user_id, profile))
    }

    fn create_room(&self, room: &Room) -> Result<()> {
        self.with_connection(|c| rooms::create_room(c, room))
    }
    fn room(&self, room_id: &RoomId) -> Result<Option<Room>> {
        self.with_connection(|c| rooms::room(c, room_id))
    }
    fn set_alias(&self, alias: &RoomAlias, room_id: &RoomId) -> Result<()> {
        self.with_connection(|c| rooms::set_alias(c, alias, room_id))
    }
    fn resolve_alias(&self, alias: &RoomAlias) -> Result<Option<RoomId>> {
        self.with_connection(|c| rooms::resolve_alias(c, alias))
    }

    fn persist_event(&self, write: &EventWrite<'_>) -> Result<StreamPosition> {
        self.with_connection(|c| events::persist_event(c, write))
    }
    fn persist_backfilled_events(&self, writes: &[EventWrite<'_>]) -> Result<Vec<StreamPosition>> {
        self.with_connection(|c| backfilled::persist_backfilled_events(c, writes))
    }
    fn event(&self, event_id: &EventId) -> Result<Option<StoredEvent>> {
        self.with_connection(|c| events::event(c, event_id))
    }
    fn transaction_event(&self, key: &TransactionKey) -> Result<Option<EventId>> {
        self.with_connection(|c| events::transaction_event(c, key))
    }
    fn current_state(&self, room_id: &RoomId) -> Result<StateMap<EventId>> {
        self.with_connection(|c| state::current_state(c, room_id))
    }
    fn state_after(&self, event_id: &EventId) -> Result<Option<StateMap<EventId>>> {
        self.with_connection(|c| state::state_after(c, event_id))
    }
    fn forward_extremities(&self, room_id: &RoomId) -> Result<Vec<EventId>> {
        self.with_connection(|c| state::forward_extremities(c, room_id))
    }
    fn rooms_with_membership(&self, user_id: &UserId, memberships: &[&str]) -> Result<Vec<RoomId>> {
        self.with_connection(|c| state::rooms_with_membership(c, user_id, memberships))
    }
    fn room_events_after(
        &self,
        room_id: &RoomId,
        after: StreamPosition,
        up_to: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        self.with_connection(|c| events::room_events_after(c, room_id, after, up_to, limit))
    }
    fn room_events_before(
        &self,
        room_id: &RoomId,
        before: StreamPosition,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        self.with_connection(|c| events::room_events_before(c, room_id, before, limit))
    }
    fn current_position(&self) -> Result<StreamPosition> {
        self.with_connection(|c| events::current_position(c))
    }

    fn put_media(&self, media: &Media, bytes: &[u8]) -> Result<()> {
        media::put_media(self, media, bytes)
    }
    fn media(&self, origin: &ServerName, media_id: &str) -> Result<Option<(Media, Vec<u8>)>> {
        media::media(self, origin, media_id)
    }

    fn enqueue_outgoing(&self, destination: &ServerName, event_id: &EventId) -> Result<()> {
        self.with_connection(|c| outbox::enqueue_outgoing(c, destination, event_id))
    }
    fn outgoing(&self, destination: &ServerName, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.with_connection(|c| outbox::outgoing(c, destination, limit))
    }
    fn acknowledge_outgoing(&self, destination: &ServerName, up_to: OutboxId) -> Result<()> {
        self.with_connection(|c| outbox::acknowledge_outgoing(c, destination, up_to))
    }
    fn outgoing_destinations(&self) -> Result<Vec<ServerName>> {
        self.with_connection(|c| outbox::outgoing_destinations(c))
    }
}

#[cfg(test)]
mod tests;
