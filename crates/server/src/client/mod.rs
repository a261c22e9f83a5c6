//! The client-server API (<https://spec.matrix.org/v1.16/client-server-api/>),
//! one module per area of the spec.

mod account;
mod create_room;
mod login;
mod media;
mod membership;
mod messages;
pub(crate) mod params;
mod profile;
mod register;
mod rooms;
mod send;
mod state_events;
mod sync;
pub(crate) mod uia;
mod versions;

use crate::state::Homeserver;
use axum::Router;
use axum::routing::get;

/// Every client-server route this server implements.
pub fn routes() -> Router<Homeserver> {
    Router::new()
        .route("/_matrix/client/versions", get(versions::get_versions))
        .merge(register::routes())
        .merge(login::routes())
        .merge(account::routes())
        .merge(profile::routes())
        .merge(media::routes())
        .merge(rooms::routes())
}
