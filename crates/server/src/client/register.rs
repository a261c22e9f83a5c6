//! Creating accounts (<https://spec.matrix.org/v1.16/client-server-api/#account-registration-and-management>).
//!
//! Registration is the first user-interactive-auth endpoint a client meets:
//! ask without `auth`, get a 401 challenge with a session, answer the
//! `m.login.dummy` stage, get an account. A real server would put a captcha
//! or an e-mail check where `m.login.dummy` is.
//!
//! For the incident, an account is one row in the database: a server
//! restored from a backup has forgotten every account created after it, and
//! no other server can give them back. The user ID is free to be registered
//! again, by anyone (`lostfound scenario … reregister`).

use crate::client::login::create_device;
use crate::client::params::MatrixQuery;
use crate::client::uia;
use crate::client::uia::{AuthData, Challenge, Purpose, UiaSessions};
use crate::error::ApiError;
use crate::extract::MatrixJson;
use crate::state::Homeserver;
use crate::{password, tokens};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use lostfound_protocol::ids::{IdError, ServerName, UserId};
use lostfound_store::Account;
use serde::Deserialize;
use serde_json::{Value, json};

/// Synapse's limit; it also bounds the work one request can ask argon2 for.
pub const MAX_PASSWORD_LEN: usize = 512;

pub fn routes() -> Router<Homeserver> {
    Router::new()
        .route("/_matrix/client/v3/register", post(register))
        .route(
            "/_matrix/client/v3/register/available",
            get(get_username_availability),
        )
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterRequest {
    auth: Option<AuthData>,
    username: Option<String>,
    password: Option<String>,
    device_id: Option<String>,
    initial_device_display_name: Option<String>,
    #[serde(default)]
    inhibit_login: bool,
}

#[derive(Debug, Deserialize)]
pub struct RegisterQuery {
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AvailabilityQuery {
    username: Option<String>,
}

/// `POST /_matrix/client/v3/register`
/// (<https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3register>):
/// creates an account after the `m.login.dummy` stage, and logs it in
/// (unless `inhibit_login`).
///
/// Everything that can be checked before the challenge is (the username's
/// grammar, whether it is taken, the password), as Synapse does, so a
/// client learns "taken" before it bothers with the auth stage.
pub async fn register(
    State(homeserver): State<Homeserver>,
    Extension(sessions): Extension<UiaSessions>,
    MatrixQuery(query): MatrixQuery<RegisterQuery>,
    MatrixJson(request): MatrixJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    match query.kind.as_deref() {
        None | Some("user") => {}
        Some("guest") => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "M_GUEST_ACCESS_FORBIDDEN",
                "guest accounts are not available on this server",
            ));
        }
        Some(other) => return Err(ApiError::invalid_param(format!("unknown kind {other:?}"))),
    }
    ensure_registration_enabled(&homeserver)?;
    let server = homeserver.config().server_name.clone();
    let user_id = match &request.username {
        Some(username) => user_id_for_registration(username, &server)?,
        None => user_id_for_registration(&tokens::localpart()?, &server)?,
    };
    let password = request.password.ok_or_else(|| {
        ApiError::missing_param(
            "a `password` is required: this server logs users in with passwords",
        )
    })?;
    check_new_password(&password)?;
    ensure_available(&homeserver, &user_id).await?;

    // The user-interactive auth step.
    let now = homeserver.now_ms();
    let Some(auth) = request.auth else {
        let session = sessions.start(Purpose::Register, now)?;
        return Ok(Challenge {
            stage: "m.login.dummy",
            session,
            error: None,
        }
        .into_response());
    };
    match auth.kind.as_deref() {
        Some("m.login.dummy") => {}
        Some(other) => return Err(uia::unexpected_stage(other, "m.login.dummy")),
        // Only a session: the client asks where it stands. Still at the start.
        None => {
            let session = auth.session.ok_or_else(uia::unknown_session)?;
            if !sessions.is_pending(&session, &Purpose::Register, now) {
                return Err(uia::unknown_session());
            }
            return Ok(Challenge {
                stage: "m.login.dummy",
                session,
                error: None,
            }
            .into_response());
        }
    }
    // Without a session, the dummy stage completes in a new one at once.
    if let Some(session) = &auth.session {
        if !sessions.is_pending(session, &Purpose::Register, now) {
            return Err(uia::unknown_session());
        }
        sessions.finish(session);
    }

    let account = Account {
        user_id: user_id.clone(),
        password_hash: password::hash(password).await?,
        created_ts: now,
    };
    homeserver
        .store(move |store| store.create_account(&account))
        .await?;
    tracing::info!(user = %user_id, "registered");

    if request.inhibit_login {
        return Ok(Json(json!({ "user_id": user_id })).into_response());
    }
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
    }))
    .into_response())
}

/// `GET /_matrix/client/v3/register/available?username=`
/// (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3registeravailable>):
/// `{"available": true}`, or the error `/register` would give.
pub async fn get_username_availability(
    State(homeserver): State<Homeserver>,
    MatrixQuery(query): MatrixQuery<AvailabilityQuery>,
) -> Result<Json<Value>, ApiError> {
    ensure_registration_enabled(&homeserver)?;
    let username = query
        .username
        .ok_or_else(|| ApiError::missing_param("the `username` query parameter is required"))?;
    let user_id = user_id_for_registration(&username, &homeserver.config().server_name)?;
    ensure_available(&homeserver, &user_id).await?;
    Ok(Json(json!({ "available": true })))
}

/// The user ID a new account with this localpart would get, if the
/// grammar for new accounts allows it: `a-z 0-9 . _ = - / +`, nothing else
/// (no capitals, no Unicode), at most 255 bytes for the whole ID.
///
/// Synapse lowercases the username before checking; we refuse capitals
/// instead, so that the rule is visible.
pub fn user_id_for_registration(username: &str, server: &ServerName) -> Result<UserId, ApiError> {
    if username.is_empty() {
        return Err(ApiError::invalid_username("the username is empty"));
    }
    if !UserId::is_valid_for_registration(username) {
        return Err(ApiError::invalid_username(format!(
            "{username:?} is not a valid username: use only a-z, 0-9 and . _ = - / +"
        )));
    }
    UserId::new(username, server).map_err(|error| match error {
        IdError::TooLong { .. } => {
            ApiError::invalid_username("the user ID would be longer than 255 bytes")
        }
        other => ApiError::invalid_username(other.to_string()),
    })
}

/// New passwords: not empty, at most [`MAX_PASSWORD_LEN`] bytes.
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.is_empty() {
        return Err(ApiError::invalid_param("the password is empty"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_param(format!(
            "the password is longer than {MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

fn ensure_registration_enabled(homeserver: &Homeserver) -> Result<(), ApiError> {
    if homeserver.config().registration_enabled {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "registration is disabled on this server",
        ))
    }
}

async fn ensure_available(homeserver: &Homeserver, user_id: &UserId) -> Result<(), ApiError> {
    let lookup = user_id.clone();
    match homeserver
        .store(move |store| store.account(&lookup))
        .await?
    {
        Some(_) => Err(ApiError::user_in_use(format!("{user_id} is already taken"))),
        None => Ok(()),
    }
}
