//! `POST /_matrix/client/v3/createRoom`: the request's JSON, turned into
//! a [`CreateRoom`] for [`crate::rooms::create_room`], which writes the
//! room's first events.

use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::rooms::create_room::{CreateRoom, InitialState, Preset, create_room as create};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::UserId;
use serde::Deserialize;
use serde_json::{Value, json};

/// The request body. Unknown keys are ignored, as the spec asks.
#[derive(Debug, Deserialize)]
pub struct CreateRoomRequest {
    /// `public` would also list the room in the room directory, which this
    /// server does not have; here it only chooses the default preset.
    visibility: Option<String>,
    room_alias_name: Option<String>,
    name: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    invite: Vec<String>,
    #[serde(default)]
    invite_3pid: Vec<Value>,
    room_version: Option<String>,
    #[serde(default)]
    creation_content: JsonObject,
    #[serde(default)]
    initial_state: Vec<StateEventRequest>,
    preset: Option<String>,
    #[serde(default)]
    is_direct: bool,
    #[serde(default)]
    power_level_content_override: JsonObject,
}

/// One `initial_state` entry.
#[derive(Debug, Deserialize)]
struct StateEventRequest {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    state_key: String,
    content: JsonObject,
}

/// The most users one createRoom may invite.
pub const MAX_INVITES: usize = 100;
/// The most `initial_state` events one createRoom may carry.
pub const MAX_INITIAL_STATE: usize = 100;

/// `POST /_matrix/client/v3/createRoom`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3createroom>):
/// creates a room with the caller as its creator; answers `{"room_id"}`.
///
/// Invitees must be users of this server for now (inviting elsewhere needs
/// federation); an unknown `room_version` is `M_UNSUPPORTED_ROOM_VERSION`.
pub async fn create_room(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixJson(body): MatrixJson<CreateRoomRequest>,
) -> Result<Json<Value>, ApiError> {
    let preset = match (body.preset.as_deref(), body.visibility.as_deref()) {
        (Some(name), _) => Preset::parse(name)?,
        (None, Some("public")) => Preset::PublicChat,
        (None, _) => Preset::PrivateChat,
    };
    if !body.invite_3pid.is_empty() {
        return Err(ApiError::invalid_param(
            "invite_3pid: third-party (email) invites are not supported by this server",
        ));
    }
    // Each entry becomes an event written under the server's write lock,
    // and each state event a state snapshot: without a cap, one request
    // could hold every room on the server hostage and fill the disk.
    if body.invite.len() > MAX_INVITES {
        return Err(ApiError::invalid_param(format!(
            "invite: at most {MAX_INVITES} users per createRoom; invite the rest afterwards"
        )));
    }
    if body.initial_state.len() > MAX_INITIAL_STATE {
        return Err(ApiError::invalid_param(format!(
            "initial_state: at most {MAX_INITIAL_STATE} events per createRoom"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut invite: Vec<UserId> = Vec::new();
    for text in &body.invite {
        let user_id: UserId = text
            .parse()
            .map_err(|e| ApiError::invalid_param(format!("invite: {e}")))?;
        if seen.insert(user_id.clone()) {
            invite.push(user_id);
        }
    }
    let initial_state = body
        .initial_state
        .into_iter()
        .map(|entry| InitialState {
            event_type: entry.event_type,
            state_key: entry.state_key,
            content: entry.content,
        })
        .collect();
    let request = CreateRoom {
        creator: user.user_id,
        preset,
        room_version: body.room_version,
        alias_localpart: body.room_alias_name,
        name: body.name,
        topic: body.topic,
        invite,
        is_direct: body.is_direct,
        creation_content: body.creation_content,
        initial_state,
        power_level_content_override: body.power_level_content_override,
    };
    let room_id = create(&homeserver, request).await?;
    Ok(Json(json!({ "room_id": room_id })))
}
