//! Logging in and out: passwords in, access tokens out
//! (<https://spec.matrix.org/v1.16/client-server-api/#login>).
//!
//! A login creates a *device*: a device ID and the access token that names
//! it. Every later request carries the token; logging out deletes the
//! device, and with it the token.

use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::state::Homeserver;
use crate::{password, tokens};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use lostfound_protocol::ids::UserId;
use lostfound_store::Device;
use serde::Deserialize;
use serde_json::{Value, json};

/// The one message for a wrong password *and* an unknown user: telling
/// them apart would let anyone probe which accounts exist.
const BAD_CREDENTIALS: &str = "invalid username or password";

/// The longest client-chosen device ID we store.
const MAX_DEVICE_ID_LEN: usize = 255;

pub fn routes() -> Router<Homeserver> {
    Router::new()
        .route("/_matrix/client/v3/login", get(get_login_flows).post(login))
        .route("/_matrix/client/v3/logout", post(logout))
        .route("/_matrix/client/v3/logout/all", post(logout_all))
}

/// Who is logging in: the spec's `identifier` object. Only `m.id.user` is
/// supported (no e-mail or phone identifiers: deliberately absent).
#[derive(Debug, Clone, Deserialize)]
pub struct UserIdentifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub user: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    #[serde(rename = "type")]
    kind: String,
    identifier: Option<UserIdentifier>,
    /// Deprecated since v1.0 in favour of `identifier`; clients still send it.
    user: Option<String>,
    password: Option<String>,
    device_id: Option<String>,
    initial_device_display_name: Option<String>,
}

/// `GET /_matrix/client/v3/login`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3login>):
/// the login types this server accepts. Passwords only.
pub async fn get_login_flows() -> Json<Value> {
    Json(json!({ "flows": [{ "type": "m.login.password" }] }))
}

/// `POST /_matrix/client/v3/login`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3login>):
/// checks a password and creates a device with a fresh access token.
///
/// The user may be a localpart (`alice`) or a full ID (`@alice:tomesh.lab`),
/// in `identifier` or the deprecated top-level `user`. A wrong password and
/// an unknown user get the same 403 `M_FORBIDDEN`.
pub async fn login(
    State(homeserver): State<Homeserver>,
    MatrixJson(request): MatrixJson<LoginRequest>,
) -> Result<Json<Value>, ApiError> {
    if request.kind != "m.login.password" {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "M_UNKNOWN",
            format!(
                "login type {:?} is not supported; use m.login.password",
                request.kind
            ),
        ));
    }
    let password = request
        .password
        .ok_or_else(|| ApiError::missing_param("m.login.password needs a `password`"))?;
    let user_id = resolve_user(&homeserver, request.identifier, request.user)?;
    if !check_password(&homeserver, user_id.clone(), password).await? {
        return Err(ApiError::forbidden(BAD_CREDENTIALS));
    }
    let user_id = user_id.ok_or_else(|| ApiError::forbidden(BAD_CREDENTIALS))?;
    let device = create_device(
        &homeserver,
        user_id,
        request.device_id,
        request.initial_device_display_name,
    )
    .await?;
    Ok(Json(json!({
        "user_id": device.user_id,
        "access_token": device.access_token,
        "device_id": device.device_id,
    })))
}

/// `POST /_matrix/client/v3/logout`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3logout>):
/// deletes the calling device; its token stops working at once.
pub async fn logout(
    State(homeserver): State<Homeserver>,
    caller: Authenticated,
) -> Result<Json<Value>, ApiError> {
    homeserver
        .store(move |store| store.delete_device(&caller.user_id, &caller.device_id))
        .await?;
    Ok(Json(json!({})))
}

/// `POST /_matrix/client/v3/logout/all`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3logoutall>):
/// deletes every device of the caller, this one included.
pub async fn logout_all(
    State(homeserver): State<Homeserver>,
    caller: Authenticated,
) -> Result<Json<Value>, ApiError> {
    homeserver
        .store(move |store| store.delete_devices_except(&caller.user_id, None))
        .await?;
    Ok(Json(json!({})))
}

/// The local user a login names, or `None` if it cannot be one of ours
/// (another server's user, or a malformed name): the caller answers those
/// exactly like a wrong password.
///
/// Registration only allows lowercase localparts, so the name is
/// lowercased first, as Synapse does: `Alice` logs in as `@alice`.
pub fn resolve_user(
    homeserver: &Homeserver,
    identifier: Option<UserIdentifier>,
    user: Option<String>,
) -> Result<Option<UserId>, ApiError> {
    let name = match identifier {
        Some(identifier) if identifier.kind == "m.id.user" => identifier.user,
        Some(identifier) => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "M_UNKNOWN",
                format!(
                    "identifier type {:?} is not supported; use m.id.user",
                    identifier.kind
                ),
            ));
        }
        None => user,
    };
    let name =
        name.ok_or_else(|| ApiError::missing_param("say who is logging in: identifier.user"))?;
    let server = &homeserver.config().server_name;
    let localpart = match name.strip_prefix('@') {
        Some(_) => match name.parse::<UserId>() {
            Ok(full) if &full.server_name() == server => full.localpart().to_owned(),
            _ => return Ok(None),
        },
        None => name,
    };
    Ok(UserId::new(&localpart.to_lowercase(), server).ok())
}

/// Whether `password` is right for `user_id`. Unknown users take as long
/// to say no as known ones (see [`password::verify`]).
pub async fn check_password(
    homeserver: &Homeserver,
    user_id: Option<UserId>,
    password: String,
) -> Result<bool, ApiError> {
    let account = match user_id {
        Some(user_id) => {
            homeserver
                .store(move |store| store.account(&user_id))
                .await?
        }
        None => None,
    };
    password::verify(password, account.map(|account| account.password_hash)).await
}

/// Creates (or replaces) a device of `user_id` with a fresh access token.
/// Reusing a device ID, as the spec allows, invalidates its old token.
pub async fn create_device(
    homeserver: &Homeserver,
    user_id: UserId,
    device_id: Option<String>,
    display_name: Option<String>,
) -> Result<Device, ApiError> {
    let device_id = match device_id.filter(|id| !id.is_empty()) {
        Some(id) if id.len() > MAX_DEVICE_ID_LEN => {
            return Err(ApiError::invalid_param("device_id is too long"));
        }
        Some(id) => id,
        None => tokens::device_id()?,
    };
    let device = Device {
        user_id,
        device_id,
        access_token: tokens::access_token()?,
        display_name,
    };
    let stored = device.clone();
    homeserver
        .store(move |store| store.upsert_device(&stored))
        .await?;
    Ok(device)
}
