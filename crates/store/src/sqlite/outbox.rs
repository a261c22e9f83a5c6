//! The federation outbox: events waiting to be delivered, per destination.
//!
//! Sending to another server can fail for minutes or days (it is down, or
//! partitioned from us). The queue lives in the database, not in memory, so
//! that a restart does not forget what a peer is owed; an entry leaves only
//! when the destination has acknowledged it. Entries are numbered in the
//! order they were queued, and each destination receives its events in
//! that order.

use super::errors::{is_foreign_key_violation, parse_stored};
use crate::{OutboxEntry, OutboxId, Result, StoreError};
use lostfound_protocol::ids::{EventId, ServerName};
use rusqlite::Connection;

/// Queues `event_id` for `destination`. Queuing the same event twice for
/// the same destination keeps the first entry: a retried request must not
/// make the peer receive the event twice. The event must be stored
/// ([`StoreError::NotFound`] otherwise): the sender reads it from there.
pub(super) fn enqueue_outgoing(
    conn: &Connection,
    destination: &ServerName,
    event_id: &EventId,
) -> Result<()> {
    conn.execute(
        "INSERT INTO outbox (destination, event_id) VALUES (?1, ?2)
         ON CONFLICT (destination, event_id) DO NOTHING",
        (destination.as_str(), event_id.as_str()),
    )
    .map_err(|e| match e {
        e if is_foreign_key_violation(&e) => StoreError::NotFound(format!("event {event_id}")),
        e => e.into(),
    })?;
    Ok(())
}

pub(super) fn outgoing(
    conn: &Connection,
    destination: &ServerName,
    limit: usize,
) -> Result<Vec<OutboxEntry>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, event_id FROM outbox WHERE destination = ?1 ORDER BY id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map((destination.as_str(), limit), |row| {
        Ok((row.get::<_, OutboxId>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (id, event_id) = row?;
        Ok(OutboxEntry {
            id,
            event_id: parse_stored(&event_id, "queued event ID")?,
        })
    })
    .collect()
}

/// Removes the destination's entries up to and including `up_to`: a peer
/// acknowledges a transaction as a whole, and transactions carry the
/// oldest entries first.
pub(super) fn acknowledge_outgoing(
    conn: &Connection,
    destination: &ServerName,
    up_to: OutboxId,
) -> Result<()> {
    conn.execute(
        "DELETE FROM outbox WHERE destination = ?1 AND id <= ?2",
        (destination.as_str(), up_to),
    )?;
    Ok(())
}

/// Destinations with queued events, sorted by name.
pub(super) fn outgoing_destinations(conn: &Connection) -> Result<Vec<ServerName>> {
    let mut statement =
        conn.prepare_cached("SELECT DISTINCT destination FROM outbox ORDER BY destination")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|name| parse_stored(&name?, "destination"))
        .collect()
}
