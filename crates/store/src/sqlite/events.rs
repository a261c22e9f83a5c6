//! Events: persisting one with everything that changes with it, and
//! reading the timeline back in stream order.
//!
//! An event is stored as its canonical JSON, the exact bytes its hashes and
//! event ID are computed from, and parsed back into a [`Pdu`] on every
//! read. Parsing recomputes the event ID, so a row whose JSON was damaged
//! or edited is caught ([`StoreError::Corrupt`]) instead of being served to
//! peers under an ID that no longer matches it.
//!
//! The event ID is the hash of the *redacted* event, which has no content:
//! a changed message body keeps its ID. The content hash covers the body,
//! but the store cannot insist on it, because a redacted event (one a
//! redaction was applied to) legitimately fails it. Judging content hashes
//! is the server's job, on receipt; the store guards the ID.

use super::errors::parse_stored;
use super::state;
use crate::{EventWrite, Result, StoreError, StoredEvent, StreamPosition, TransactionKey};
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

/// Persists an event in one transaction with its state group, the room's
/// current state and forward extremities (unless it is an outlier), and
/// the client transaction it answers.
///
/// One transaction, because these facts only make sense together. If a
/// crash could leave the event stored but the extremities not updated, the
/// next event would not point at it and the room's graph would fork; if
/// it left the transaction ID unrecorded, the client's retry would send
/// the message twice.
///
/// Persisting an event that is already stored changes nothing and returns
/// its position: events arrive more than once in a federation (a peer
/// retries a transaction, backfill overlaps get_missing_events).
pub(super) fn persist_event(
    conn: &mut Connection,
    write: &EventWrite<'_>,
) -> Result<StreamPosition> {
    let event = write.event;
    // IMMEDIATE: take the write lock before reading, so that the check
    // for an existing event and the insert cannot be split by another writer.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(position) = position_of(&tx, event.event_id())? {
        return Ok(position);
    }
    let group = state::state_group_for(&tx, event, write.state_after)?;
    tx.execute(
        "INSERT INTO events (event_id, room_id, depth, outlier, state_group, membership, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            event.event_id().as_str(),
            event.room_id().as_str(),
            event.depth(),
            write.outlier,
            group,
            event.membership(),
            event.canonical_json(),
        ),
    )?;
    let position = tx.last_insert_rowid();
    state::note_membership(&tx, event)?;
    if !write.outlier {
        let current = write.current_state.unwrap_or(write.state_after);
        state::set_current_state(&tx, event.room_id(), current)?;
        state::set_forward_extremities(&tx, event.room_id(), write.forward_extremities)?;
    }
    if let Some(key) = write.transaction {
        // A second, different event for the same key violates the primary
        // key and the whole write fails: the database, not the server's
        // care, guarantees one event per client transaction.
        tx.execute(
            "INSERT INTO client_transactions (user_id, device_id, txn_id, event_id)
             VALUES (?1, ?2, ?3, ?4)",
            (
                key.user_id.as_str(),
                &key.device_id,
                &key.txn_id,
                event.event_id().as_str(),
            ),
        )?;
    }
    tx.commit()?;
    Ok(position)
}

fn position_of(conn: &Connection, event_id: &EventId) -> Result<Option<StreamPosition>> {
    Ok(conn
        .query_row(
            "SELECT stream_ordering FROM events WHERE event_id = ?1",
            [event_id.as_str()],
            |row| row.get(0),
        )
        .optional()?)
}

/// One event by ID. Each query selects the columns [`event_row`] reads.
const EVENT_BY_ID: &str =
    "SELECT event_id, json, stream_ordering, outlier FROM events WHERE event_id = ?1";

/// Forwards through a room's timeline, as `/sync` reads it. `outlier = 0`
/// is spelled out because SQLite uses a partial index (`events_timeline`,
/// `WHERE outlier = 0`) only for queries that repeat its condition.
pub(super) const EVENTS_AFTER: &str = "SELECT event_id, json, stream_ordering, outlier FROM events
     WHERE room_id = ?1 AND outlier = 0 AND stream_ordering > ?2 AND stream_ordering <= ?3
     ORDER BY stream_ordering ASC LIMIT ?4";

/// Backwards through a room's timeline, as `/messages?dir=b` reads it.
pub(super) const EVENTS_BEFORE: &str = "SELECT event_id, json, stream_ordering, outlier FROM events
     WHERE room_id = ?1 AND outlier = 0 AND stream_ordering < ?2
     ORDER BY stream_ordering DESC LIMIT ?3";

/// An event row before its JSON is checked.
struct EventRow {
    event_id: String,
    json: String,
    position: StreamPosition,
    outlier: bool,
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        event_id: row.get(0)?,
        json: row.get(1)?,
        position: row.get(2)?,
        outlier: row.get(3)?,
    })
}

/// Parses a stored event and checks that its JSON still hashes to its ID.
fn decode(row: EventRow) -> Result<StoredEvent> {
    let event = Pdu::from_json_str(&row.json)
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", row.event_id)))?;
    if event.event_id().as_str() != row.event_id {
        return Err(StoreError::Corrupt(format!(
            "event {} holds JSON whose event ID is {}",
            row.event_id,
            event.event_id()
        )));
    }
    Ok(StoredEvent {
        event,
        position: row.position,
        outlier: row.outlier,
    })
}

pub(super) fn event(conn: &Connection, event_id: &EventId) -> Result<Option<StoredEvent>> {
    let row = conn
        .query_row(EVENT_BY_ID, [event_id.as_str()], event_row)
        .optional()?;
    row.map(decode).transpose()
}

pub(super) fn transaction_event(
    conn: &Connection,
    key: &TransactionKey,
) -> Result<Option<EventId>> {
    let event_id: Option<String> = conn
        .query_row(
            "SELECT event_id FROM client_transactions
             WHERE user_id = ?1 AND device_id = ?2 AND txn_id = ?3",
            (key.user_id.as_str(), &key.device_id, &key.txn_id),
            |row| row.get(0),
        )
        .optional()?;
    event_id.map(|id| parse_stored(&id, "event ID")).transpose()
}

/// `LIMIT` takes a signed integer; a limit beyond it means "no limit".
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn query_events(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredEvent>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, event_row)?;
    rows.map(|row| decode(row?)).collect()
}

pub(super) fn room_events_after(
    conn: &Connection,
    room_id: &RoomId,
    after: StreamPosition,
    up_to: StreamPosition,
    limit: usize,
) -> Result<Vec<StoredEvent>> {
    query_events(
        conn,
        EVENTS_AFTER,
        (room_id.as_str(), after, up_to, sql_limit(limit)),
    )
}

pub(super) fn room_events_before(
    conn: &Connection,
    room_id: &RoomId,
    before: StreamPosition,
    limit: usize,
) -> Result<Vec<StoredEvent>> {
    query_events(
        conn,
        EVENTS_BEFORE,
        (room_id.as_str(), before, sql_limit(limit)),
    )
}

pub(super) fn current_position(conn: &Connection) -> Result<StreamPosition> {
    Ok(conn.query_row(
        "SELECT coalesce(max(stream_ordering), 0) FROM events",
        [],
        |row| row.get(0),
    )?)
}
