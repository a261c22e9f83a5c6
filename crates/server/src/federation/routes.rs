//! Every server-server route this server implements, in one place.

use super::serve::handlers as serve;
use super::{keys, query};
use crate::state::Homeserver;
use axum::Router;
use axum::routing::{get, post};

/// The federation router, merged into the application by `crate::app`.
///
/// Routes that need a signed request take a
/// [`FederationRequest`](super::auth::FederationRequest) as their last
/// argument; the key and version routes are open by design.
pub fn routes() -> Router<Homeserver> {
    Router::new()
        // Keys and server discovery (unauthenticated).
        .route(keys::SERVER_KEYS_PATH, get(keys::get_server_keys))
        .route(
            "/_matrix/key/v2/server/{key_id}",
            get(keys::get_server_keys),
        )
        .route("/_matrix/federation/v1/version", get(query::get_version))
        // Queries.
        .route(
            "/_matrix/federation/v1/query/profile",
            get(query::query_profile),
        )
        // ---- Add further federation routes below this line, one `.route(...)` each:
        // serving peers (event, backfill, get_missing_events, state_ids, …) and
        // receiving (send, make_join, send_join, invite, …).
        .route(
            "/_matrix/federation/v1/send/{txn_id}",
            axum::routing::put(super::receive::send_transaction::send_transaction),
        )
        // Serving peers: single events, history, state (`serve::handlers`).
        .route(
            "/_matrix/federation/v1/event/{event_id}",
            get(serve::get_event),
        )
        .route(
            "/_matrix/federation/v1/backfill/{room_id}",
            get(serve::backfill),
        )
        .route(
            "/_matrix/federation/v1/get_missing_events/{room_id}",
            post(serve::get_missing_events),
        )
        .route(
            "/_matrix/federation/v1/state_ids/{room_id}",
            get(serve::get_state_ids),
        )
        .route(
            "/_matrix/federation/v1/state/{room_id}",
            get(serve::get_state),
        )
        .route(
            "/_matrix/federation/v1/event_auth/{room_id}/{event_id}",
            get(serve::get_event_auth),
        )
        // Joining rooms (`join`).
        .route(
            "/_matrix/federation/v1/make_join/{room_id}/{user_id}",
            get(super::join::make_join),
        )
        .route(
            "/_matrix/federation/v2/send_join/{room_id}/{event_id}",
            axum::routing::put(super::join::send_join),
        )
        .route(
            "/_matrix/federation/v2/invite/{room_id}/{event_id}",
            axum::routing::put(super::invite::invite),
        )
        .route(
            "/_matrix/federation/v1/make_leave/{room_id}/{user_id}",
            get(super::leave::make_leave),
        )
        .route(
            "/_matrix/federation/v2/send_leave/{room_id}/{event_id}",
            axum::routing::put(super::leave::send_leave),
        )
}
