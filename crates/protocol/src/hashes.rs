//! Content hashes, reference hashes and event IDs
//! (<https://spec.matrix.org/v1.16/server-server-api/#calculating-the-content-hash-for-an-event>,
//! <https://spec.matrix.org/v1.16/server-server-api/#calculating-the-reference-hash-for-an-event>).
//!
//! An event carries two hashes with two jobs:
//!
//! - the **content hash** (`hashes.sha256`) covers the whole event, message
//!   body included. A server that receives an event whose content does not
//!   match keeps only the redacted form: someone tampered with it.
//! - the **reference hash** covers the *redacted* event, and in room v4+ it
//!   *is* the event ID. Redacting an event later does not change its ID, so
//!   the graph of `prev_events` stays intact.

use crate::canonical_json::{self, CanonicalJsonError};
use crate::ids::EventId;
use crate::{JsonObject, base64, redaction};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 of the canonical JSON of `object`.
fn sha256_of_canonical(object: JsonObject) -> Result<[u8; 32], CanonicalJsonError> {
    let text = canonical_json::encode(&Value::Object(object))?;
    Ok(Sha256::digest(text.as_bytes()).into())
}

/// The content hash: the event without `unsigned`, `signatures` and `hashes`.
pub fn content_hash(event: &JsonObject) -> Result<[u8; 32], CanonicalJsonError> {
    let mut copy = event.clone();
    for key in ["unsigned", "signatures", "hashes"] {
        copy.remove(key);
    }
    sha256_of_canonical(copy)
}

/// The reference hash: the redacted event without `signatures` and `unsigned`.
pub fn reference_hash(event: &JsonObject) -> Result<[u8; 32], CanonicalJsonError> {
    let mut redacted = redaction::redact(event);
    redacted.remove("signatures");
    redacted.remove("unsigned");
    sha256_of_canonical(redacted)
}

/// The room v4+ event ID: `$` and the URL-safe unpadded base64 of the
/// reference hash.
pub fn event_id(event: &JsonObject) -> Result<EventId, CanonicalJsonError> {
    let hash = reference_hash(event)?;
    let id = format!("${}", base64::encode_url_safe(hash));
    // A `$` followed by base64 always parses; fall back loudly if not.
    Ok(id.parse().unwrap_or_else(|e| unreachable!("{id}: {e}")))
}

/// What an event claims its content hash is, against what it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContentHashCheck {
    /// `hashes.sha256` as the event carries it, if it does.
    pub claimed: Option<String>,
    /// The hash computed from the event, unpadded base64.
    pub computed: String,
}

impl ContentHashCheck {
    /// Computes the hash of `event` and reads the one it claims.
    pub fn of(event: &JsonObject) -> Result<Self, CanonicalJsonError> {
        let claimed = event
            .get("hashes")
            .and_then(|hashes| hashes.get("sha256"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            claimed,
            computed: base64::encode(content_hash(event)?),
        })
    }

    /// True when the claim exists and matches. The claim is compared after
    /// decoding, so a padded claim is as good as an unpadded one.
    pub fn matches(&self) -> bool {
        let Some(claimed) = &self.claimed else {
            return false;
        };
        base64::decode(claimed).ok() == base64::decode(&self.computed).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> JsonObject {
        match value {
            Value::Object(object) => object,
            _ => panic!("test events are objects"),
        }
    }

    /// The content hashes of the spec's two signed-event examples.
    #[test]
    fn spec_content_hashes() {
        let minimal = object(
            json!({"room_id":"!x:domain","sender":"@a:domain","origin":"domain",
            "origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},
            "prev_events":[],"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}),
        );
        assert_eq!(
            base64::encode(content_hash(&minimal).unwrap()),
            "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
        );
        let message = object(json!({"content":{"body":"Here is the message content"},
            "event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"type":"m.room.message",
            "room_id":"!r:domain","sender":"@u:domain","signatures":{},"unsigned":{"age_ts":1000000}}));
        assert_eq!(
            base64::encode(content_hash(&message).unwrap()),
            "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
        );
    }

    /// Redacting an event must not change its ID: that is the point of
    /// hashing the redacted form.
    #[test]
    fn event_id_survives_redaction() {
        let event = object(
            json!({"type": "m.room.message", "room_id": "!r:a", "sender": "@u:a",
            "content": {"body": "hello"}, "depth": 1, "prev_events": [], "auth_events": [],
            "origin_server_ts": 5, "hashes": {"sha256": "x"}, "signatures": {"a": {"ed25519:1": "s"}},
            "unsigned": {"age": 1}}),
        );
        let redacted = redaction::redact(&event);
        assert_eq!(event_id(&event).unwrap(), event_id(&redacted).unwrap());
        let mut edited = event.clone();
        edited.insert("depth".into(), json!(2));
        assert_ne!(event_id(&event).unwrap(), event_id(&edited).unwrap());
    }

    #[test]
    fn event_ids_are_url_safe_and_43_characters() {
        let id = event_id(&object(json!({"type": "x", "content": {}}))).unwrap();
        assert_eq!(id.as_str().len(), 44);
        assert!(!id.as_str().contains(['+', '/', '=']));
    }

    #[test]
    fn content_hash_check_reports_tampering() {
        let mut event = object(json!({"type": "m.room.message", "content": {"body": "original"}}));
        let check = ContentHashCheck::of(&event).unwrap();
        assert!(!check.matches(), "no claim yet");
        event.insert("hashes".into(), json!({"sha256": check.computed}));
        assert!(ContentHashCheck::of(&event).unwrap().matches());
        event.insert("content".into(), json!({"body": "tampered"}));
        assert!(!ContentHashCheck::of(&event).unwrap().matches());
    }
}
