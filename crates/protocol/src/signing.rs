//! ed25519 server keys, and signing and verifying JSON
//! (<https://spec.matrix.org/v1.16/appendices/#signing-json>,
//! <https://spec.matrix.org/v1.16/server-server-api/#signing-events>).
//!
//! A signature proves which server vouched for an object. To sign, a server
//! removes `signatures` and `unsigned`, encodes the rest as canonical JSON,
//! signs those bytes, and files the signature under its name and key ID:
//! `signatures["tomesh.lab"]["ed25519:1"]`.
//!
//! Events are signed in their *redacted* form, so a redacted event still
//! carries a valid signature; the full content is covered by the content
//! hash, which is itself inside the signed, redacted form.

use crate::canonical_json::{self, CanonicalJsonError};
use crate::hashes;
use crate::ids::{KeyId, ServerName};
use crate::{JsonObject, base64, redaction};
use ed25519_dalek::{Signer, Verifier};
use serde_json::{Value, json};

/// Why signing or verification failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    #[error("cannot sign or verify: {0}")]
    Canonical(#[from] CanonicalJsonError),
    #[error("no signature from {entity} with key {key_id}")]
    Missing { entity: String, key_id: String },
    #[error("signature from {entity} with key {key_id} is not valid base64")]
    NotBase64 { entity: String, key_id: String },
    #[error(
        "signature from {entity} with key {key_id} does not verify: signed fields were changed, or another key signed"
    )]
    Invalid { entity: String, key_id: String },
    #[error("`signatures` must be an object of objects of strings")]
    MalformedSignatures,
    #[error("key must be 32 bytes of base64, got {0} bytes")]
    BadKeyLength(usize),
    #[error("key is not valid base64")]
    KeyNotBase64,
    #[error("key is not a valid ed25519 public key")]
    BadPublicKey,
}

/// A server's private signing key, with the name and ID it signs under.
#[derive(Clone)]
pub struct SigningKey {
    server_name: ServerName,
    key_id: KeyId,
    key: ed25519_dalek::SigningKey,
}

/// A server's public key, as published at `/_matrix/key/v2/server`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for SigningKey {
    /// Never prints the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("server_name", &self.server_name)
            .field("key_id", &self.key_id)
            .field("public", &self.verify_key().to_base64())
            .finish()
    }
}

impl SigningKey {
    /// A key from its 32-byte seed. Seeded keys make lab runs reproducible.
    pub fn from_seed(server_name: ServerName, key_id: KeyId, seed: [u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        Self {
            server_name,
            key_id,
            key,
        }
    }

    /// A key from a base64 seed, as Synapse's signing key files hold it.
    pub fn from_seed_base64(
        server_name: ServerName,
        key_id: KeyId,
        seed: &str,
    ) -> Result<Self, SignatureError> {
        let bytes = base64::decode(seed.trim()).map_err(|_| SignatureError::KeyNotBase64)?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SignatureError::BadKeyLength(bytes.len()))?;
        Ok(Self::from_seed(server_name, key_id, seed))
    }

    pub fn server_name(&self) -> ServerName {
        self.server_name.clone()
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.key.verifying_key())
    }

    /// The unpadded base64 signature of `bytes`.
    pub fn sign_bytes(&self, bytes: &[u8]) -> String {
        base64::encode(self.key.sign(bytes).to_bytes())
    }
}

impl VerifyKey {
    /// A public key from unpadded (or padded) base64.
    pub fn from_base64(text: &str) -> Result<Self, SignatureError> {
        let bytes = base64::decode(text.trim()).map_err(|_| SignatureError::KeyNotBase64)?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SignatureError::BadKeyLength(bytes.len()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| SignatureError::BadPublicKey)
    }

    pub fn to_base64(&self) -> String {
        base64::encode(self.0.as_bytes())
    }
}

/// The bytes a signature covers: canonical JSON without `signatures` and `unsigned`.
fn signed_bytes(object: &JsonObject) -> Result<String, CanonicalJsonError> {
    let mut copy = object.clone();
    copy.remove("signatures");
    copy.remove("unsigned");
    canonical_json::encode(&Value::Object(copy))
}

/// Adds `key`'s signature to `object`, keeping any signatures already there.
pub fn sign_json(object: &mut JsonObject, key: &SigningKey) -> Result<(), SignatureError> {
    let signature = key.sign_bytes(signed_bytes(object)?.as_bytes());
    let signatures = object.entry("signatures").or_insert_with(|| json!({}));
    let by_entity = signatures
        .as_object_mut()
        .ok_or(SignatureError::MalformedSignatures)?
        .entry(key.server_name.as_str())
        .or_insert_with(|| json!({}));
    by_entity
        .as_object_mut()
        .ok_or(SignatureError::MalformedSignatures)?
        .insert(key.key_id.to_string(), Value::String(signature));
    Ok(())
}

/// Checks `entity`'s signature with `key_id` on `object`.
pub fn verify_json(
    object: &JsonObject,
    entity: &str,
    key_id: &KeyId,
    key: &VerifyKey,
) -> Result<(), SignatureError> {
    let names = || (entity.to_owned(), key_id.to_string());
    let signature = object
        .get("signatures")
        .and_then(|s| s.get(entity))
        .and_then(|s| s.get(key_id.as_str()))
        .ok_or_else(|| {
            let (entity, key_id) = names();
            SignatureError::Missing { entity, key_id }
        })?;
    let bytes = signature
        .as_str()
        .and_then(|s| base64::decode(s).ok())
        .ok_or_else(|| {
            let (entity, key_id) = names();
            SignatureError::NotBase64 { entity, key_id }
        })?;
    let signature = ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| {
        let (entity, key_id) = names();
        SignatureError::Invalid { entity, key_id }
    })?;
    key.0
        .verify(signed_bytes(object)?.as_bytes(), &signature)
        .map_err(|_| {
            let (entity, key_id) = names();
            SignatureError::Invalid { entity, key_id }
        })
}

/// Fills `hashes.sha256` and adds `key`'s signature, the way a server
/// prepares an event it creates: hash the full event, then sign the
/// redacted form and copy the signature back.
pub fn hash_and_sign_event(event: &mut JsonObject, key: &SigningKey) -> Result<(), SignatureError> {
    let hash = base64::encode(hashes::content_hash(event)?);
    event.insert("hashes".to_owned(), json!({ "sha256": hash }));
    let mut redacted = redaction::redact(event);
    sign_json(&mut redacted, key)?;
    let signatures = redacted.remove("signatures").unwrap_or_else(|| json!({}));
    event.insert("signatures".to_owned(), signatures);
    Ok(())
}

/// Checks a server's signature on an event, which covers its redacted form.
pub fn verify_event_signature(
    event: &JsonObject,
    server: &ServerName,
    key_id: &KeyId,
    key: &VerifyKey,
) -> Result<(), SignatureError> {
    verify_json(&redaction::redact(event), server.as_str(), key_id, key)
}

mod batch;
pub use batch::{EventSignatureCheck, verify_event_signatures};

#[cfg(test)]
mod tests;
