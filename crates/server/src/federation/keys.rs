//! Publishing our key, and remembering our peers' keys.
//!
//! `GET /_matrix/key/v2/server` answers with our self-signed key document
//! (<https://spec.matrix.org/v1.16/server-server-api/#publishing-keys>),
//! valid for 24 hours: long enough that peers do not ask on every request,
//! short enough that a rotated key is noticed within a day.
//!
//! The [`KeyRing`] is the other side: the keys of peers, fetched from their
//! own `/_matrix/key/v2/server` through the directory, checked (self-signed,
//! right name, not expired) and kept in memory until their `valid_until_ts`.
//! A restart forgets them; they are fetched again on first use.
//! A key ID the cache lacks triggers a fresh fetch (the peer may have
//! rotated its key); real servers rate-limit such fetches, we do not.
//!
//! Not implemented: notary servers and `/_matrix/key/v2/query`, through
//! which real servers ask a third party for keys of a server that is
//! offline (or that they cannot reach directly). Here, a peer that is down
//! cannot have its signatures checked until it is back: in the lab that
//! is part of what a partition means.

use super::FederationError;
use super::client::FederationClient;
use crate::error::ApiError;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::ids::{KeyId, ServerName};
use lostfound_protocol::server_keys::{ServerKeys, signed_key_document};
use lostfound_protocol::signing::{SigningKey, VerifyKey};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How long others may cache our key document.
pub const KEY_VALIDITY_MS: u64 = 24 * 60 * 60 * 1000;

/// The path of the key document.
pub const SERVER_KEYS_PATH: &str = "/_matrix/key/v2/server";

/// `GET /_matrix/key/v2/server` (and the deprecated
/// `/_matrix/key/v2/server/{keyId}`, which answers the same document):
/// our keys, signed by themselves. No authentication, by design.
pub async fn get_server_keys(
    State(homeserver): State<Homeserver>,
) -> Result<Json<Value>, ApiError> {
    let valid_until_ts = homeserver.now_ms().saturating_add(KEY_VALIDITY_MS);
    let document = signed_key_document(homeserver.signing_key(), valid_until_ts)
        .map_err(|e| ApiError::unknown(format!("cannot sign our key document: {e}")))?;
    Ok(Json(Value::Object(document)))
}

/// Our peers' keys, fetched on demand and cached until they expire.
#[derive(Debug)]
pub struct KeyRing {
    own: ServerKeys,
    cache: Mutex<BTreeMap<ServerName, ServerKeys>>,
}

impl KeyRing {
    /// A key ring that knows our own key without asking anyone.
    pub fn new(own_key: &SigningKey) -> Self {
        let own = ServerKeys {
            server_name: own_key.server_name(),
            verify_keys: BTreeMap::from([(own_key.key_id().clone(), own_key.verify_key())]),
            old_verify_keys: BTreeMap::new(),
            valid_until_ts: u64::MAX,
        };
        Self {
            own,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// The key that must have signed a *request* from `server`.
    pub async fn request_key(
        &self,
        client: &FederationClient,
        server: &ServerName,
        key_id: &KeyId,
        now_ms: u64,
    ) -> Result<VerifyKey, FederationError> {
        self.find(client, server, key_id, now_ms, |keys| {
            keys.request_key(key_id).cloned()
        })
        .await
    }

    /// The key that must have signed an *event* from `server` at
    /// `origin_server_ts` (old, retired keys count for older events).
    pub async fn event_key(
        &self,
        client: &FederationClient,
        server: &ServerName,
        key_id: &KeyId,
        origin_server_ts: u64,
        now_ms: u64,
    ) -> Result<VerifyKey, FederationError> {
        self.find(client, server, key_id, now_ms, |keys| {
            keys.event_key(key_id, origin_server_ts).cloned()
        })
        .await
    }

    /// Looks in the cache first; fetches when the server's keys are not
    /// cached, expired, or lack `key_id` (the server may have rotated).
    async fn find(
        &self,
        client: &FederationClient,
        server: &ServerName,
        key_id: &KeyId,
        now_ms: u64,
        pick: impl Fn(&ServerKeys) -> Option<VerifyKey>,
    ) -> Result<VerifyKey, FederationError> {
        let unknown = || FederationError::UnknownKey {
            server: server.clone(),
            key_id: key_id.to_string(),
        };
        if *server == self.own.server_name {
            return pick(&self.own).ok_or_else(unknown);
        }
        if let Some(key) = self.cached(server, now_ms).as_ref().and_then(&pick) {
            return Ok(key);
        }
        let keys = fetch(client, server, now_ms).await?;
        let key = pick(&keys);
        self.lock().insert(server.clone(), keys);
        key.ok_or_else(unknown)
    }

    fn cached(&self, server: &ServerName, now_ms: u64) -> Option<ServerKeys> {
        self.lock()
            .get(server)
            .filter(|keys| keys.valid_until_ts > now_ms)
            .cloned()
    }

    /// The cache stays usable even if a thread panicked while holding it:
    /// it only ever holds complete entries.
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ServerName, ServerKeys>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Fetches and checks `server`'s key document from the server itself.
async fn fetch(
    client: &FederationClient,
    server: &ServerName,
    now_ms: u64,
) -> Result<ServerKeys, FederationError> {
    let document = client.get_unsigned(server, SERVER_KEYS_PATH).await?;
    ServerKeys::from_document(&document, server, now_ms).map_err(|e| FederationError::BadResponse {
        server: server.clone(),
        reason: e.to_string(),
    })
}
