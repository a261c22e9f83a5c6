//! Filters (<https://spec.matrix.org/v1.16/client-server-api/#filtering>):
//! a client tells `/sync` what it wants, either inline (`filter={"room":…}`)
//! or by the ID of a filter it uploaded earlier. Clients such as
//! matrix-nio upload one at startup.
//!
//! **Simplifications.** Of a filter, only `room.timeline.limit` is applied;
//! every other field is accepted and ignored. A filter ID *is* the filter:
//! the unpadded URL-safe base64 of its canonical JSON. So uploading keeps
//! nothing on the server, IDs survive restarts (and restores from backup),
//! and the same filter always gets the same ID. An ID we cannot decode is
//! ignored politely: `/sync` uses the defaults.

use crate::client::params::MatrixPath;
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use axum::Json;
use lostfound_protocol::ids::UserId;
use lostfound_protocol::{JsonObject, base64, canonical_json};
use serde_json::{Value, json};

/// Timeline events per room when the filter says nothing.
pub const DEFAULT_TIMELINE_LIMIT: usize = 20;
/// The most timeline events per room a filter may ask for.
pub const MAX_TIMELINE_LIMIT: usize = 100;

/// `POST /_matrix/client/v3/user/{userId}/filter`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3useruseridfilter>):
/// answers `{"filter_id"}`.
pub async fn create_filter(
    user: Authenticated,
    MatrixPath(user_id): MatrixPath<UserId>,
    MatrixJson(filter): MatrixJson<JsonObject>,
) -> Result<Json<Value>, ApiError> {
    check_owner(&user, &user_id)?;
    let text = canonical_json::encode(&Value::Object(filter))
        .map_err(|e| ApiError::bad_json(e.to_string()))?;
    Ok(Json(json!({ "filter_id": base64::encode_url_safe(text) })))
}

/// `GET /_matrix/client/v3/user/{userId}/filter/{filterId}`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3useruseridfilterfilterid>):
/// the filter, as uploaded.
pub async fn get_filter(
    user: Authenticated,
    MatrixPath((user_id, filter_id)): MatrixPath<(UserId, String)>,
) -> Result<Json<Value>, ApiError> {
    check_owner(&user, &user_id)?;
    decode(&filter_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("there is no filter {filter_id:?}")))
}

/// The timeline limit a `/sync` `filter` parameter asks for.
pub fn timeline_limit(filter: Option<&str>) -> Result<usize, ApiError> {
    let filter = match filter {
        None => return Ok(DEFAULT_TIMELINE_LIMIT),
        Some(inline) if inline.trim_start().starts_with('{') => serde_json::from_str(inline)
            .map_err(|e| ApiError::invalid_param(format!("filter: not JSON: {e}")))?,
        Some(filter_id) => decode(filter_id).unwrap_or(Value::Null),
    };
    let limit = filter
        .pointer("/room/timeline/limit")
        .and_then(Value::as_u64);
    Ok(limit.map_or(DEFAULT_TIMELINE_LIMIT, |limit| {
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .min(MAX_TIMELINE_LIMIT)
    }))
}

fn decode(filter_id: &str) -> Option<Value> {
    let bytes = base64::decode_url_safe(filter_id).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

fn check_owner(user: &Authenticated, owner: &UserId) -> Result<(), ApiError> {
    if &user.user_id == owner {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} may not use the filters of {owner}",
            user.user_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_TIMELINE_LIMIT, timeline_limit};

    #[test]
    fn the_timeline_limit_comes_from_inline_filters_and_filter_ids() {
        assert_eq!(timeline_limit(None), Ok(DEFAULT_TIMELINE_LIMIT));
        assert_eq!(
            timeline_limit(Some(r#"{"room":{"timeline":{"limit":3}}}"#)),
            Ok(3)
        );
        assert_eq!(
            timeline_limit(Some(r#"{"room":{"timeline":{"limit":5000}}}"#)),
            Ok(100)
        );
        let id =
            lostfound_protocol::base64::encode_url_safe(r#"{"room":{"timeline":{"limit":7}}}"#);
        assert_eq!(timeline_limit(Some(&id)), Ok(7));
        assert_eq!(
            timeline_limit(Some("not-one-of-ours")),
            Ok(DEFAULT_TIMELINE_LIMIT)
        );
        assert!(timeline_limit(Some("{oops")).is_err());
    }
}
