//! Joining a room over federation
//! (<https://spec.matrix.org/v1.16/server-server-api/#joining-rooms>): the
//! two-step handshake `make_join` / `send_join`, both sides of it.
//!
//! A server cannot simply send a join into a room it does not hold: it
//! knows neither where the room's history stands (the `prev_events`) nor
//! which state allows the join (the `auth_events`). So it asks a server
//! that is in the room, a *resident* server:
//!
//! 1. `GET /make_join/{roomId}/{userId}?ver=10`: the resident proposes a
//!    join event (a template), after checking the auth rules would allow it.
//! 2. The joiner fills in `origin` and `origin_server_ts`, hashes and signs
//!    it with its own key: only a user's own server may speak for them.
//! 3. `PUT /v2/send_join/{roomId}/{eventId}`: the resident checks the
//!    signed join like any received PDU, adds it to the room, and answers
//!    with **the whole state of the room before the join, and its auth
//!    chain**.
//!
//! That last answer is the heart of it. The joiner must learn the room's
//! *present*: who is in it, its name, its power levels, its rules, every
//! one of them provable back to the create event through the auth chain.
//! It does not need the history; that comes later, on demand, through
//! backfill. This is also how the 2021 incident healed: users of the
//! restored server, re-registered, rejoined the public rooms through a
//! resident server, and the answer to `send_join` gave their server the
//! rooms' current state, which its old backup had long lost.
//!
//! | module | what it is for |
//! |---|---|
//! | `template` | the resident's `make_join` / `make_leave` template, auth-checked |
//! | `joining` | the joiner's side: choose a server, sign, `send_join`, check and store the answer |
//! | `state` | checking a `send_join` answer (signatures, auth chain, auth rules) and storing it |

pub mod joining;
mod state;
pub mod template;

use super::auth::FederationRequest;
use super::receive::{Outcome, receive_pdu};
use super::serve::query::{parse_query, values};
use super::serve::state_at;
use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_store::Store;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The only room version this server speaks.
pub const ROOM_VERSION: &str = "10";

/// `GET /_matrix/federation/v1/make_join/{roomId}/{userId}?ver=…`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1make_joinroomiduserid>):
/// `{room_version, event}`, the join template for `userId`.
pub async fn make_join(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, user_id)): MatrixPath<(String, String)>,
    uri: Uri,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let (room_id, user_id) = parse_ids(&room_id, &user_id, &request.origin)?;
    // `ver` lists the room versions the joiner supports (default: only
    // version 1). A joiner that cannot speak the room's version could not
    // check a single event of it.
    let query = parse_query(uri.query().unwrap_or_default())
        .map_err(|e| ApiError::invalid_param(e.to_string()))?;
    if !values(&query, "ver").any(|version| version == ROOM_VERSION) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "M_INCOMPATIBLE_ROOM_VERSION",
            format!("the room is version {ROOM_VERSION}, which the request's `ver` does not list"),
        ));
    }
    let server = homeserver.clone();
    let event = homeserver
        .store(move |store| {
            Ok(template::member_template(
                store, &server, &room_id, &user_id, "join",
            ))
        })
        .await??;
    Ok(Json(
        json!({ "room_version": ROOM_VERSION, "event": event }),
    ))
}

/// `PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#put_matrixfederationv2send_joinroomideventid>):
/// accepts the signed join, answers with the room's state before it.
pub async fn send_join(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, event_id)): MatrixPath<(String, String)>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let join = accept_member_event(&homeserver, &room_id, &event_id, request, "join").await?;
    let (room_id, join_id) = (join.room_id().clone(), join.event_id().clone());
    let (state, servers) = homeserver
        .store(move |store| {
            let state = state_at::state(store, &room_id, &join_id);
            Ok(state.map(|state| (state, servers_in_room(store, &room_id))))
        })
        .await?
        .map_err(ApiError::from)?;
    let servers = servers?;
    Ok(Json(json!({
        "origin": homeserver.config().server_name,
        "state": state.pdus.iter().map(Pdu::json).collect::<Vec<_>>(),
        "auth_chain": state.auth_chain.iter().map(Pdu::json).collect::<Vec<_>>(),
        "event": join.json(),
        "members_omitted": false,
        "servers_in_room": servers,
    })))
}

/// The shared core of `send_join` and `send_leave`: the body must be the
/// `membership` event of a user of the requesting server, for this room
/// and this event ID; then it goes through the checks on receipt of any
/// PDU (signatures, hashes, auth rules against its auth events, the state
/// before it and the current state). Anything but acceptance is a 403.
pub(crate) async fn accept_member_event(
    homeserver: &Homeserver,
    room_id: &str,
    event_id: &str,
    request: FederationRequest,
    membership: &str,
) -> Result<Pdu, ApiError> {
    let room_id: RoomId = parse(room_id, "room ID")?;
    let event_id: EventId = parse(event_id, "event ID")?;
    let raw: Value = request.json()?;
    let event = Pdu::from_json(raw.clone()).map_err(|e| ApiError::bad_json(e.to_string()))?;
    if event.event_id() != &event_id || event.room_id() != &room_id {
        return Err(ApiError::bad_json(format!(
            "the body is event {} of room {}, not {event_id} of {room_id}",
            event.event_id(),
            event.room_id()
        )));
    }
    if event.event_type() != "m.room.member"
        || event.membership() != Some(membership)
        || event.state_key() != Some(event.sender().as_str())
    {
        return Err(ApiError::bad_json(format!(
            "the body must be the sender's own m.room.member event with membership {membership}"
        )));
    }
    if event.sender().server_name() != request.origin {
        return Err(ApiError::forbidden(format!(
            "{} is not a user of {}, the server asking",
            event.sender(),
            request.origin
        )));
    }
    let federated = homeserver
        .store(move |store| Ok(store.room(&room_id)?.map(|room| room.federate)))
        .await?;
    match federated {
        None => return Err(ApiError::not_found("this server does not hold the room")),
        Some(false) => return Err(ApiError::forbidden("the room is not federated")),
        Some(true) => {}
    }
    let outcome = receive_pdu(homeserver, homeserver.federation(), &request.origin, raw)
        .await
        .map_err(|e| ApiError::forbidden(e.to_string()))?;
    match outcome {
        Outcome::Accepted => {
            pass_on(homeserver, &event, &request.origin).await?;
            Ok(event)
        }
        Outcome::AlreadyKnown => Ok(event),
        Outcome::Redacted => Err(ApiError::forbidden(
            "the event's content does not match its hash",
        )),
        Outcome::SoftFailed(reason) | Outcome::Rejected(reason) => Err(ApiError::forbidden(reason)),
    }
}

/// The joiner's server sent its join to us alone: we pass it on to the
/// other servers in the room (through the federation sender's outbox), as
/// the spec asks of the resident server, so that they know the new member.
async fn pass_on(
    homeserver: &Homeserver,
    event: &Pdu,
    origin: &ServerName,
) -> Result<(), ApiError> {
    let (room_id, event_id) = (event.room_id().clone(), event.event_id().clone());
    let skip = [homeserver.config().server_name.clone(), origin.clone()];
    let queued = homeserver
        .store(move |store| {
            let others: Vec<ServerName> = match servers_in_room(store, &room_id) {
                Ok(servers) => servers.into_iter().filter(|s| !skip.contains(s)).collect(),
                Err(error) => {
                    tracing::warn!(%error, "cannot list the servers to pass a join on to");
                    Vec::new()
                }
            };
            super::sender::queue_for(store, &event_id, &others)?;
            Ok(others.len())
        })
        .await?;
    if queued > 0 {
        homeserver.wake_sender();
    }
    Ok(())
}

/// The servers with a joined member in the room's current state.
fn servers_in_room(store: &dyn Store, room_id: &RoomId) -> Result<Vec<ServerName>, ApiError> {
    let mut servers = BTreeSet::new();
    for ((event_type, state_key), event_id) in store.current_state(room_id)? {
        if event_type != "m.room.member" {
            continue;
        }
        let joined = store
            .event(&event_id)?
            .is_some_and(|stored| stored.event.membership() == Some("join"));
        if let (true, Ok(user)) = (joined, state_key.parse::<UserId>()) {
            servers.insert(user.server_name());
        }
    }
    Ok(servers.into_iter().collect())
}

/// The room and user of a `make_*` path; the user must belong to the
/// server asking, which may only make events for its own users.
pub(crate) fn parse_ids(
    room_id: &str,
    user_id: &str,
    origin: &ServerName,
) -> Result<(RoomId, UserId), ApiError> {
    let room_id: RoomId = parse(room_id, "room ID")?;
    let user_id: UserId = parse(user_id, "user ID")?;
    if user_id.server_name() != *origin {
        return Err(ApiError::forbidden(format!(
            "{user_id} is not a user of {origin}, the server asking"
        )));
    }
    Ok((room_id, user_id))
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| ApiError::invalid_param(format!("invalid {what} {text:?}: {e}")))
}
