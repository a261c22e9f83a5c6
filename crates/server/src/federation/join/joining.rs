//! The joining server's side of `make_join` / `send_join`: a local user
//! joins a room this server does not hold (or holds only as an invite).
//!
//! Which server to ask? Any resident one will do, but we cannot know who
//! is resident without being in the room. So we try, in order, the servers
//! the client named (`server_name` / `via`), the server that invited the
//! user, and the server in the room ID (the room's creator, who may well
//! have left). The first that completes the handshake wins.

use super::ROOM_VERSION;
use super::state::store_join_answer;
use crate::federation::{FederationError, encode};
use crate::rooms::RoomError;
use crate::state::Homeserver;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use serde_json::Value;

/// Joins `user` to the remote room `room_id` through the first of
/// `servers` that lets them; `extra` goes into the join's content
/// (display name, avatar, reason).
pub async fn join_remote_room(
    homeserver: &Homeserver,
    room_id: &RoomId,
    user: &UserId,
    servers: &[ServerName],
    extra: &JsonObject,
) -> Result<(), RoomError> {
    let ours = homeserver.config().server_name.clone();
    let mut last_error = RoomError::NotFound(format!(
        "no server to join {room_id} through: name one with ?server_name="
    ));
    let mut tried = Vec::new();
    for server in servers {
        if *server == ours || tried.contains(server) {
            continue;
        }
        tried.push(server.clone());
        match join_through(homeserver, server, room_id, user, extra).await {
            Ok(()) => return Ok(()),
            Err(error) => {
                tracing::warn!(room = %room_id, %server, %error, "joining through a server failed");
                last_error = error;
            }
        }
    }
    Err(last_error)
}

/// The handshake with one resident server.
async fn join_through(
    homeserver: &Homeserver,
    server: &ServerName,
    room_id: &RoomId,
    user: &UserId,
    extra: &JsonObject,
) -> Result<(), RoomError> {
    let path = format!(
        "/_matrix/federation/v1/make_join/{}/{}?ver={ROOM_VERSION}",
        encode(room_id.as_str()),
        encode(user.as_str())
    );
    let (version, template) = fetch_template(homeserver, server, &path, "make_join").await?;
    if version.as_deref() != Some(ROOM_VERSION) {
        return Err(RoomError::UnsupportedRoomVersion(
            version.unwrap_or_else(|| "(none)".to_owned()),
        ));
    }
    let join = sign_template(homeserver, server, &template, room_id, user, "join", extra)?;
    let answer = send_signed(homeserver, server, "send_join", &join).await?;
    store_join_answer(homeserver, server, &join, &answer).await
}

/// The first half of a membership handshake (`make_join`, `make_leave`):
/// asks `server` for an event template at `path`; returns the room version
/// it names and the template, which the caller checks and signs.
pub(crate) async fn fetch_template(
    homeserver: &Homeserver,
    server: &ServerName,
    path: &str,
    step: &str,
) -> Result<(Option<String>, JsonObject), RoomError> {
    let answer = homeserver
        .federation()
        .client()
        .get_json(server, path)
        .await
        .map_err(peer_error)?;
    let version = answer
        .get("room_version")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let template = answer
        .get("event")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| bad(server, &format!("{step}: `event` is not an object")))?;
    Ok((version, template))
}

/// The second half (`send_join`, `send_leave`, v2): hands the signed event
/// to `server` and returns its answer.
pub(crate) async fn send_signed(
    homeserver: &Homeserver,
    server: &ServerName,
    step: &str,
    event: &Pdu,
) -> Result<Value, RoomError> {
    let path = format!(
        "/_matrix/federation/v2/{step}/{}/{}",
        encode(event.room_id().as_str()),
        encode(event.event_id().as_str())
    );
    let body = Value::Object(event.json().clone());
    homeserver
        .federation()
        .client()
        .put_json(server, &path, &body)
        .await
        .map_err(peer_error)
}

/// Checks that the resident's template is what we asked for (a peer must
/// not slip us a different event to sign), then fills in `origin` and
/// `origin_server_ts`, hashes and signs it with our key. The event ID is
/// computed from the result: the template had none.
pub(crate) fn sign_template(
    homeserver: &Homeserver,
    server: &ServerName,
    template: &JsonObject,
    room_id: &RoomId,
    user: &UserId,
    membership: &str,
    extra: &JsonObject,
) -> Result<Pdu, RoomError> {
    let text = |key: &str| template.get(key).and_then(Value::as_str);
    let template_membership = template
        .get("content")
        .and_then(|content| content.get("membership"))
        .and_then(Value::as_str);
    if text("type") != Some("m.room.member")
        || text("room_id") != Some(room_id.as_str())
        || text("sender") != Some(user.as_str())
        || text("state_key") != Some(user.as_str())
        || template_membership != Some(membership)
    {
        return Err(bad(
            server,
            &format!("the template is not {user}'s {membership} in {room_id}"),
        ));
    }
    let ids = |key: &str| -> Result<Vec<EventId>, RoomError> {
        let value = template.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| bad(server, &format!("template `{key}`: {e}")))
    };
    let depth = template
        .get("depth")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad(server, "template `depth` is not a number"))?;
    let mut content = extra.clone();
    content.insert("membership".to_owned(), Value::from(membership));
    PduBuilder::new(
        room_id.clone(),
        user.clone(),
        "m.room.member",
        Value::Object(content),
    )
    .state_key(user.as_str())
    .prev_events(ids("prev_events")?)
    .auth_events(ids("auth_events")?)
    .depth(depth)
    .origin_server_ts(homeserver.now_ms())
    .sign(homeserver.signing_key())
    .map_err(|e| RoomError::InvalidEvent(e.to_string()))
}

/// A peer's refusal, in the room's terms: its 403 (an auth rule) stays a
/// 403 for our client, with the peer's reason.
pub(crate) fn peer_error(error: FederationError) -> RoomError {
    match error {
        FederationError::Refused {
            server,
            status: 403,
            message,
            ..
        } => RoomError::Forbidden(format!("{server} refused: {message}")),
        FederationError::Refused {
            server,
            status: 404,
            message,
            ..
        } => RoomError::NotFound(format!("{server}: {message}")),
        FederationError::UnknownServer(server) => RoomError::NotFound(format!(
            "no address is known for {server} in this server's federation directory"
        )),
        other => RoomError::Internal(format!("over federation: {other}")),
    }
}

pub(crate) fn bad(server: &ServerName, reason: &str) -> RoomError {
    RoomError::Internal(format!("unexpected answer from {server}: {reason}"))
}
