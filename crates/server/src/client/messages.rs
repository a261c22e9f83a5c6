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
//! # Backfill: history we never had, or lost
//!
//! In a federated room, a server restored from an old backup (or one that
//! joined late) holds only part of the history. When a backwards page
//! reaches the start of what we hold (the page is short) or crosses a
//! hole (an event of the page names a parent we lack), we find the
//! *backwards extremities*, ask a server of the room for the history
//! before them ([`crate::federation::backfill`]), store what passes the
//! checks *before* our timeline (negative stream positions), and read the
//! page again: the client just sees more history. One backfill request at
//! most per call, so a peer that has nothing more (or sends only forgeries)
//! cannot keep a page from ending. Unfederated rooms never backfill.
//!
//! Who may read: members everything, former members up to their leave
//! (see [`crate::rooms::state`]). The `filter` parameter is ignored, and
//! `state` (for lazy-loading members) is always empty.

use super::params::{MatrixPath, MatrixQuery};
use super::rooms::client_event;
use super::sync::StreamToken;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::federation::backfill::{backfill, backwards_extremities};
use crate::rooms::state::read_access;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_store::{Store, StoredEvent, StreamPosition};
use serde::Deserialize;
use serde_json::{Value, json};

/// Events per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// The most events per page.
pub const MAX_LIMIT: usize = 100;
/// How many of the room's oldest events are searched for missing parents
/// when a page reaches the start of what we hold.
const OLDEST_CHECKED: usize = 20;

/// `start`, the events, and `end` (absent when there is nothing further).
type Page = (StreamToken, Vec<StoredEvent>, Option<StreamToken>);

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
    let page_room = room_id.clone();
    let page = with_store(&homeserver, move |store| {
        let access = read_access(store, &room_id, &user.user_id)?;
        let newest = store.current_position()?;
        // A former member reads nothing after their leave.
        let readable = access
            .readable_until()
            .map_or(newest, |until| until.min(newest));
        if backwards {
            let from = from.map_or(readable, |token| token.0.min(readable));
            page_backwards(store, &room_id, from, to, limit)
        } else {
            // The start of the stream is below zero once history was backfilled.
            let from = from.map_or(StreamPosition::MIN, |token| token.0);
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
            Ok(((StreamToken(from), events, end), Vec::new()))
        }
    })
    .await?;
    let (mut page, extremities) = page;
    if !extremities.is_empty() {
        let backfilled = backfill(
            &homeserver,
            homeserver.federation(),
            &page_room,
            extremities,
        );
        match backfilled.await {
            Ok(report) if report.stored > 0 => {
                let StreamToken(from) = page.0;
                let room_id = page_room.clone();
                page = with_store(&homeserver, move |store| {
                    Ok(page_backwards(store, &room_id, from, to, limit)?.0)
                })
                .await?;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(room = %page_room, %error, "backfill failed"),
        }
    }
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

/// One page backwards from `from` (inclusive), and the backwards
/// extremities to backfill from when the page reaches the start of what
/// we hold or crosses a hole (only in a federated room, and not when the
/// page stopped at the client's `to`).
fn page_backwards(
    store: &dyn Store,
    room_id: &RoomId,
    from: StreamPosition,
    to: Option<StreamToken>,
    limit: usize,
) -> Result<(Page, Vec<EventId>), RoomError> {
    let mut events =
        store.room_events_before(room_id, from.saturating_add(1), limit.saturating_add(1))?;
    let fetched = events.len();
    if let Some(StreamToken(to)) = to {
        events.retain(|stored| stored.position > to);
    }
    let stopped_at_to = events.len() < fetched;
    let more = events.len() > limit;
    events.truncate(limit);
    let end = more
        .then(|| events.last().map(|last| StreamToken(last.position - 1)))
        .flatten();
    let federated = store.room(room_id)?.is_some_and(|room| room.federate);
    let extremities = if !federated || stopped_at_to {
        Vec::new()
    } else if more {
        backwards_extremities(store, &events)?
    } else {
        // The start of what we hold: the oldest events of the room may
        // name parents we lack (the page itself may be empty).
        let mut oldest =
            store.room_events_after(room_id, StreamPosition::MIN, from, OLDEST_CHECKED)?;
        oldest.extend(events.iter().cloned());
        backwards_extremities(store, &oldest)?
    };
    Ok(((StreamToken(from), events, end), extremities))
}
