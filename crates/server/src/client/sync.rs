//! `GET /_matrix/client/v3/sync`: how a client keeps up with its rooms.
//!
//! A client calls `/sync` in a loop. The first call (no `since`) returns
//! a snapshot: every joined room's recent timeline and its state. Each
//! answer carries a `next_batch` token; the next call passes it as `since`
//! and gets only what happened after it. When nothing has, the server
//! holds the request open (*long-polling*) for up to `timeout`
//! milliseconds and answers as soon as an event arrives: that is how
//! messages appear instantly without the client asking every second.
//!
//! Tokens are stream positions, written `s42` (see [`token`]). A token
//! from beyond the end of the stream means the server has lost events the
//! client saw: exactly what a restore from an old backup does. The server
//! cannot know what the client holds, so it answers as to a first sync
//! and lets the client rebuild its view.
//!
//! | module | what it is for |
//! |---|---|
//! | [`token`] | `s42` tokens, shared with `/messages` |
//! | [`filter`] | uploading filters, and the one field we apply: the timeline limit |
//! | [`room_sections`] | the `join`, `invite` and `leave` entry of one room |

pub mod filter;
pub mod room_sections;
pub mod token;

pub use token::StreamToken;

use super::params::MatrixQuery;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::rooms::{RoomError, with_store};
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::UserId;
use room_sections::{SyncWindow, invited_room, joined_at, joined_room, left_room};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// The longest a `/sync` is held open, whatever `timeout` the client asks:
/// proxies and clients give up on requests that hang much longer.
pub const MAX_LONG_POLL: Duration = Duration::from_secs(30);

/// The query parameters; `set_presence` and others are accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct SyncQuery {
    since: Option<String>,
    #[serde(default)]
    timeout: u64,
    #[serde(default)]
    full_state: bool,
    filter: Option<String>,
}

/// `GET /_matrix/client/v3/sync`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3sync>):
/// `{next_batch, rooms: {join, invite, leave}, ...}`.
pub async fn sync(
    State(homeserver): State<Homeserver>,
    user: Authenticated,
    MatrixQuery(query): MatrixQuery<SyncQuery>,
) -> Result<Json<Value>, ApiError> {
    let since = query
        .since
        .as_deref()
        .map(|text| StreamToken::parse("since", text))
        .transpose()?;
    let limit = filter::timeline_limit(query.filter.as_deref())?;
    let deadline = Instant::now() + Duration::from_millis(query.timeout).min(MAX_LONG_POLL);
    // Subscribe *before* reading the store: an event persisted between the
    // read and the wait still marks the receiver as changed, so no wake-up
    // is lost.
    let mut changes = homeserver.subscribe();
    loop {
        changes.borrow_and_update();
        let user_id = user.user_id.clone();
        let now_ms = homeserver.now_ms();
        let full_state = query.full_state;
        let rooms = with_store(&homeserver, move |store| {
            collect(store, &user_id, since, limit, full_state, now_ms)
        })
        .await?;
        if since.is_none() || rooms.has_updates() || Instant::now() >= deadline {
            return Ok(Json(rooms.into_response()));
        }
        let woken = tokio::select! {
            changed = tokio::time::timeout_at(deadline, changes.changed()) => matches!(changed, Ok(Ok(()))),
            () = homeserver.shutting_down() => false,
        };
        if !woken {
            // Timed out, or the server is shutting down: answer "nothing new".
            return Ok(Json(rooms.into_response()));
        }
    }
}

/// The rooms part of one answer.
struct SyncRooms {
    next_batch: StreamToken,
    join: JsonObject,
    invite: JsonObject,
    leave: JsonObject,
}

impl SyncRooms {
    fn has_updates(&self) -> bool {
        !(self.join.is_empty() && self.invite.is_empty() && self.leave.is_empty())
    }

    fn into_response(self) -> Value {
        json!({
            "next_batch": self.next_batch.to_string(),
            "rooms": { "join": self.join, "invite": self.invite, "leave": self.leave },
            "account_data": { "events": [] },
            "presence": { "events": [] },
            "to_device": { "events": [] },
        })
    }
}

/// Computes one answer from the store (on a blocking thread).
fn collect(
    store: &dyn lostfound_store::Store,
    user: &UserId,
    since: Option<StreamToken>,
    limit: usize,
    full_state: bool,
    now_ms: u64,
) -> Result<SyncRooms, RoomError> {
    let up_to = store.current_position()?;
    let since = match since {
        Some(StreamToken(since)) if since > up_to => {
            tracing::warn!(%user, since, up_to, "sync token from beyond the stream: events were lost; answering as a first sync");
            None
        }
        other => other.map(|token| token.0),
    };
    let window = SyncWindow {
        since,
        up_to,
        limit,
        full_state,
        now_ms,
    };
    let mut rooms = SyncRooms {
        next_batch: StreamToken(up_to),
        join: JsonObject::new(),
        invite: JsonObject::new(),
        leave: JsonObject::new(),
    };
    for room_id in store.rooms_with_membership(user, &["join"])? {
        if let Some(entry) = joined_room(store, &room_id, user, window)? {
            rooms.join.insert(room_id.to_string(), entry);
        }
    }
    for room_id in store.rooms_with_membership(user, &["invite"])? {
        if let Some(entry) = invited_room(store, &room_id, user, window)? {
            rooms.invite.insert(room_id.to_string(), entry);
        }
    }
    for room_id in store.rooms_with_membership(user, &["leave", "ban"])? {
        // Left after `up_to` was read (a race with this very sync): at
        // `up_to` the user was still joined, so this answer must carry the
        // room's events up to there, or the next sync (which starts at
        // `up_to`) would never deliver them. The leave comes next time.
        if joined_at(store, &room_id, user, up_to)? {
            if let Some(entry) = joined_room(store, &room_id, user, window)? {
                rooms.join.insert(room_id.to_string(), entry);
            }
        } else if let Some(entry) = left_room(store, &room_id, user, window)? {
            rooms.leave.insert(room_id.to_string(), entry);
        }
    }
    Ok(rooms)
}
