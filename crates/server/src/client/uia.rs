//! User-interactive authentication (UIA): how an endpoint asks "prove it
//! first" (<https://spec.matrix.org/v1.16/client-server-api/#user-interactive-authentication-api>).
//!
//! The first request arrives without `auth`; the server answers 401 with
//! the *flows* it accepts (lists of *stages*) and a `session` ID. The client
//! completes the stages and repeats the request with
//! `auth: {type, session, ...}`. This server needs one stage per flow:
//! `m.login.dummy` ("nothing to prove") for `/register`, and
//! `m.login.password` ("type your password again") for
//! `/account/password`.
//!
//! Sessions live in memory only ([`UiaSessions`]): a restart forgets the
//! pending ones, and a client whose session is gone simply starts over.
//! Nothing durable is at stake, so nothing goes to the store.

use crate::error::ApiError;
use crate::tokens;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lostfound_protocol::ids::UserId;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A pending session expires after this long (Synapse uses the same).
const SESSION_LIFETIME_MS: u64 = 30 * 60 * 1000;

/// The `auth` object of a request (the spec's "Authentication Data").
/// Fields beyond `type` and `session` belong to particular stages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthData {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub session: Option<String>,
    /// `m.login.password`: who is proving it.
    pub identifier: Option<crate::client::login::UserIdentifier>,
    /// `m.login.password`: the deprecated form of `identifier`.
    pub user: Option<String>,
    /// `m.login.password`: the password.
    pub password: Option<String>,
}

/// What a session was started for: a session handed out by `/register`
/// must not authorise someone's password change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    Register,
    ChangePassword(UserId),
}

/// The pending UIA sessions of one homeserver.
#[derive(Debug, Clone, Default)]
pub struct UiaSessions {
    pending: Arc<Mutex<HashMap<String, (Purpose, u64)>>>,
}

/// The most sessions kept at once; past it, the oldest is forgotten.
const MAX_PENDING_SESSIONS: usize = 10_000;

impl UiaSessions {
    /// Starts a session for `purpose`; also forgets expired ones.
    pub fn start(&self, purpose: Purpose, now_ms: u64) -> Result<String, ApiError> {
        let session = tokens::session_id()?;
        let mut pending = self.lock();
        pending.retain(|_, (_, started)| now_ms.saturating_sub(*started) < SESSION_LIFETIME_MS);
        // Anyone may start sessions without logging in: bound the memory
        // they cost by forgetting the oldest when the table is full.
        if pending.len() >= MAX_PENDING_SESSIONS {
            let oldest = pending
                .iter()
                .min_by_key(|(_, (_, started))| *started)
                .map(|(session, _)| session.clone());
            if let Some(oldest) = oldest {
                pending.remove(&oldest);
            }
        }
        pending.insert(session.clone(), (purpose, now_ms));
        Ok(session)
    }

    /// Whether `session` is pending, unexpired, and was started for `purpose`.
    pub fn is_pending(&self, session: &str, purpose: &Purpose, now_ms: u64) -> bool {
        self.lock()
            .get(session)
            .is_some_and(|(started_for, started)| {
                started_for == purpose && now_ms.saturating_sub(*started) < SESSION_LIFETIME_MS
            })
    }

    /// Ends a session whose request succeeded: it cannot be replayed.
    pub fn finish(&self, session: &str) {
        self.lock().remove(session);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Purpose, u64)>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every change is one call), so a poisoned lock is still usable.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The 401 answer: "complete one of these flows, in this session". With an
/// `error`, it also says why the last attempt failed (a wrong password).
#[derive(Debug, Clone)]
pub struct Challenge {
    pub stage: &'static str,
    pub session: String,
    pub error: Option<ApiError>,
}

impl IntoResponse for Challenge {
    fn into_response(self) -> Response {
        let mut body = json!({
            "flows": [{"stages": [self.stage]}],
            "params": {},
            "session": self.session,
        });
        if let Some(error) = self.error {
            body["errcode"] = json!(error.errcode);
            body["error"] = json!(error.message);
            body["completed"] = json!([]);
        }
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    }
}

/// The error for a `session` this server does not know (expired, already
/// used, never issued, or forgotten by a restart).
pub fn unknown_session() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "M_UNKNOWN",
        "unknown or expired user-interactive auth session: start again without `auth`",
    )
}

/// The error for an auth `type` the flow does not offer.
pub fn unexpected_stage(got: &str, expected: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "M_UNRECOGNIZED",
        format!("auth type {got:?} is not offered here; this endpoint's flow is [{expected:?}]"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_sessions_forgets_the_oldest_and_stays_bounded() {
        let sessions = UiaSessions::default();
        let first = sessions.start(Purpose::Register, 0).unwrap();
        for n in 1..=MAX_PENDING_SESSIONS as u64 {
            sessions.start(Purpose::Register, n).unwrap();
        }
        assert_eq!(sessions.lock().len(), MAX_PENDING_SESSIONS);
        assert!(!sessions.is_pending(&first, &Purpose::Register, 1));
    }
}
