//! The caller's own account: who am I, and changing my password
//! (<https://spec.matrix.org/v1.16/client-server-api/#account-registration-and-management>).
//!
//! A password change is the purest example of what a restore from backup
//! loses: it lives in one row of one server's database, no other server
//! ever sees it, so no federation can heal it. After a restore the *old*
//! password works again and the new one fails.

use crate::client::login::{check_password, resolve_user};
use crate::client::register::check_new_password;
use crate::client::uia::{self, AuthData, Challenge, Purpose, UiaSessions};
use crate::error::ApiError;
use crate::extract::{Authenticated, MatrixJson};
use crate::password;
use crate::state::Homeserver;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

const STAGE: &str = "m.login.password";

pub fn routes() -> Router<Homeserver> {
    Router::new()
        .route("/_matrix/client/v3/account/whoami", get(whoami))
        .route("/_matrix/client/v3/account/password", post(change_password))
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordRequest {
    new_password: String,
    logout_devices: Option<bool>,
    auth: Option<AuthData>,
}

/// `GET /_matrix/client/v3/account/whoami`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3accountwhoami>):
/// the user and device behind the access token. This server has no guests.
pub async fn whoami(caller: Authenticated) -> Json<Value> {
    Json(json!({
        "user_id": caller.user_id,
        "device_id": caller.device_id,
        "is_guest": false,
    }))
}

/// `POST /_matrix/client/v3/account/password`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3accountpassword>):
/// changes the caller's password after the `m.login.password` stage (the
/// current password, typed again: a stolen access token alone must not be
/// enough to take over the account).
///
/// With `logout_devices` (the default), every other device is logged out;
/// the device making the request stays logged in.
pub async fn change_password(
    State(homeserver): State<Homeserver>,
    Extension(sessions): Extension<UiaSessions>,
    caller: Authenticated,
    MatrixJson(request): MatrixJson<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    check_new_password(&request.new_password)?;
    let purpose = Purpose::ChangePassword(caller.user_id.clone());
    let now = homeserver.now_ms();

    // The user-interactive auth step.
    let Some(auth) = request.auth else {
        let session = sessions.start(purpose, now)?;
        return Ok(Challenge {
            stage: STAGE,
            session,
            error: None,
        }
        .into_response());
    };
    let session = match auth.session.clone() {
        Some(session) if sessions.is_pending(&session, &purpose, now) => session,
        Some(_) => return Err(uia::unknown_session()),
        // The stage may be completed without a session: it starts one.
        None => sessions.start(purpose, now)?,
    };
    match auth.kind.as_deref() {
        Some(STAGE) => {}
        Some(other) => return Err(uia::unexpected_stage(other, STAGE)),
        None => {
            return Ok(Challenge {
                stage: STAGE,
                session,
                error: None,
            }
            .into_response());
        }
    }
    if let Some(error) = check_stage(&homeserver, &caller, auth).await? {
        // Wrong password: the same session may try again.
        return Ok(Challenge {
            stage: STAGE,
            session,
            error: Some(error),
        }
        .into_response());
    }
    sessions.finish(&session);

    let password_hash = password::hash(request.new_password).await?;
    let keep_device = caller.device_id.clone();
    let logout_devices = request.logout_devices.unwrap_or(true);
    let user_id = caller.user_id.clone();
    homeserver
        .store(move |store| {
            store.set_password_hash(&user_id, &password_hash)?;
            if logout_devices {
                store.delete_devices_except(&user_id, Some(&keep_device))?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(user = %caller.user_id, logout_devices, "password changed");
    Ok(Json(json!({})).into_response())
}

/// Checks an `m.login.password` stage: it must name the caller, and carry
/// their current password. `Some(error)` is a failed attempt.
async fn check_stage(
    homeserver: &Homeserver,
    caller: &Authenticated,
    auth: AuthData,
) -> Result<Option<ApiError>, ApiError> {
    let password = auth
        .password
        .ok_or_else(|| ApiError::missing_param("the m.login.password stage needs a `password`"))?;
    let named = resolve_user(homeserver, auth.identifier, auth.user)?;
    if named.as_ref() != Some(&caller.user_id) {
        return Ok(Some(ApiError::forbidden(
            "the auth stage names a different user than the access token",
        )));
    }
    if check_password(homeserver, named, password).await? {
        Ok(None)
    } else {
        Ok(Some(ApiError::forbidden("invalid password")))
    }
}
