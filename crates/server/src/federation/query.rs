//! Small questions one server asks another: what software it runs, and
//! what a user's profile is.

use super::auth::FederationRequest;
use crate::error::ApiError;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::Uri;
use lostfound_protocol::ids::UserId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `GET /_matrix/federation/v1/version`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1version>):
/// the server software's name and version. Needs no authentication.
pub async fn get_version() -> Json<Value> {
    Json(json!({"server": {"name": "lostfound", "version": env!("CARGO_PKG_VERSION")}}))
}

#[derive(Debug, Deserialize)]
struct ProfileQuery {
    user_id: String,
    field: Option<String>,
}

/// `GET /_matrix/federation/v1/query/profile?user_id=…&field=…`
/// (<https://spec.matrix.org/v1.16/server-server-api/#get_matrixfederationv1queryprofile>):
/// a local user's display name and avatar, or just the one `field` asked
/// for. Unknown users (and users of other servers) are 404 `M_NOT_FOUND`.
///
/// The query is read after the signature is checked, so an unsigned
/// request learns nothing, not even whether its query was well formed.
pub async fn query_profile(
    State(homeserver): State<Homeserver>,
    uri: Uri,
    _request: FederationRequest,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = Query::<ProfileQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError::missing_param(e.body_text()))?;
    let user_id: UserId = query
        .user_id
        .parse()
        .map_err(|e| ApiError::invalid_param(format!("invalid user_id: {e}")))?;
    if user_id.server_name() != homeserver.config().server_name {
        return Err(ApiError::not_found(format!(
            "{user_id} is not a user of this server"
        )));
    }
    let lookup = user_id.clone();
    let profile = homeserver
        .store(move |store| match store.account(&lookup)? {
            Some(_) => store.profile(&lookup).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no such user: {user_id}")))?;
    let mut body = Map::new();
    let wanted = |name: &str| query.field.as_deref().is_none_or(|field| field == name);
    if let Some(displayname) = profile.displayname.filter(|_| wanted("displayname")) {
        body.insert("displayname".to_owned(), json!(displayname));
    }
    if let Some(avatar_url) = profile.avatar_url.filter(|_| wanted("avatar_url")) {
        body.insert("avatar_url".to_owned(), json!(avatar_url));
    }
    Ok(Json(Value::Object(body)))
}
