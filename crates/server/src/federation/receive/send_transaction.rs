//! The HTTP side of receiving: a peer pushes its new events to us in
//! *transactions*, and each PDU in one goes through [`receive_pdu`].

use super::{Outcome, receive_pdu};
use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::federation::auth::FederationRequest;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::hashes;
use lostfound_protocol::ids::ServerName;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The spec's limits on one transaction.
pub const MAX_PDUS: usize = 50;
pub const MAX_EDUS: usize = 100;

/// The body of `PUT /send/{txnId}`.
#[derive(Debug, Deserialize)]
struct Transaction {
    origin: ServerName,
    #[allow(dead_code)] // required by the spec; we have no use for it
    origin_server_ts: u64,
    pdus: Vec<Value>,
    #[serde(default)]
    edus: Vec<Value>,
}

/// `PUT /_matrix/federation/v1/send/{txnId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#put_matrixfederationv1sendtxnid>):
/// up to 50 PDUs and 100 EDUs from the signing server.
///
/// Each PDU is processed in order through the checks on receipt; the
/// answer is `200` with one entry per PDU, `{}` when it was taken in
/// (accepted, kept redacted, soft-failed or already known: from the
/// sender's point of view, it was delivered) and `{"error": …}` otherwise.
/// A transaction is never refused for its PDUs, so that one bad event
/// does not make the sender retry the good ones forever.
///
/// Simplifications: EDUs (typing, receipts, presence, to-device messages)
/// are ignored; and the transaction ID is not remembered, since a resent
/// transaction's PDUs are simply already known.
pub async fn send_transaction(
    State(homeserver): State<Homeserver>,
    MatrixPath(_txn_id): MatrixPath<String>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let transaction: Transaction = request.json()?;
    if transaction.origin != request.origin {
        return Err(ApiError::forbidden(format!(
            "the transaction claims to come from {}, but {} signed the request",
            transaction.origin, request.origin
        )));
    }
    if transaction.pdus.len() > MAX_PDUS || transaction.edus.len() > MAX_EDUS {
        return Err(ApiError::bad_json(format!(
            "a transaction holds at most {MAX_PDUS} PDUs and {MAX_EDUS} EDUs; this one has {} and {}",
            transaction.pdus.len(),
            transaction.edus.len()
        )));
    }
    let mut results = Map::new();
    for raw in transaction.pdus {
        // The key is the event ID, recomputed from the event (v4+ PDUs do
        // not carry one); a PDU too broken to have an ID gets no entry.
        let event_id = raw
            .as_object()
            .and_then(|object| hashes::event_id(object).ok());
        let outcome = receive_pdu(&homeserver, homeserver.federation(), &request.origin, raw).await;
        let answer = match outcome {
            Ok(Outcome::Rejected(reason)) => json!({ "error": reason }),
            Ok(_) => json!({}),
            Err(error) => json!({ "error": error.to_string() }),
        };
        if let Some(event_id) = event_id {
            results.insert(event_id.to_string(), answer);
        }
    }
    Ok(Json(json!({ "pdus": results })))
}
