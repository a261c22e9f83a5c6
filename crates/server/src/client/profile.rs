//! Profiles: a user's display name and avatar
//! (<https://spec.matrix.org/v1.16/client-server-api/#profiles>).
//!
//! Spec v1.16 generalised `.../profile/{userId}/displayname` and
//! `.../avatar_url` into `.../profile/{userId}/{keyName}` (custom profile
//! fields); this server keeps the two historical keys only, so any other
//! key is an unknown path (`M_UNRECOGNIZED`).
//!
//! An avatar is an `mxc://` URI pointing into the media repository; the
//! incident lost both halves: profile rows restored to their old values,
//! and the uploaded files behind the URIs.
//!
//! **Documented simplification.** The spec says that a profile change is
//! also announced in every room the user has joined, as a new
//! `m.room.member` event carrying the new `displayname` / `avatar_url`.
//! This server updates the profile only; the rooms module owns membership
//! events and may hook member updates in here later.

use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::state::Homeserver;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use lostfound_protocol::ids::UserId;
use lostfound_store::Profile;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Synapse's limits, in characters.
const MAX_DISPLAYNAME_LEN: usize = 256;
const MAX_AVATAR_URL_LEN: usize = 1000;

pub fn routes() -> Router<Homeserver> {
    Router::new()
        .route("/_matrix/client/v3/profile/{userId}", get(get_profile))
        .route(
            "/_matrix/client/v3/profile/{userId}/displayname",
            get(get_displayname).put(set_displayname),
        )
        .route(
            "/_matrix/client/v3/profile/{userId}/avatar_url",
            get(get_avatar_url).put(set_avatar_url),
        )
}

/// Missing, `null` and `""` all clear the field.
#[derive(Debug, Deserialize)]
pub struct DisplaynameRequest {
    displayname: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AvatarUrlRequest {
    avatar_url: Option<String>,
}

/// `GET /_matrix/client/v3/profile/{userId}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3profileuserid>):
/// `{displayname?, avatar_url?}`; fields never set are left out.
///
/// Like Synapse, an existing user with an empty profile gets `{}`; an
/// unknown user is 404 `M_NOT_FOUND`. Users of other servers are also 404:
/// asking their server over federation is not implemented yet.
pub async fn get_profile(
    State(homeserver): State<Homeserver>,
    MatrixPath(user_id): MatrixPath<String>,
) -> Result<Json<Value>, ApiError> {
    let profile = load_profile(&homeserver, &user_id).await?;
    let mut body = Map::new();
    if let Some(displayname) = profile.displayname {
        body.insert("displayname".to_owned(), json!(displayname));
    }
    if let Some(avatar_url) = profile.avatar_url {
        body.insert("avatar_url".to_owned(), json!(avatar_url));
    }
    Ok(Json(Value::Object(body)))
}

/// `GET /_matrix/client/v3/profile/{userId}/displayname`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3profileuseridkeyname>).
pub async fn get_displayname(
    State(homeserver): State<Homeserver>,
    MatrixPath(user_id): MatrixPath<String>,
) -> Result<Json<Value>, ApiError> {
    let profile = load_profile(&homeserver, &user_id).await?;
    Ok(Json(one_field("displayname", profile.displayname)))
}

/// `GET /_matrix/client/v3/profile/{userId}/avatar_url`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3profileuseridkeyname>).
pub async fn get_avatar_url(
    State(homeserver): State<Homeserver>,
    MatrixPath(user_id): MatrixPath<String>,
) -> Result<Json<Value>, ApiError> {
    let profile = load_profile(&homeserver, &user_id).await?;
    Ok(Json(one_field("avatar_url", profile.avatar_url)))
}

/// `PUT /_matrix/client/v3/profile/{userId}/displayname`
/// (<https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3profileuseridkeyname>):
/// sets the caller's own display name; anyone else's is `M_FORBIDDEN`.
/// Updates the profile only (see the module doc: no `m.room.member` events).
pub async fn set_displayname(
    State(homeserver): State<Homeserver>,
    caller: Authenticated,
    MatrixPath(user_id): MatrixPath<String>,
    MatrixJson(request): MatrixJson<DisplaynameRequest>,
) -> Result<Json<Value>, ApiError> {
    let displayname = checked("displayname", request.displayname, MAX_DISPLAYNAME_LEN)?;
    update_profile(&homeserver, &caller, &user_id, move |profile| {
        profile.displayname = displayname;
    })
    .await
}

/// `PUT /_matrix/client/v3/profile/{userId}/avatar_url`
/// (<https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3profileuseridkeyname>):
/// sets the caller's own avatar (normally an `mxc://` URI from `/upload`).
/// Updates the profile only (see the module doc: no `m.room.member` events).
pub async fn set_avatar_url(
    State(homeserver): State<Homeserver>,
    caller: Authenticated,
    MatrixPath(user_id): MatrixPath<String>,
    MatrixJson(request): MatrixJson<AvatarUrlRequest>,
) -> Result<Json<Value>, ApiError> {
    let avatar_url = checked("avatar_url", request.avatar_url, MAX_AVATAR_URL_LEN)?;
    update_profile(&homeserver, &caller, &user_id, move |profile| {
        profile.avatar_url = avatar_url;
    })
    .await
}

/// The profile of a local user who exists.
async fn load_profile(homeserver: &Homeserver, user_id: &str) -> Result<Profile, ApiError> {
    let user_id = local_user(homeserver, user_id)?;
    homeserver
        .store(move |store| match store.account(&user_id)? {
            Some(_) => store.profile(&user_id).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found("no such user on this server"))
}

/// Applies `change` to the caller's own profile.
///
/// Read, change, write: two concurrent updates of *different* fields by
/// the same user could lose one (the store has no per-field setter). A
/// client sets one field at a time, so this is rare; a trade for a
/// narrower store trait.
async fn update_profile(
    homeserver: &Homeserver,
    caller: &Authenticated,
    user_id: &str,
    change: impl FnOnce(&mut Profile) + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let user_id = local_user(homeserver, user_id)?;
    if user_id != caller.user_id {
        return Err(ApiError::forbidden("you can only change your own profile"));
    }
    homeserver
        .store(move |store| {
            let mut profile = store.profile(&user_id)?;
            change(&mut profile);
            store.set_profile(&user_id, &profile)
        })
        .await?;
    Ok(Json(json!({})))
}

/// Parses the path's user ID and insists that it is one of ours.
fn local_user(homeserver: &Homeserver, user_id: &str) -> Result<UserId, ApiError> {
    let user_id: UserId = user_id
        .parse()
        .map_err(|e| ApiError::invalid_param(format!("invalid user ID: {e}")))?;
    if user_id.server_name() != homeserver.config().server_name {
        return Err(ApiError::not_found(
            "profiles of other servers' users are not available: federation profile queries are not implemented",
        ));
    }
    Ok(user_id)
}

/// `""` means "none"; longer than `max` characters is `M_INVALID_PARAM`.
fn checked(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value.filter(|value| !value.is_empty()) {
        Some(value) if value.chars().count() > max => Err(ApiError::invalid_param(format!(
            "{field} is longer than {max} characters"
        ))),
        value => Ok(value),
    }
}

fn one_field(name: &str, value: Option<String>) -> Value {
    let mut body = Map::new();
    if let Some(value) = value {
        body.insert(name.to_owned(), json!(value));
    }
    Value::Object(body)
}
