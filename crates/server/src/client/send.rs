//! Sending a message: `PUT /rooms/{roomId}/send/{eventType}/{txnId}`.
//!
//! Why a `PUT` with a transaction ID? Networks fail *after* the server
//! acted but *before* the client heard back. The client then retries, and
//! without a way to recognise the retry the message would be posted twice.
//! The client picks a fresh `txnId` per message and reuses it on retries;
//! the server remembers which event each `(user, device, txnId)` produced
//! (in the same database transaction as the event itself) and answers a
//! retry with the same event ID. That makes the request idempotent, which
//! is what `PUT` means in HTTP.
//!
//! A retry is the same txnId *on the same path*
//! (<https://spec.matrix.org/v1.16/client-server-api/#transaction-identifiers>):
//! the same txnId in another room, or for another event type, is a new
//! request. So the key we store is the path's room and type with the txnId.

use super::params::MatrixPath;
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::rooms::{NewEvent, send_event};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::RoomId;
use lostfound_store::TransactionKey;
use serde_json::{Value, json};

/// `PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid>):
/// the body is the event's content; answers `{"event_id"}`.
///
/// The sender must be joined (auth rule 5) with enough power for the event
/// type (rule 7); content with floats is `M_BAD_JSON`; an event over
/// 65,536 bytes is `M_TOO_LARGE`.
pub async fn send_message(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath((room_id, event_type, txn_id)): MatrixPath<(RoomId, String, String)>,
    MatrixJson(content): MatrixJson<JsonObject>,
) -> Result<Json<Value>, ApiError> {
    let scoped_txn_id = format!("send/{room_id}/{event_type}/{txn_id}");
    let mut event = NewEvent::message(room_id, user.user_id.clone(), &event_type, content);
    event.transaction = Some(TransactionKey {
        user_id: user.user_id,
        device_id: user.device_id,
        txn_id: scoped_txn_id,
    });
    let event_id = send_event(&homeserver, event).await?;
    Ok(Json(json!({ "event_id": event_id })))
}
