//! `GET /_matrix/client/v3/rooms/{roomId}/messages`: scrolling back (and
//! forward) through a room's history, a page at a time.
//!
//! `/sync` gives only the newest events of a room; when its timeline is
//! `limited`, its `prev_batch` token marks where the client's view stops.
//! `/messages?dir=b&from=<prev_batch>` returns the events before that
//! point, newest first, and an `end` token to continue from; `end` is
//! absent once there is nothing further. Tokens are the same stream
//! positions as `/sync`'s (`s42`).
//!
//! This page only reads what this server holds. In a federated room, a
//! server restored from an old backup has a hole in its history; filling
//! it from peers while the client scrolls (backfill) arrives with
//! federation.
//!
//! Who may read: members everything, former members up to their leave
//! (see [`crate::rooms::state`]). The `filter` parameter is ignored, and
//! `state` (for lazy-loading members) is always empty.

use super::params::{MatrixPath, MatrixQuery};
use super::rooms::client_event;
use super::sync::StreamToken;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::rooms::state::read_access;
use crate::rooms::with_store;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::ids::RoomId;
use serde::Deserialize;
use serde_json::{Value, json};

/// Events per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// The most events per page.
pub const MAX_LIMIT: usize = 100;

/// The query parameters.
#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    dir: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
}

/// `GET /_matrix/client/v3/rooms/{roomId}/messages`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidmessages>):
/// `{start, end?, chunk, state}`. `dir=b` pages backwards from `from`
/// (default: the newest event), `dir=f` forwards (default: the start).
pub async fn get_messages(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixPath(room_id): MatrixPath<RoomId>,
    MatrixQuery(query): MatrixQuery<MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
    let backwards = match query.dir.as_deref() {
        Some("b") => true,
        Some("f") => false,
        Some(other) => {
            return Err(ApiError::invalid_param(format!(
                "dir must be b or f, not {other:?}"
            )));
        }
        None => {
            return Err(ApiError::missing_param(
                "dir is required: b (backwards) or f (forwards)",
            ));
        }
    };
    let from = query
        .from
        .as_deref()
        .map(|text| StreamToken::parse("from", text))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|text| StreamToken::parse("to", text))
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let now_ms = homeserver.now_ms();
    let page = with_store(&homeserver, move |store| {
        let access = read_access(store, &room_id, &user.user_id)?;
        let newest = store.current_position()?;
        // A former member reads nothing after their leave.
        let readable = access
            .readable_until()
            .map_or(newest, |until| until.min(newest));
        if backwards {
            let from = from.map_or(readable, |token| token.0.min(readable));
            let mut events = store.room_events_before(
                &room_id,
                from.saturating_add(1),
                limit.saturating_add(1),
            )?;
            if let Some(StreamToken(to)) = to {
                events.retain(|stored| stored.position > to);
            }
            let more = events.len() > limit;
            events.truncate(limit);
            let end = more
                .then(|| events.last().map(|last| StreamToken(last.position - 1)))
                .flatten();
            Ok((StreamToken(from), events, end))
        } else {
            let from = from.map_or(0, |token| token.0);
            let mut events =
                store.room_events_after(&room_id, from, readable, limit.saturating_add(1))?;
            if let Some(StreamToken(to)) = to {
                events.retain(|stored| stored.position <= to);
            }
            let more = events.len() > limit;
            events.truncate(limit);
            let end = more
                .then(|| events.last().map(|last| StreamToken(last.position)))
                .flatten();
            Ok((StreamToken(from), events, end))
        }
    })
    .await?;
    let (start, events, end) = page;
    let chunk: Vec<Value> = events
        .iter()
        .map(|stored| client_event(&stored.event, now_ms))
        .collect();
    let mut response = json!({ "start": start.to_string(), "chunk": chunk, "state": [] });
    if let Some(end) = end {
        response["end"] = json!(end.to_string());
    }
    Ok(Json(response))
}
