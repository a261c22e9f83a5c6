//! Room state over HTTP: set a state event, read the whole state or one
//! slot, fetch one event, list the joined members
//! (<https://spec.matrix.org/v1.16/client-server-api/#getting-events-for-a-room>).
//!
//! Reading needs membership: members read the current state, former
//! members the state as it was when they left (see
//! [`crate::rooms::state`]).

use super::params::MatrixPath;
use super::rooms::client_event;
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::rooms::state::{load_state, read_access};
use crate::rooms::{NewEvent, RoomError, send_event, with_store};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::state::slot;
use serde::Deserialize;
use serde_json::{Value, json};

/// `/rooms/{roomId}/state/{eventType}/{stateKey}`, the state key possibly
/// absent (which means `""`).
#[derive(Debug, Deserialize)]
pub struct StatePath {
    room_id: RoomId,
    event_type: String,
    #[serde(default)]
    state_key: String,
}

/// `PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidstateeventtypestatekey>):
/// the body is the content; answers `{"event_id"}`. The power levels say
/// who may (auth rule 7, `state_default` 50 unless `events` says
/// otherwise), and a state key that is a user ID belongs to that user (8).
pub async fn set_state(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(path): MatrixPath<StatePath>,
    MatrixJson(content): MatrixJson<JsonObject>,
) -> Result<Json<Value>, ApiError> {
    let event = NewEvent::state(
        path.room_id,
        user.user_id,
        &path.event_type,
        &path.state_key,
        content,
    );
    let event_id = send_event(&homeserver, event).await?;
    Ok(Json(json!({ "event_id": event_id })))
}

/// `GET /_matrix/client/v3/rooms/{roomId}/state`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidstate>):
/// every state event, as a list of client events.
pub async fn get_state(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
) -> Result<Json<Value>, ApiError> {
    let now = homeserver.now_ms();
    let events = with_store(&homeserver, move |store| {
        let access = read_access(store, &room_id, &user.user_id)?;
        let state = load_state(store, &access.visible_state(store, &room_id)?)?;
        Ok(state
            .values()
            .map(|event| client_event(event, now))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(Value::Array(events)))
}

/// `GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidstateeventtypestatekey>):
/// the content of one state event, or `M_NOT_FOUND`.
pub async fn get_state_event(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(path): MatrixPath<StatePath>,
) -> Result<Json<Value>, ApiError> {
    let content = with_store(&homeserver, move |store| {
        let access = read_access(store, &path.room_id, &user.user_id)?;
        let state = access.visible_state(store, &path.room_id)?;
        let missing = || {
            RoomError::NotFound(format!(
                "{} has no {} state with key {:?}",
                path.room_id, path.event_type, path.state_key
            ))
        };
        let event_id = state
            .get(&slot(&path.event_type, &path.state_key))
            .ok_or_else(missing)?;
        let event = store.event(event_id)?.ok_or_else(missing)?;
        Ok(Value::Object(event.event.content().clone()))
    })
    .await?;
    Ok(Json(content))
}

/// `GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomideventeventid>):
/// one event, if the caller may see it; `M_NOT_FOUND` otherwise.
pub async fn get_event(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath((room_id, event_id)): MatrixPath<(RoomId, EventId)>,
) -> Result<Json<Value>, ApiError> {
    let now = homeserver.now_ms();
    let event = with_store(&homeserver, move |store| {
        let access = read_access(store, &room_id, &user.user_id)?;
        match store.event(&event_id)? {
            Some(stored)
                if stored.event.room_id() == &room_id
                    && !stored.outlier
                    && access.may_read(stored.position) =>
            {
                Ok(client_event(&stored.event, now))
            }
            _ => Err(RoomError::NotFound(format!(
                "{room_id} has no event {event_id} you may see"
            ))),
        }
    })
    .await?;
    Ok(Json(event))
}

/// `GET /_matrix/client/v3/rooms/{roomId}/joined_members`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidjoined_members>):
/// `{"joined": {userId: {display_name, avatar_url}}}`, from the member
/// events (which copy each user's profile when they join).
pub async fn joined_members(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
) -> Result<Json<Value>, ApiError> {
    let joined = with_store(&homeserver, move |store| {
        let access = read_access(store, &room_id, &user.user_id)?;
        let state = load_state(store, &access.visible_state(store, &room_id)?)?;
        let mut joined = JsonObject::new();
        for ((event_type, member), event) in &state {
            if event_type == "m.room.member" && event.membership() == Some("join") {
                let content = event.content();
                let profile = json!({
                    "display_name": content.get("displayname"),
                    "avatar_url": content.get("avatar_url"),
                });
                joined.insert(member.clone(), profile);
            }
        }
        Ok(joined)
    })
    .await?;
    Ok(Json(json!({ "joined": joined })))
}
