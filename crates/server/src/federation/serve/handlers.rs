//! The HTTP side of serving peers: parse, check who asks, run the logic of
//! [`super::history`] and [`super::state_at`] on a blocking thread, and
//! answer in the spec's shapes.
//!
//! Every route needs a signed request ([`FederationRequest`], always the
//! last argument, as it reads the body), and every route that names a room
//! first checks that the asking server may read it
//! ([`super::access`]). PDUs go out exactly as stored: the JSON that was
//! signed, without an `event_id` (room v4+ events never carry one; the
//! receiver recomputes it from the reference hash, so it cannot be lied
//! to about it).

use super::history::{self, DEFAULT_MISSING_EVENTS_LIMIT};
use super::query::{parse_query, values};
use super::{ServeError, access, state_at};
use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::federation::auth::FederationRequest;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::str::FromStr;

/// `GET /_matrix/federation/v1/event/{eventId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1eventeventid>):
/// one event, as a transaction of one PDU.
pub async fn get_event(
    State(homeserver): State<Homeserver>,
    MatrixPath(event_id): MatrixPath<String>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let event_id: EventId = parse_param(&event_id, "event ID")?;
    let origin = request.origin;
    let event = serving(&homeserver, move |store| {
        let stored = store
            .event(&event_id)?
            .ok_or(ServeError::NoSuchEvent(event_id))?;
        access::check_origin_may_read(store, stored.event.room_id(), &origin)?;
        Ok(stored.event)
    })
    .await?;
    Ok(Json(transaction(&homeserver, &[event])))
}

/// `GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=…`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1backfillroomid>):
/// the `v` events and those before them, newest first, as a transaction.
///
/// `v` may be repeated (`?v=$a&v=$b`, as Synapse sends it) or hold a
/// comma-separated list (the spec's `explode: false`); room v4+ event IDs
/// never contain commas, so both read the same.
pub async fn backfill(
    State(homeserver): State<Homeserver>,
    MatrixPath(room_id): MatrixPath<String>,
    uri: Uri,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let room_id: RoomId = parse_param(&room_id, "room ID")?;
    let query = parse_query(uri.query().unwrap_or_default())
        .map_err(|e| ApiError::invalid_param(e.to_string()))?;
    let from = values(&query, "v")
        .flat_map(|v| v.split(','))
        .map(|id| parse_param::<EventId>(id, "event ID in v"))
        .collect::<Result<Vec<_>, _>>()?;
    if from.is_empty() {
        return Err(ApiError::missing_param(
            "backfill needs at least one v=eventId",
        ));
    }
    let limit: usize = match values(&query, "limit").next() {
        None => return Err(ApiError::missing_param("backfill needs limit")),
        Some(limit) => parse_param(limit, "limit")?,
    };
    let origin = request.origin;
    let hooks = homeserver.config().hooks.clone();
    let events = serving(&homeserver, move |store| {
        access::check_origin_may_read(store, &room_id, &origin)?;
        history::backfill_served(store, &hooks, &room_id, &from, limit)
    })
    .await?;
    Ok(Json(transaction(&homeserver, &events)))
}

/// The body of `get_missing_events`.
#[derive(Debug, Deserialize)]
struct MissingEventsRequest {
    earliest_events: Vec<EventId>,
    latest_events: Vec<EventId>,
    limit: Option<usize>,
    min_depth: Option<u64>,
}

/// `POST /_matrix/federation/v1/get_missing_events/{roomId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#post_matrixfederationv1get_missing_eventsroomid>):
/// the events between what the peer holds and what it just received,
/// oldest first.
pub async fn get_missing_events(
    State(homeserver): State<Homeserver>,
    MatrixPath(room_id): MatrixPath<String>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let room_id: RoomId = parse_param(&room_id, "room ID")?;
    let body: MissingEventsRequest = request.json()?;
    let origin = request.origin;
    let hooks = homeserver.config().hooks.clone();
    let events = serving(&homeserver, move |store| {
        access::check_origin_may_read(store, &room_id, &origin)?;
        history::get_missing_events_served(
            store,
            &hooks,
            &room_id,
            &body.earliest_events,
            &body.latest_events,
            (
                body.limit.unwrap_or(DEFAULT_MISSING_EVENTS_LIMIT),
                body.min_depth.unwrap_or(0),
            ),
        )
    })
    .await?;
    Ok(Json(json!({ "events": pdus(&events) })))
}

/// `GET /_matrix/federation/v1/state_ids/{roomId}?event_id=…`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1state_idsroomid>):
/// the state before the event, and its auth chain, as event IDs.
pub async fn get_state_ids(
    State(homeserver): State<Homeserver>,
    MatrixPath(room_id): MatrixPath<String>,
    uri: Uri,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let (room_id, event_id) = room_and_event_id(&room_id, &uri)?;
    let origin = request.origin;
    let answer = serving(&homeserver, move |store| {
        access::check_origin_may_read(store, &room_id, &origin)?;
        state_at::state_ids(store, &room_id, &event_id)
    })
    .await?;
    Ok(Json(json!({
        "pdu_ids": answer.pdu_ids,
        "auth_chain_ids": answer.auth_chain_ids,
    })))
}

/// `GET /_matrix/federation/v1/state/{roomId}?event_id=…`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1stateroomid>):
/// [`get_state_ids`] with the events themselves.
pub async fn get_state(
    State(homeserver): State<Homeserver>,
    MatrixPath(room_id): MatrixPath<String>,
    uri: Uri,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let (room_id, event_id) = room_and_event_id(&room_id, &uri)?;
    let origin = request.origin;
    let answer = serving(&homeserver, move |store| {
        access::check_origin_may_read(store, &room_id, &origin)?;
        state_at::state(store, &room_id, &event_id)
    })
    .await?;
    Ok(Json(json!({
        "pdus": pdus(&answer.pdus),
        "auth_chain": pdus(&answer.auth_chain),
    })))
}

/// `GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1event_authroomideventid>):
/// the auth chain of one event.
pub async fn get_event_auth(
    State(homeserver): State<Homeserver>,
    MatrixPath((room_id, event_id)): MatrixPath<(String, String)>,
    request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let room_id: RoomId = parse_param(&room_id, "room ID")?;
    let event_id: EventId = parse_param(&event_id, "event ID")?;
    let origin = request.origin;
    let chain = serving(&homeserver, move |store| {
        access::check_origin_may_read(store, &room_id, &origin)?;
        state_at::event_auth(store, &room_id, &event_id)
    })
    .await?;
    Ok(Json(json!({ "auth_chain": pdus(&chain) })))
}

/// Runs serving logic on a blocking thread (SQLite calls block).
async fn serving<T, F>(homeserver: &Homeserver, operation: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, ServeError> + Send + 'static,
{
    homeserver
        .store(move |store| Ok(operation(store)))
        .await?
        .map_err(ApiError::from)
}

/// Parses an identifier or a number from the request: `M_INVALID_PARAM`,
/// naming `what`, if it does not parse.
fn parse_param<T: FromStr>(text: &str, what: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| ApiError::invalid_param(format!("invalid {what} {text:?}: {e}")))
}

/// The room ID of the path and the `event_id` of the query.
fn room_and_event_id(room_id: &str, uri: &Uri) -> Result<(RoomId, EventId), ApiError> {
    let room_id = parse_param(room_id, "room ID")?;
    let query = parse_query(uri.query().unwrap_or_default())
        .map_err(|e| ApiError::invalid_param(e.to_string()))?;
    let event_id = values(&query, "event_id")
        .next()
        .ok_or_else(|| ApiError::missing_param("event_id is required"))?;
    Ok((room_id, parse_param(event_id, "event ID")?))
}

/// PDUs as they go on the wire: the stored JSON, untouched.
fn pdus(events: &[Pdu]) -> Vec<Value> {
    events
        .iter()
        .map(|event| Value::Object(event.json().clone()))
        .collect()
}

/// The spec's transaction shape that `event` and `backfill` answer with.
fn transaction(homeserver: &Homeserver, events: &[Pdu]) -> Value {
    json!({
        "origin": homeserver.config().server_name,
        "origin_server_ts": homeserver.now_ms(),
        "pdus": pdus(events),
    })
}
