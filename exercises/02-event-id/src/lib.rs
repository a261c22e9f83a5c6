//! Exercise 2: the content hash and the event ID.
//!
//! Every room v10 event carries two hashes with two jobs. The **content
//! hash** covers the whole event, message body included, and travels inside
//! it as `hashes.sha256`. The **reference hash** covers the *redacted*
//! event, and is the event's ID: `$` followed by its URL-safe base64. Write
//! both. The spec's recipes:
//! <https://spec.matrix.org/v1.16/server-server-api/#calculating-the-content-hash-for-an-event>
//! and the section after it.
//!
//! You may use what earlier exercises built, from the workbench:
//! `lostfound_protocol::canonical_json::encode` (exercise 1),
//! `lostfound_protocol::redaction::redact` (the room v10 redaction
//! algorithm) and `lostfound_protocol::base64::{encode, encode_url_safe}`
//! (unpadded base64), and `sha2::{Digest, Sha256}` for the hash itself.
//! Using `lostfound_protocol::hashes` would be answering with the answer.
//!
//! Grade it with `lostfound grade` (or
//! `cargo test -p ex02-event-id --features graded`).

use serde_json::Value;

/// Why an event has no hash. (Given: you only construct it.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventHashError {
    /// The event is not a JSON object.
    #[error("an event must be a JSON object")]
    NotAnObject,
    /// The event has no canonical JSON form (a float, or an integer out of
    /// range); carries the encoder's message.
    #[error("the event has no canonical form: {0}")]
    NotCanonical(String),
}

/// The content hash of `event`, as unpadded standard base64 (the value of
/// `hashes.sha256`).
///
/// Recipe: take a copy of the event, remove `unsigned`, `signatures` and
/// `hashes` (the hash cannot cover itself, and the other two change in
/// transit), encode the rest as canonical JSON, SHA-256 the bytes, and
/// base64 the 32-byte digest with the standard alphabet and no padding.
pub fn content_hash(event: &Value) -> Result<String, EventHashError> {
    let _ = event;
    todo!(
        "copy the event object, drop unsigned/signatures/hashes, canonical-encode, SHA-256, \
         then unpadded standard base64"
    )
}

/// The room v10 event ID of `event`: `$` followed by the unpadded URL-safe
/// base64 of its reference hash, 44 characters in all.
///
/// Recipe for the reference hash: redact the event (room v10 rules), remove
/// `signatures` and `unsigned` from the redacted copy, encode it as
/// canonical JSON and SHA-256 the bytes. Because the event is redacted
/// first, redacting it later (or tampering with its message body) does not
/// change its ID; because `hashes` survives redaction, the ID still pins
/// the full content.
pub fn event_id(event: &Value) -> Result<String, EventHashError> {
    let _ = event;
    todo!(
        "redact the event, drop signatures/unsigned, canonical-encode, SHA-256, then `$` and \
         unpadded URL-safe base64"
    )
}
