//! Exercise 3: signing and verifying.
//!
//! A signature proves which server vouched for an object. Write the four
//! functions below: sign a JSON object, verify one, and do both for events,
//! whose signature covers their *redacted* form. The spec's recipe:
//! <https://spec.matrix.org/v1.16/appendices/#signing-json> and
//! <https://spec.matrix.org/v1.16/server-server-api/#signing-events>.
//!
//! You may use `lostfound_protocol::canonical_json::encode` (exercise 1),
//! `lostfound_protocol::hashes::content_hash` (exercise 2),
//! `lostfound_protocol::redaction::redact` and `lostfound_protocol::base64`,
//! and `ed25519_dalek` for the cryptography. Using
//! `lostfound_protocol::signing` would be answering with the answer.
//!
//! Grade it with `lostfound grade` (or
//! `cargo test -p ex03-signing --features graded`).

use serde_json::Value;

/// Why signing or verification failed. (Given: you only construct it.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SigningError {
    /// The object or event is not a JSON object.
    #[error("only JSON objects can be signed")]
    NotAnObject,
    /// The object has no canonical JSON form; carries the encoder's message.
    #[error("the object has no canonical form: {0}")]
    NotCanonical(String),
    /// `signatures` exists but is not an object of objects.
    #[error("`signatures` must be an object of objects of strings")]
    MalformedSignatures,
    /// The public key is not base64, not 32 bytes, or not an ed25519 key.
    #[error("not an ed25519 public key: {0}")]
    BadPublicKey(String),
    /// No signature from this server with this key ID.
    #[error("no signature from {server_name} with key {key_id}")]
    MissingSignature { server_name: String, key_id: String },
    /// A signature is there but does not verify (or is not even 64 bytes of
    /// base64): the signed fields changed, or another key signed.
    #[error("the signature from {server_name} with key {key_id} does not verify")]
    BadSignature { server_name: String, key_id: String },
}

/// Returns a copy of `object` signed by `server_name`'s key `key_id`,
/// whose ed25519 private key is made from the 32-byte `seed`.
///
/// Recipe: remove `signatures` and `unsigned` from a copy, encode it as
/// canonical JSON, sign those bytes, and file the unpadded standard base64
/// signature at `signatures[server_name][key_id]` of the returned object.
/// Keep every signature already there (other servers', or this server's
/// other keys), and keep `unsigned` as it was: it is not signed, but it is
/// not deleted either. A `signatures` that is not an object of objects is
/// [`SigningError::MalformedSignatures`].
pub fn sign_json(
    object: &Value,
    server_name: &str,
    key_id: &str,
    seed: &[u8; 32],
) -> Result<Value, SigningError> {
    let _ = (object, server_name, key_id, seed);
    todo!(
        "drop signatures/unsigned from a copy, canonical-encode, sign with \
         ed25519_dalek::SigningKey::from_bytes(seed), add the base64 signature to a copy of the \
         original under signatures[server_name][key_id]"
    )
}

/// Checks `server_name`'s signature with `key_id` on `object`, against
/// the server's published public key (`public_key`, unpadded base64 of 32
/// bytes, as `/_matrix/key/v2/server` lists it).
///
/// The bytes checked are the ones [`sign_json`] signed: the canonical JSON
/// of the object without `signatures` and `unsigned`. Errors, in the order
/// to check them: [`SigningError::NotAnObject`],
/// [`SigningError::BadPublicKey`], [`SigningError::MissingSignature`],
/// [`SigningError::BadSignature`] (also for a signature that is not valid
/// base64 or not 64 bytes).
pub fn verify_json(
    object: &Value,
    server_name: &str,
    key_id: &str,
    public_key: &str,
) -> Result<(), SigningError> {
    let _ = (object, server_name, key_id, public_key);
    todo!(
        "decode the public key, find signatures[server_name][key_id], decode it, and verify it \
         over the canonical JSON of the object without signatures/unsigned"
    )
}

/// Returns `event` hashed and signed the way its origin server sends it:
/// first set `hashes` to `{"sha256": <content hash>}` (exercise 2), then
/// sign the *redacted* event with [`sign_json`], then copy the redacted
/// copy's `signatures` onto the full event. The message body is covered by
/// the content hash, and the content hash by the signature.
pub fn sign_event(
    event: &Value,
    server_name: &str,
    key_id: &str,
    seed: &[u8; 32],
) -> Result<Value, SigningError> {
    let _ = (event, server_name, key_id, seed);
    todo!("set hashes.sha256, redact, sign_json the redacted copy, copy its signatures back")
}

/// Checks the origin server's signature on `event`: [`verify_json`] on its
/// redacted form. (A body changed in transit still passes this check; the
/// content hash is what catches it.)
pub fn verify_event(
    event: &Value,
    server_name: &str,
    key_id: &str,
    public_key: &str,
) -> Result<(), SigningError> {
    let _ = (event, server_name, key_id, public_key);
    todo!("redact the event and verify_json the redacted copy")
}
