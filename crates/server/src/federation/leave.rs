//! Leaving a room over federation
//! (<https://spec.matrix.org/v1.16/server-server-api/#leaving-rooms-rejecting-invites>):
//! `make_leave` / `send_leave`, the same handshake as joining.
//!
//! A server *in* the room does not need it: its user's leave is a local
//! event like any other, and the federation sender delivers it to the
//! other servers in the room. The handshake exists for the server that is
//! *not* in the room, whose user only holds an invite and declines it: it
//! knows nothing of where the room's history stands, so, as for a join,
//! it asks a resident server (the inviter's) for a template, signs it, and
//! sends it back. The inviter's server then knows the invite was declined
//! (otherwise it would show the invite as pending forever).

use super::auth::FederationRequest;
use super::encode;
use super::join::joining::{bad, fetch_template, send_signed, sign_template};
use super::join::{ROOM_VERSION, accept_member_event, parse_ids, template};
use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{RoomId, ServerName, UserId};
use lostfound_protocol::state::slot_of;
use lostfound_store::EventWrite;
use serde_json::{Value, json};

/// `GET /_matrix/federation/v1/make_leave/{roomId}/{userId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1make_leaveroomiduserid>):
/// `{room_version, event}`, the leave template for `userId`.
pub async fn make_leave(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, user_id)): MatrixPath<(String, String)>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let (room_id, user_id) = parse_ids(&room_id, &user_id, &request.origin)?;
    let server = homeserver.clone();
    let event = homeserver
        .store(move |store| {
            Ok(template::member_template(
                store, &server, &room_id, &user_id, "leave",
            ))
        })
        .await??;
    Ok(Json(
        json!({ "room_version": ROOM_VERSION, "event": event }),
    ))
}

/// `PUT /_matrix/federation/v2/send_leave/{roomId}/{eventId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#put_matrixfederationv2send_leaveroomideventid>):
/// accepts the signed leave; answers `{}`.
pub async fn send_leave(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, event_id)): MatrixPath<(String, String)>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    accept_member_event(&homeserver, &room_id, &event_id, request, "leave").await?;
    Ok(Json(json!({})))
}

/// `user` declines an invite to a room we are not in, through the first of
/// `servers` that lets them; then our copy of the invite is replaced by
/// the leave, so `/sync` stops showing it.
pub async fn leave_remote_room(
    homeserver: &Homeserver,
    room_id: &RoomId,
    user: &UserId,
    servers: &[ServerName],
    extra: &JsonObject,
) -> Result<(), RoomError> {
    let mut last_error = RoomError::NotFound(format!("no server to leave {room_id} through"));
    for server in servers {
        if *server == homeserver.config().server_name {
            continue;
        }
        match leave_through(homeserver, server, room_id, user, extra).await {
            Ok(()) => return Ok(()),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

async fn leave_through(
    homeserver: &Homeserver,
    server: &ServerName,
    room_id: &RoomId,
    user: &UserId,
    extra: &JsonObject,
) -> Result<(), RoomError> {
    let path = format!(
        "/_matrix/federation/v1/make_leave/{}/{}",
        encode(room_id.as_str()),
        encode(user.as_str())
    );
    let (version, template) = fetch_template(homeserver, server, &path, "make_leave").await?;
    if version.as_deref() != Some(ROOM_VERSION) {
        return Err(bad(server, "make_leave: not a version 10 room"));
    }
    let leave = sign_template(homeserver, server, &template, room_id, user, "leave", extra)?;
    send_signed(homeserver, server, "send_leave", &leave).await?;

    // Like the invite it replaces: in our timeline, without history.
    let writing = crate::rooms::events::write_lock(homeserver).await;
    let position = with_store(homeserver, move |store| {
        let _writing = writing;
        let mut state = store.current_state(leave.room_id())?;
        if let Some(slot) = slot_of(&leave) {
            state.insert(slot, leave.event_id().clone());
        }
        Ok(store.persist_event(&EventWrite {
            event: &leave,
            state_after: &state,
            forward_extremities: &[],
            current_state: None,
            outlier: false,
            transaction: None,
        })?)
    })
    .await?;
    homeserver.announce(position);
    Ok(())
}
