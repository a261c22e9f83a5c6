//! Rooms and their local aliases.
//!
//! A `rooms` row says that this server takes part in a room, and whether
//! the room may federate. The room itself (who is in it, what was said) is
//! in its events and state; see `events` and `state`.

use super::errors::{is_foreign_key_violation, is_unique_violation, parse_stored};
use crate::{Result, Room, StoreError};
use lostfound_protocol::ids::{RoomAlias, RoomId};
use rusqlite::{Connection, OptionalExtension};

pub(super) fn create_room(conn: &Connection, room: &Room) -> Result<()> {
    conn.execute(
        "INSERT INTO rooms (room_id, room_version, federate) VALUES (?1, ?2, ?3)",
        (room.room_id.as_str(), &room.room_version, room.federate),
    )
    .map_err(|e| match e {
        e if is_unique_violation(&e) => StoreError::RoomExists(room.room_id.clone()),
        e => e.into(),
    })?;
    Ok(())
}

pub(super) fn room(conn: &Connection, room_id: &RoomId) -> Result<Option<Room>> {
    let row = conn
        .query_row(
            "SELECT room_version, federate FROM rooms WHERE room_id = ?1",
            [room_id.as_str()],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
        )
        .optional()?;
    Ok(row.map(|(room_version, federate)| Room {
        room_id: room_id.clone(),
        room_version,
        federate,
    }))
}

/// Points `alias` at `room_id`. An alias is never silently moved: a taken
/// alias is [`StoreError::AliasInUse`], even for the same room, and an
/// unknown room is [`StoreError::NotFound`].
pub(super) fn set_alias(conn: &Connection, alias: &RoomAlias, room_id: &RoomId) -> Result<()> {
    conn.execute(
        "INSERT INTO room_aliases (alias, room_id) VALUES (?1, ?2)",
        (alias.as_str(), room_id.as_str()),
    )
    .map_err(|e| match e {
        e if is_unique_violation(&e) => StoreError::AliasInUse(alias.clone()),
        e if is_foreign_key_violation(&e) => StoreError::NotFound(format!("room {room_id}")),
        e => e.into(),
    })?;
    Ok(())
}

pub(super) fn resolve_alias(conn: &Connection, alias: &RoomAlias) -> Result<Option<RoomId>> {
    let room_id: Option<String> = conn
        .query_row(
            "SELECT room_id FROM room_aliases WHERE alias = ?1",
            [alias.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    room_id.map(|id| parse_stored(&id, "room ID")).transpose()
}
