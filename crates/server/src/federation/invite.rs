//! Inviting a user of another server
//! (<https://spec.matrix.org/v1.16/server-server-api/#inviting-to-a-room>):
//! `PUT /_matrix/federation/v2/invite/{roomId}/{eventId}`, both sides.
//!
//! An invite is an `m.room.member` event in the room, sent by the inviter,
//! about the invitee. The invitee's server usually holds nothing of the
//! room, so the invite travels directly to it, with two additions:
//!
//! - **The invitee's server co-signs it.** The inviter's server then
//!   persists the doubly signed event: proof, for every server in the room,
//!   that the invitee's server received the invite (and accepted to relay
//!   it to its user).
//! - **Stripped state** (`invite_room_state`): the room's name, join
//!   rules, create event and so on, reduced to `{type, state_key, sender,
//!   content}`, without signatures. Enough for the invitee's client to show
//!   "Alice invites you to *Lobby*", not enough to prove anything: the real
//!   state arrives only with the join (`send_join`).
//!
//! In 2021 this is how rooms created *during* the gap came back: the
//! restored server had never heard of them, until a remote member invited
//! one of its (re-registered) users; the invite carried the room's name,
//! and the join then carried its whole present state.
//!
//! How the invitee's server keeps an invite to a room it does not hold: a
//! room record, and the invite event in the room's timeline with the
//! room's current state being that single membership (no create event:
//! that is how the rest of the server tells "invited from afar" from
//! "resident"). The stripped state rides along in the event's `unsigned`
//! section, which hashes, signatures and the event ID do not cover, as
//! Synapse keeps it; `/sync` shows it in the invite's `invite_state`.

pub mod sending;

use super::auth::FederationRequest;
use super::join::ROOM_VERSION;
use super::receive::{Outcome, receive_pdu};
use super::{Federation, Peers};
use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lostfound_protocol::ids::{EventId, RoomId, UserId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::signing::hash_and_sign_event;
use lostfound_protocol::state::{slot, slot_of};
use lostfound_store::{EventWrite, Room, Store, StreamPosition};
use serde::Deserialize;
use serde_json::{Value, json};

/// At most this many stripped state events are kept with an invite.
const MAX_INVITE_STATE: usize = 50;

/// `{room_version, event, invite_room_state?}`
#[derive(Debug, Deserialize)]
struct InviteRequest {
    room_version: String,
    event: Value,
    #[serde(default)]
    invite_room_state: Vec<Value>,
}

/// `PUT /_matrix/federation/v2/invite/{roomId}/{eventId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#put_matrixfederationv2inviteroomideventid>):
/// the invitee's server checks the invite, co-signs it, keeps it for its
/// user's `/sync`, and answers `{event}`, the invite signed by us too.
pub async fn invite(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, event_id)): MatrixPath<(String, String)>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let body: InviteRequest = request.json()?;
    if body.room_version != ROOM_VERSION {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "M_INCOMPATIBLE_ROOM_VERSION",
            format!(
                "room version {:?} is not supported; this server implements version 10 only",
                body.room_version
            ),
        ));
    }
    let room_id: RoomId = parse(&room_id, "room ID")?;
    let event_id: EventId = parse(&event_id, "event ID")?;
    let event = Pdu::from_json(body.event).map_err(|e| ApiError::bad_json(e.to_string()))?;
    let invitee = check_invite(&homeserver, &event, &room_id, &event_id, &request)?;
    let federation: &Federation = homeserver.federation();
    federation
        .verify_event_signatures(&event)
        .await
        .map_err(|e| ApiError::forbidden(format!("the invite's signature: {e}")))?;
    if !event.content_hash_check().matches() {
        return Err(ApiError::forbidden(
            "the invite's content does not match its hash",
        ));
    }
    let exists = homeserver
        .store(move |store| Ok(store.account(&invitee)?.is_some()))
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!(
            "there is no user {}",
            event.state_key().unwrap_or_default()
        )));
    }

    // Our signature joins the inviter's (the event ID does not change:
    // it is computed without signatures).
    let mut json = event.json().clone();
    hash_and_sign_event(&mut json, homeserver.signing_key())
        .map_err(|e| ApiError::unknown(format!("cannot sign the invite: {e}")))?;
    let signed = Pdu::from_json(Value::Object(json.clone()))
        .map_err(|e| ApiError::unknown(format!("the signed invite: {e}")))?;

    let resident = {
        let room_id = room_id.clone();
        homeserver
            .store(move |store| {
                Ok(store
                    .current_state(&room_id)?
                    .contains_key(&slot("m.room.create", "")))
            })
            .await?
    };
    if resident {
        // We are in the room: the invite is a PDU like any other, checked
        // against the room's state.
        let outcome = receive_pdu(
            &homeserver,
            federation,
            &request.origin,
            Value::Object(json),
        )
        .await
        .map_err(|e| ApiError::forbidden(e.to_string()))?;
        if let Outcome::Rejected(reason) | Outcome::SoftFailed(reason) = outcome {
            return Err(ApiError::forbidden(reason));
        }
    } else {
        let kept = with_invite_state(json, body.invite_room_state)?;
        let writing = crate::rooms::events::write_lock(&homeserver).await;
        let position = with_store(&homeserver, move |store| {
            let _writing = writing;
            keep_invite(store, &kept)
        })
        .await?;
        homeserver.announce(position);
    }
    Ok(Json(json!({ "event": signed.json() })))
}

/// The invite must be an invite, of this room and event ID, sent by a user
/// of the asking server, to a user of ours. Returns the invitee.
fn check_invite(
    homeserver: &Homeserver,
    event: &Pdu,
    room_id: &RoomId,
    event_id: &EventId,
    request: &FederationRequest,
) -> Result<UserId, ApiError> {
    if event.event_id() != event_id || event.room_id() != room_id {
        return Err(ApiError::bad_json(format!(
            "the body is event {} of room {}, not {event_id} of {room_id}",
            event.event_id(),
            event.room_id()
        )));
    }
    if event.event_type() != "m.room.member" || event.membership() != Some("invite") {
        return Err(ApiError::bad_json("the event is not an invite"));
    }
    if event.sender().server_name() != request.origin {
        return Err(ApiError::forbidden(format!(
            "{} is not a user of {}, the server asking",
            event.sender(),
            request.origin
        )));
    }
    let invitee: UserId = parse(event.state_key().unwrap_or_default(), "invitee")?;
    if invitee.server_name() != homeserver.config().server_name {
        return Err(ApiError::forbidden(format!(
            "{invitee} is not a user of this server"
        )));
    }
    Ok(invitee)
}

/// The invite with the stripped state in its `unsigned` section.
fn with_invite_state(
    mut json: lostfound_protocol::JsonObject,
    invite_room_state: Vec<Value>,
) -> Result<Pdu, ApiError> {
    let stripped: Vec<Value> = invite_room_state
        .into_iter()
        .filter(Value::is_object)
        .take(MAX_INVITE_STATE)
        .collect();
    let unsigned = json.entry("unsigned").or_insert_with(|| json!({}));
    if let Some(unsigned) = unsigned.as_object_mut() {
        unsigned.insert("invite_room_state".to_owned(), Value::Array(stripped));
    }
    Pdu::from_json(Value::Object(json)).map_err(|e| ApiError::bad_json(e.to_string()))
}

/// Keeps an invite to a room we are not in (see the module docs).
fn keep_invite(store: &dyn Store, invite: &Pdu) -> Result<StreamPosition, RoomError> {
    if store.room(invite.room_id())?.is_none() {
        store.create_room(&Room {
            room_id: invite.room_id().clone(),
            room_version: ROOM_VERSION.to_owned(),
            federate: true,
        })?;
    }
    let mut state = store.current_state(invite.room_id())?;
    if let Some(slot) = slot_of(invite) {
        state.insert(slot, invite.event_id().clone());
    }
    Ok(store.persist_event(&EventWrite {
        event: invite,
        state_after: &state,
        forward_extremities: &[],
        current_state: None,
        outlier: false,
        transaction: None,
    })?)
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| ApiError::invalid_param(format!("invalid {what} {text:?}: {e}")))
}
