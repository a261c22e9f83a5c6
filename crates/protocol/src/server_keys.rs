//! A server's published keys: the document at `/_matrix/key/v2/server`
//! (<https://spec.matrix.org/v1.16/server-server-api/#retrieving-server-keys>).
//!
//! Every signature in Matrix is checked against a key its server publishes:
//!
//! ```text
//! {"server_name": "a.lab",
//!  "verify_keys": {"ed25519:1": {"key": "<base64 public key>"}},
//!  "old_verify_keys": {},
//!  "valid_until_ts": 1610086400000,
//!  "signatures": {"a.lab": {"ed25519:1": "…"}}}
//! ```
//!
//! The document signs itself with the keys it lists. That proves the
//! publisher holds the private keys, not who the publisher is: in real
//! Matrix, TLS (or a notary server vouching for what it saw) ties the
//! document to the name. `valid_until_ts` says how long others may cache
//! it. Keys expire so that a server can rotate them (after a leak, say)
//! and others notice within a bounded time; `old_verify_keys` keeps retired
//! keys so that events signed long ago still verify.
//!
//! Pure, like the rest of this crate: the caller supplies "now".

use crate::JsonObject;
use crate::ids::{KeyId, ServerName};
use crate::signing::{SignatureError, SigningKey, VerifyKey, sign_json, verify_json};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Why a peer's key document cannot be trusted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServerKeysError {
    #[error("the key document is malformed: {0}")]
    Malformed(String),
    #[error("the key document is for {got}, not {expected}")]
    WrongServer { expected: ServerName, got: String },
    #[error("the key document expired at {valid_until_ts} (now is {now_ms})")]
    Expired { valid_until_ts: u64, now_ms: u64 },
    #[error("the key document is not signed by any key it lists")]
    NotSelfSigned,
    #[error("the key document's self-signature does not verify: {0}")]
    BadSignature(SignatureError),
}

/// The longest a peer's keys are trusted after we fetched them, whatever
/// `valid_until_ts` it announces: 7 days, the spec's rule for room
/// versions 5 and later
/// (<https://spec.matrix.org/v1.16/rooms/v5/#signing-key-validity-period>).
/// Without the cap a server could publish `valid_until_ts` far in the
/// future and, should its key leak, the stolen key would be trusted by
/// everyone who cached it for as long as the thief likes.
pub const MAX_KEY_VALIDITY_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// A retired key: valid for events signed before `expired_ts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldVerifyKey {
    pub key: VerifyKey,
    pub expired_ts: u64,
}

/// A peer's keys, after its document was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeys {
    pub server_name: ServerName,
    pub verify_keys: BTreeMap<KeyId, VerifyKey>,
    pub old_verify_keys: BTreeMap<KeyId, OldVerifyKey>,
    pub valid_until_ts: u64,
}

/// Our own key document, signed with `key`, cacheable until `valid_until_ts`.
pub fn signed_key_document(
    key: &SigningKey,
    valid_until_ts: u64,
) -> Result<JsonObject, SignatureError> {
    let document = json!({
        "server_name": key.server_name(),
        "verify_keys": { key.key_id().as_str(): { "key": key.verify_key().to_base64() } },
        "old_verify_keys": {},
        "valid_until_ts": valid_until_ts,
    });
    let mut document = match document {
        Value::Object(object) => object,
        _ => unreachable!("json! of an object literal is an object"),
    };
    sign_json(&mut document, key)?;
    Ok(document)
}

impl ServerKeys {
    /// Checks a document fetched from `expected`: it names `expected`, it
    /// has not expired at `now_ms`, and every signature it carries from
    /// `expected` under a key it lists verifies (at least one must).
    ///
    /// The effective `valid_until_ts` is capped at `now_ms` +
    /// [`MAX_KEY_VALIDITY_MS`]: the document still verifies with the value
    /// it signed, but we refetch within a week at the latest.
    pub fn from_document(
        document: &Value,
        expected: &ServerName,
        now_ms: u64,
    ) -> Result<Self, ServerKeysError> {
        let malformed = |what: &str| ServerKeysError::Malformed(what.to_owned());
        let object = document
            .as_object()
            .ok_or_else(|| malformed("not a JSON object"))?;
        let server_name = object
            .get("server_name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("`server_name` is missing"))?;
        if server_name != expected.as_str() {
            return Err(ServerKeysError::WrongServer {
                expected: expected.clone(),
                got: server_name.to_owned(),
            });
        }
        let valid_until_ts = object
            .get("valid_until_ts")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed("`valid_until_ts` is missing or not an integer"))?;
        if valid_until_ts <= now_ms {
            return Err(ServerKeysError::Expired {
                valid_until_ts,
                now_ms,
            });
        }
        let verify_keys = keys(object, "verify_keys")?
            .into_iter()
            .map(|(id, (key, _))| (id, key))
            .collect();
        let old_verify_keys = keys(object, "old_verify_keys")?
            .into_iter()
            .map(|(id, (key, expired_ts))| {
                let expired_ts = expired_ts
                    .ok_or_else(|| malformed("an old verify key has no integer `expired_ts`"))?;
                Ok((id, OldVerifyKey { key, expired_ts }))
            })
            .collect::<Result<_, ServerKeysError>>()?;
        let keys = Self {
            server_name: expected.clone(),
            verify_keys,
            old_verify_keys,
            valid_until_ts: valid_until_ts.min(now_ms.saturating_add(MAX_KEY_VALIDITY_MS)),
        };
        keys.check_self_signature(object)?;
        Ok(keys)
    }

    fn check_self_signature(&self, document: &JsonObject) -> Result<(), ServerKeysError> {
        let signed_with: Vec<&str> = document
            .get("signatures")
            .and_then(|s| s.get(self.server_name.as_str()))
            .and_then(Value::as_object)
            .map(|by_key| by_key.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut verified = 0;
        for (key_id, key) in &self.verify_keys {
            if signed_with.contains(&key_id.as_str()) {
                verify_json(document, self.server_name.as_str(), key_id, key)
                    .map_err(ServerKeysError::BadSignature)?;
                verified += 1;
            }
        }
        if verified == 0 {
            return Err(ServerKeysError::NotSelfSigned);
        }
        Ok(())
    }

    /// The key to check a *request* with: only current keys count.
    pub fn request_key(&self, key_id: &KeyId) -> Option<&VerifyKey> {
        self.verify_keys.get(key_id)
    }

    /// The key to check an *event* signed at `origin_server_ts` with:
    /// current keys, or old keys retired after the event was signed.
    pub fn event_key(&self, key_id: &KeyId, origin_server_ts: u64) -> Option<&VerifyKey> {
        self.verify_keys.get(key_id).or_else(|| {
            self.old_verify_keys
                .get(key_id)
                .filter(|old| origin_server_ts < old.expired_ts)
                .map(|old| &old.key)
        })
    }
}

/// `{"ed25519:1": {"key": "…", "expired_ts": …}}` → key ID → (key, expired_ts).
fn keys(
    object: &JsonObject,
    field: &str,
) -> Result<BTreeMap<KeyId, (VerifyKey, Option<u64>)>, ServerKeysError> {
    let Some(entries) = object.get(field) else {
        return Ok(BTreeMap::new());
    };
    let entries = entries
        .as_object()
        .ok_or_else(|| ServerKeysError::Malformed(format!("`{field}` is not an object")))?;
    let mut keys = BTreeMap::new();
    for (id, entry) in entries {
        let bad = |reason: String| ServerKeysError::Malformed(format!("{field}.{id}: {reason}"));
        let key_id: KeyId = id.parse().map_err(|e| bad(format!("{e}")))?;
        if key_id.algorithm() != "ed25519" {
            continue; // other algorithms are not ours to check
        }
        let key = entry
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `key` string".into()))
            .and_then(|text| VerifyKey::from_base64(text).map_err(|e| bad(e.to_string())))?;
        let expired_ts = entry.get("expired_ts").and_then(Value::as_u64);
        keys.insert(key_id, (key, expired_ts));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests;
