//! Invite, join and leave over HTTP
//! (<https://spec.matrix.org/v1.16/client-server-api/#room-membership>).
//! The decisions are the auth rules', made in [`crate::rooms::membership`].

use super::params::MatrixPath;
use super::rooms::OptionalJson;
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::federation::serve::query::{parse_query, values};
use crate::rooms::membership::{self, JoinTarget};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use lostfound_protocol::ids::{RoomId, ServerName, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

/// `{"user_id", "reason"?}`
#[derive(Debug, Deserialize)]
pub struct InviteRequest {
    user_id: UserId,
    reason: Option<String>,
}

/// `{"reason"?}`, for join and leave (the body may be absent).
#[derive(Debug, Default, Deserialize)]
pub struct ReasonRequest {
    reason: Option<String>,
}

/// `POST /_matrix/client/v3/rooms/{roomId}/invite`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidinvite>):
/// the caller invites `user_id`; answers `{}`.
pub async fn invite(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
    MatrixJson(body): MatrixJson<InviteRequest>,
) -> Result<Json<Value>, ApiError> {
    membership::invite(
        &homeserver,
        room_id,
        user.user_id,
        body.user_id,
        body.reason,
    )
    .await?;
    Ok(Json(json!({})))
}

/// `POST /_matrix/client/v3/rooms/{roomId}/join`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidjoin>):
/// the caller joins a room by ID; answers `{"room_id"}`.
pub async fn join_room_by_id(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
    OptionalJson(body): OptionalJson<ReasonRequest>,
) -> Result<Json<Value>, ApiError> {
    let target = JoinTarget::Room(room_id);
    let room_id =
        membership::join(&homeserver, target, user.user_id, body.reason, Vec::new()).await?;
    Ok(Json(json!({ "room_id": room_id })))
}

/// `POST /_matrix/client/v3/join/{roomIdOrAlias}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3joinroomidoralias>):
/// the caller joins a room by ID or alias; answers `{"room_id"}`.
///
/// The `via` and `server_name` query parameters (repeatable) name servers
/// to join through: they matter only for a room this server does not hold,
/// which it joins over federation through one of them.
pub async fn join(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id_or_alias): MatrixPath<String>,
    uri: Uri,
    OptionalJson(body): OptionalJson<ReasonRequest>,
) -> Result<Json<Value>, ApiError> {
    let query = parse_query(uri.query().unwrap_or_default())
        .map_err(|e| ApiError::invalid_param(e.to_string()))?;
    let via = values(&query, "server_name")
        .chain(values(&query, "via"))
        .map(|server| {
            server
                .parse::<ServerName>()
                .map_err(|e| ApiError::invalid_param(format!("invalid server {server:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let target = if room_id_or_alias.starts_with('#') {
        JoinTarget::Alias(
            room_id_or_alias
                .parse()
                .map_err(|e| ApiError::invalid_param(format!("{e}")))?,
        )
    } else {
        JoinTarget::Room(
            room_id_or_alias
                .parse()
                .map_err(|e| ApiError::invalid_param(format!("{e}")))?,
        )
    };
    let room_id = membership::join(&homeserver, target, user.user_id, body.reason, via).await?;
    Ok(Json(json!({ "room_id": room_id })))
}

/// `POST /_matrix/client/v3/rooms/{roomId}/leave`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidleave>):
/// the caller leaves the room, or declines its invite; answers `{}`.
pub async fn leave(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
    OptionalJson(body): OptionalJson<ReasonRequest>,
) -> Result<Json<Value>, ApiError> {
    membership::leave(&homeserver, room_id, user.user_id, body.reason).await?;
    Ok(Json(json!({})))
}
