//! Creating a room: the first events of a new graph, in the spec's order
//! (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3createroom>).
//!
//! A room is born as a short chain of state events from its creator, each
//! authorised by the ones before it:
//!
//! 1. `m.room.create`: the root. It names the creator and the room version,
//!    and carries `m.federate` (false keeps the room on this server forever:
//!    in 2021, such rooms had no other copy to heal from).
//! 2. the creator's `join` (rule 4.3.1 allows exactly this one join with no
//!    join rules yet: the creator's, right after the create event);
//! 3. `m.room.power_levels`: the creator gets 100;
//! 4. `m.room.canonical_alias`, if an alias was asked for;
//! 5. the preset's `join_rules`, `history_visibility`, `guest_access`;
//! 6. the client's `initial_state`; 7. `name`; 8. `topic`;
//! 9. an invite for each invitee.
//!
//! The presets and the default power levels are in [`plan`]. If the auth
//! rules reject an event half-way (say, an
//! `initial_state` event the power levels forbid), the room keeps the
//! events before it and the error names the rule: as in Synapse, room
//! creation is not one transaction.

pub mod plan;

pub use plan::{Planned, Preset};

use super::events::{NewEvent, create_event, write_lock};
use super::{RoomError, new_room_id_from, with_store};
use crate::state::Homeserver;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{RoomAlias, RoomId, UserId};
use lostfound_store::Room;
use serde_json::Value;

/// The only room version this server implements.
pub const ROOM_VERSION: &str = "10";

/// One event of `initial_state`.
#[derive(Debug, Clone)]
pub struct InitialState {
    pub event_type: String,
    pub state_key: String,
    pub content: JsonObject,
}

/// What the creator asked for.
#[derive(Debug, Clone)]
pub struct CreateRoom {
    pub creator: UserId,
    pub preset: Preset,
    /// `None` means the default, [`ROOM_VERSION`].
    pub room_version: Option<String>,
    /// The local part of the alias to create (`room_alias_name`).
    pub alias_localpart: Option<String>,
    pub name: Option<String>,
    pub topic: Option<String>,
    pub invite: Vec<UserId>,
    /// Marks the invites as a direct message (`is_direct` in their content).
    pub is_direct: bool,
    /// Extra keys for the create event, such as `m.federate`.
    pub creation_content: JsonObject,
    pub initial_state: Vec<InitialState>,
    pub power_level_content_override: JsonObject,
}

/// Creates the room and returns its ID.
pub async fn create_room(
    homeserver: &Homeserver,
    request: CreateRoom,
) -> Result<RoomId, RoomError> {
    let server = homeserver.config().server_name.clone();
    if let Some(version) = &request.room_version
        && version != ROOM_VERSION
    {
        return Err(RoomError::UnsupportedRoomVersion(version.clone()));
    }
    let federate = match request.creation_content.get("m.federate") {
        None => true,
        Some(Value::Bool(federate)) => *federate,
        Some(other) => {
            return Err(RoomError::InvalidParam(format!(
                "m.federate must be true or false, not {other}"
            )));
        }
    };
    for entry in &request.initial_state {
        if matches!(entry.event_type.as_str(), "m.room.create" | "m.room.member") {
            return Err(RoomError::InvalidParam(format!(
                "initial_state may not contain {}; the server writes it",
                entry.event_type
            )));
        }
    }
    if let Some(remote) = request
        .invite
        .iter()
        .find(|user| user.server_name() != server)
    {
        return Err(RoomError::RemoteUser(remote.clone()));
    }
    if request.invite.contains(&request.creator) {
        return Err(RoomError::InvalidParam(
            "the creator cannot invite themselves: they join the room by creating it".to_owned(),
        ));
    }
    let alias = match &request.alias_localpart {
        None => None,
        Some(localpart) => Some(
            format!("#{localpart}:{server}")
                .parse::<RoomAlias>()
                .map_err(|e| {
                    RoomError::InvalidParam(format!("room_alias_name {localpart:?}: {e}"))
                })?,
        ),
    };
    let room_id = new_room_id_from(&server, homeserver.ids())?;

    let writing = write_lock(homeserver).await;
    let server = homeserver.clone();
    let created_id = room_id.clone();
    let last_position = with_store(homeserver, move |store| {
        for invitee in &request.invite {
            if store.account(invitee)?.is_none() {
                return Err(RoomError::UnknownUser(invitee.clone()));
            }
        }
        if let Some(alias) = &alias
            && store.resolve_alias(alias)?.is_some()
        {
            return Err(RoomError::AliasInUse(alias.clone()));
        }
        let profile = store.profile(&request.creator)?;
        let room_version = ROOM_VERSION.to_owned();
        store.create_room(&Room {
            room_id: room_id.clone(),
            room_version,
            federate,
        })?;
        let mut last_position = None;
        for (event_type, state_key, content) in request.plan(alias.as_ref(), &profile) {
            let new = NewEvent::state(
                room_id.clone(),
                request.creator.clone(),
                &event_type,
                &state_key,
                content,
            );
            last_position = create_event(store, &server, &new, &writing)?
                .position
                .or(last_position);
        }
        // The alias is claimed only once every event was allowed: a
        // createRoom refused half way (as in Synapse, it is not atomic)
        // leaves the alias free for the next attempt.
        if let Some(alias) = &alias {
            store.set_alias(alias, &room_id)?;
        }
        Ok(last_position)
    })
    .await?;
    if let Some(position) = last_position {
        homeserver.announce(position);
    }
    Ok(created_id)
}
