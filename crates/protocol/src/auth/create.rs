//! Rule 1: the `m.room.create` event, judged on its own.

use super::{AuthFailure, KNOWN_ROOM_VERSIONS, reject};
use crate::pdu::Pdu;
use serde_json::Value;

/// Rule 1: the create event starts the room, so nothing can authorise it
/// but itself. These checks stop a server from creating a room under
/// another server's name or without a known set of rules.
pub(super) fn check_create(event: &Pdu) -> Result<(), AuthFailure> {
    if !event.prev_events().is_empty() {
        return Err(reject(
            "1.1",
            "an m.room.create event starts the room, so it can have no prev_events",
        ));
    }
    let room_server = event.room_id().server_name();
    let sender_server = event.sender().server_name();
    if room_server != sender_server {
        return Err(reject(
            "1.2",
            format!(
                "room {} belongs to {room_server}, but the create event was sent by {}; only a room's own server may create it",
                event.room_id(),
                event.sender()
            ),
        ));
    }
    match event.content().get("room_version") {
        None => {}
        Some(Value::String(version)) if KNOWN_ROOM_VERSIONS.contains(&version.as_str()) => {}
        Some(other) => {
            return Err(reject(
                "1.3",
                format!(
                    "room_version {other} is not a room version this server recognises, so it cannot know the room's rules"
                ),
            ));
        }
    }
    if !event.content().contains_key("creator") {
        return Err(reject(
            "1.4",
            "the create event has no content.creator; room v10 needs it to know who starts with power",
        ));
    }
    Ok(())
}
