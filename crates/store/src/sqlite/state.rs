//! Room state: the snapshot after each event (state groups), the state now
//! (current state), and the newest events (forward extremities).
//!
//! The server needs the state *after* any event it holds, not only the
//! latest: to authorise an event it receives late, to answer a peer's
//! `state_ids` for an old event, to resolve state when branches of the
//! room's graph merge. Storing a full copy per event would multiply the
//! state's size by the number of events, yet most events (messages) do
//! not change state. So snapshots are shared: a *state group* is one
//! snapshot, and every event points at the group that describes the room
//! after it. A new group is written only when the state differs from the
//! candidates: the groups of the event's parents (a message's state is its
//! parent's) and the room's newest group.
//!
//! Synapse stores most groups as a delta against an earlier group
//! (`state_group_edges`), which is smaller but takes a walk to read; full
//! snapshots keep the idea visible.

use super::errors::parse_stored;
use crate::Result;
use lostfound_protocol::ids::{EventId, RoomId, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeMap;

/// A state group's ID (`state_groups.group_id`).
pub(super) type GroupId = i64;

/// A snapshot as the database holds it: slot → event ID, all text.
type RawState = BTreeMap<(String, String), String>;

fn raw(state: &StateMap<EventId>) -> RawState {
    state
        .iter()
        .map(|(slot, event_id)| (slot.clone(), event_id.as_str().to_owned()))
        .collect()
}

/// The group describing `state` after `event`: an existing equal one, or new.
pub(super) fn state_group_for(
    conn: &Connection,
    event: &Pdu,
    state: &StateMap<EventId>,
) -> Result<GroupId> {
    let wanted = raw(state);
    for candidate in candidate_groups(conn, event)? {
        if group_entries(conn, candidate)? == wanted {
            return Ok(candidate);
        }
    }
    conn.execute(
        "INSERT INTO state_groups (room_id) VALUES (?1)",
        [event.room_id().as_str()],
    )?;
    let group = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO state_group_entries (group_id, type, state_key, event_id)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for ((event_type, state_key), event_id) in &wanted {
        insert.execute((group, event_type, state_key, event_id))?;
    }
    Ok(group)
}

/// The groups worth comparing with: the parents', then the room's newest.
fn candidate_groups(conn: &Connection, event: &Pdu) -> Result<Vec<GroupId>> {
    let mut candidates = Vec::new();
    let mut parent_group =
        conn.prepare_cached("SELECT state_group FROM events WHERE event_id = ?1")?;
    for parent in event.prev_events() {
        if let Some(group) = parent_group
            .query_row([parent.as_str()], |row| row.get(0))
            .optional()?
        {
            candidates.push(group);
        }
    }
    let newest: Option<GroupId> = conn.query_row(
        "SELECT max(group_id) FROM state_groups WHERE room_id = ?1",
        [event.room_id().as_str()],
        |row| row.get(0),
    )?;
    candidates.extend(newest);
    let mut unique = Vec::new();
    for group in candidates {
        if !unique.contains(&group) {
            unique.push(group);
        }
    }
    Ok(unique)
}

fn group_entries(conn: &Connection, group: GroupId) -> Result<RawState> {
    let mut statement = conn.prepare_cached(
        "SELECT type, state_key, event_id FROM state_group_entries WHERE group_id = ?1",
    )?;
    let rows = statement.query_map([group], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn parse_state(raw: RawState) -> Result<StateMap<EventId>> {
    raw.into_iter()
        .map(|(slot, event_id)| Ok((slot, parse_stored(&event_id, "state event ID")?)))
        .collect()
}

pub(super) fn state_after(
    conn: &Connection,
    event_id: &EventId,
) -> Result<Option<StateMap<EventId>>> {
    let group: Option<GroupId> = conn
        .query_row(
            "SELECT state_group FROM events WHERE event_id = ?1",
            [event_id.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    group
        .map(|group| parse_state(group_entries(conn, group)?))
        .transpose()
}

fn current_raw(conn: &Connection, room_id: &RoomId) -> Result<RawState> {
    let mut statement = conn
        .prepare_cached("SELECT type, state_key, event_id FROM current_state WHERE room_id = ?1")?;
    let rows = statement.query_map([room_id.as_str()], |row| {
        Ok(((row.get(0)?, row.get(1)?), row.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn current_state(conn: &Connection, room_id: &RoomId) -> Result<StateMap<EventId>> {
    parse_state(current_raw(conn, room_id)?)
}

/// Makes the room's current state `state`, writing only the slots that
/// changed (a message changes none). Each member slot carries the
/// membership of its event, read from `events.membership`.
pub(super) fn set_current_state(
    conn: &Connection,
    room_id: &RoomId,
    state: &StateMap<EventId>,
) -> Result<()> {
    let wanted = raw(state);
    let current = current_raw(conn, room_id)?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO current_state (room_id, type, state_key, event_id, membership)
         VALUES (?1, ?2, ?3, ?4, (SELECT membership FROM events WHERE event_id = ?4))
         ON CONFLICT (room_id, type, state_key) DO UPDATE
         SET event_id = excluded.event_id, membership = excluded.membership",
    )?;
    for ((event_type, state_key), event_id) in &wanted {
        if current.get(&(event_type.clone(), state_key.clone())) != Some(event_id) {
            upsert.execute((room_id.as_str(), event_type, state_key, event_id))?;
        }
    }
    let mut delete = conn.prepare_cached(
        "DELETE FROM current_state WHERE room_id = ?1 AND type = ?2 AND state_key = ?3",
    )?;
    for (event_type, state_key) in current.keys().filter(|slot| !wanted.contains_key(*slot)) {
        delete.execute((room_id.as_str(), event_type, state_key))?;
    }
    Ok(())
}

/// A member event stored after the state that names it (state from a peer
/// can arrive in any order) fills in the membership it left blank.
pub(super) fn note_membership(conn: &Connection, event: &Pdu) -> Result<()> {
    let (Some(membership), Some(state_key)) = (event.membership(), event.state_key()) else {
        return Ok(());
    };
    conn.execute(
        "UPDATE current_state SET membership = ?4
         WHERE room_id = ?1 AND type = 'm.room.member' AND state_key = ?2 AND event_id = ?3",
        (
            event.room_id().as_str(),
            state_key,
            event.event_id().as_str(),
            membership,
        ),
    )?;
    Ok(())
}

pub(super) fn set_forward_extremities(
    conn: &Connection,
    room_id: &RoomId,
    extremities: &[EventId],
) -> Result<()> {
    conn.execute(
        "DELETE FROM forward_extremities WHERE room_id = ?1",
        [room_id.as_str()],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO forward_extremities (room_id, event_id) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
    )?;
    for event_id in extremities {
        insert.execute((room_id.as_str(), event_id.as_str()))?;
    }
    Ok(())
}

/// The room's forward extremities, sorted by event ID so that the
/// `prev_events` of the next event, and so its ID, are deterministic.
pub(super) fn forward_extremities(conn: &Connection, room_id: &RoomId) -> Result<Vec<EventId>> {
    let mut statement = conn.prepare_cached(
        "SELECT event_id FROM forward_extremities WHERE room_id = ?1 ORDER BY event_id",
    )?;
    let rows = statement.query_map([room_id.as_str()], |row| row.get::<_, String>(0))?;
    rows.map(|id| parse_stored(&id?, "forward extremity"))
        .collect()
}

/// Rooms where the user's current membership is one of `memberships`,
/// sorted by room ID. An index lookup thanks to the copied `membership`.
pub(super) fn rooms_with_membership(
    conn: &Connection,
    user_id: &UserId,
    memberships: &[&str],
) -> Result<Vec<RoomId>> {
    if memberships.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; memberships.len()].join(", ");
    let mut statement = conn.prepare(&format!(
        "SELECT room_id FROM current_state
         WHERE type = 'm.room.member' AND state_key = ? AND membership IN ({placeholders})
         ORDER BY room_id"
    ))?;
    let params = std::iter::once(user_id.as_str()).chain(memberships.iter().copied());
    let rows = statement.query_map(rusqlite::params_from_iter(params), |row| {
        row.get::<_, String>(0)
    })?;
    rows.map(|id| parse_stored(&id?, "room ID")).collect()
}
