//! The room endpoints of the client-server API, and what they share: the
//! client event format, Matrix-style path and query parsing, and the
//! mapping from [`RoomError`] to the spec's errors.
//!
//! The handlers live one spec area per module ([`super::create_room`],
//! [`super::membership`], [`super::send`], [`super::state_events`],
//! [`super::sync`], [`super::messages`]); the room logic itself lives in
//! [`crate::rooms`], which knows nothing of HTTP.

use super::{create_room, membership, messages, send, state_events, sync};
use crate::error::ApiError;
use crate::extract::{Authenticated, parse_json};
use crate::rooms::RoomError;
use crate::state::Homeserver;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use lostfound_protocol::pdu::Pdu;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Every room, sync and message route.
pub fn routes() -> Router<Homeserver> {
    let v3 = "/_matrix/client/v3";
    let state = format!("{v3}/rooms/{{room_id}}/state/{{event_type}}");
    Router::new()
        .route(&format!("{v3}/createRoom"), post(create_room::create_room))
        .route(&format!("{v3}/joined_rooms"), get(joined_rooms))
        .route(
            &format!("{v3}/rooms/{{room_id}}/invite"),
            post(membership::invite),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/join"),
            post(membership::join_room_by_id),
        )
        .route(
            &format!("{v3}/join/{{room_id_or_alias}}"),
            post(membership::join),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/leave"),
            post(membership::leave),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/send/{{event_type}}/{{txn_id}}"),
            put(send::send_message),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/state"),
            get(state_events::get_state),
        )
        // The state key may be empty: clients write `/state/m.room.name`,
        // `/state/m.room.name/` or `/state/m.room.name/{stateKey}`.
        .route(
            &state,
            get(state_events::get_state_event).put(state_events::set_state),
        )
        .route(
            &format!("{state}/"),
            get(state_events::get_state_event).put(state_events::set_state),
        )
        .route(
            &format!("{state}/{{state_key}}"),
            get(state_events::get_state_event).put(state_events::set_state),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/event/{{event_id}}"),
            get(state_events::get_event),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/joined_members"),
            get(state_events::joined_members),
        )
        .route(
            &format!("{v3}/rooms/{{room_id}}/messages"),
            get(messages::get_messages),
        )
        .route(&format!("{v3}/sync"), get(sync::sync))
        .route(
            &format!("{v3}/user/{{user_id}}/filter"),
            post(sync::filter::create_filter),
        )
        .route(
            &format!("{v3}/user/{{user_id}}/filter/{{filter_id}}"),
            get(sync::filter::get_filter),
        )
}

/// `GET /_matrix/client/v3/joined_rooms`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3joined_rooms>):
/// the rooms the user is joined to.
pub async fn joined_rooms(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
) -> Result<Json<Value>, ApiError> {
    let rooms = homeserver
        .store(move |store| store.rooms_with_membership(&user.user_id, &["join"]))
        .await?;
    Ok(Json(json!({ "joined_rooms": rooms })))
}

/// An event the way clients see it, the spec's `ClientEvent`
/// (<https://spec.matrix.org/v1.16/client-server-api/#room-event-format>):
/// the PDU without what only servers need (`prev_events`, `auth_events`,
/// `depth`, hashes, signatures), with its event ID spelled out (PDUs of
/// room v4+ never carry it) and its age in `unsigned`.
pub fn client_event(event: &Pdu, now_ms: u64) -> Value {
    let mut json = json!({
        "content": event.content(),
        "event_id": event.event_id(),
        "origin_server_ts": event.origin_server_ts(),
        "room_id": event.room_id(),
        "sender": event.sender(),
        "type": event.event_type(),
        "unsigned": { "age": now_ms.saturating_sub(event.origin_server_ts()) },
    });
    if let Some(state_key) = event.state_key() {
        json["state_key"] = json!(state_key);
    }
    if let Some(redacts) = event.redacts() {
        json["redacts"] = json!(redacts);
    }
    json
}

impl From<RoomError> for ApiError {
    fn from(error: RoomError) -> Self {
        let message = error.to_string();
        match error {
            RoomError::Rejected(_) | RoomError::Forbidden(_) | RoomError::RemoteUser(_) => {
                Self::forbidden(message)
            }
            RoomError::UnknownRoom(_)
            | RoomError::UnknownAlias(_)
            | RoomError::UnknownUser(_)
            | RoomError::NotFound(_)
            | RoomError::RemoteRoom(_) => Self::not_found(message),
            RoomError::TooLarge(_) => Self::too_large(message),
            RoomError::UnsupportedRoomVersion(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "M_UNSUPPORTED_ROOM_VERSION",
                message,
            ),
            RoomError::AliasInUse(_) => {
                Self::new(StatusCode::BAD_REQUEST, "M_ROOM_IN_USE", message)
            }
            RoomError::InvalidParam(_) => Self::invalid_param(message),
            RoomError::InvalidEvent(_) => Self::bad_json(message),
            RoomError::Store(error) => Self::from(error),
            RoomError::Internal(_) => Self::unknown(message),
        }
    }
}

/// A JSON body that may be absent: `POST /join` and `/leave` need none,
/// and clients send nothing, `{}`, or a `reason`.
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<Homeserver> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, homeserver: &Homeserver) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, homeserver)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large("the request body is larger than this server accepts")
                } else {
                    ApiError::not_json(rejection.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        parse_json(&bytes).map(Self)
    }
}
