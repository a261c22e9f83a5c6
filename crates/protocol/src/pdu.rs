//! The room v10 PDU ("persistent data unit"): one event in a room's graph
//! (<https://spec.matrix.org/v1.16/rooms/v10/#event-format>).
//!
//! A [`Pdu`] is always a *checked* event: it parsed, its numbers are
//! canonical, it is within the 65,536-byte limit, and its event ID has been
//! computed from its reference hash. It keeps the JSON it came from, unknown
//! keys included, because the hashes cover every key, known or not.
//!
//! Room v4+ PDUs carry no `event_id` field: every server recomputes it.

use crate::canonical_json::{self, CanonicalJsonError};
use crate::hashes::{self, ContentHashCheck};
use crate::ids::{EventId, KeyId, RoomId, ServerName, UserId};
use crate::signing::{self, SignatureError, SigningKey, VerifyKey};
use crate::{JsonObject, redaction};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The spec's size limit for a PDU, in bytes of canonical JSON.
pub const MAX_PDU_BYTES: usize = 65_536;

/// Why JSON is not a room v10 PDU.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PduError {
    #[error("an event must be a JSON object")]
    NotAnObject,
    #[error(transparent)]
    Canonical(#[from] CanonicalJsonError),
    #[error("event is {0} bytes as canonical JSON; the limit is 65536")]
    TooLarge(usize),
    #[error("missing or invalid field: {0}")]
    Field(String),
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// The typed view of the fields the protocol reads. Unknown keys stay in
/// [`Pdu::json`]; they are not dropped.
#[derive(Debug, Clone, PartialEq)]
struct Fields {
    auth_events: Vec<EventId>,
    content: JsonObject,
    depth: u64,
    origin: Option<ServerName>,
    origin_server_ts: u64,
    prev_events: Vec<EventId>,
    redacts: Option<EventId>,
    room_id: RoomId,
    sender: UserId,
    state_key: Option<String>,
    event_type: String,
}

impl Fields {
    /// Reads each field on its own so that an error names the field.
    fn read(json: &JsonObject) -> Result<Self, PduError> {
        let fields = Self {
            auth_events: required(json, "auth_events")?,
            content: required(json, "content")?,
            depth: required(json, "depth")?,
            origin: optional(json, "origin")?,
            origin_server_ts: required(json, "origin_server_ts")?,
            prev_events: required(json, "prev_events")?,
            redacts: redacts_of(json),
            room_id: required(json, "room_id")?,
            sender: required(json, "sender")?,
            state_key: optional(json, "state_key")?,
            event_type: required(json, "type")?,
        };
        // The spec's size limits: `type` and `state_key` at most 255 bytes.
        let too_long = |name: &str, value: &str| {
            (value.len() > MAX_TYPE_OR_STATE_KEY_BYTES).then(|| {
                PduError::Field(format!("{name}: {} bytes; the limit is 255", value.len()))
            })
        };
        if let Some(error) = too_long("type", &fields.event_type).or_else(|| {
            fields
                .state_key
                .as_deref()
                .and_then(|key| too_long("state_key", key))
        }) {
            return Err(error);
        }
        Ok(fields)
    }
}

/// The spec's limit on `type` and `state_key`, in bytes.
pub const MAX_TYPE_OR_STATE_KEY_BYTES: usize = 255;

/// `redacts` means something only on `m.room.redaction` events; elsewhere
/// it is an unknown key like any other. Even there, a malformed value does
/// not make the event invalid (Synapse accepts it too): redaction strips the
/// key, so it is not part of the event ID, and the redaction simply
/// redacts nothing.
fn redacts_of(json: &JsonObject) -> Option<EventId> {
    if json.get("type").and_then(Value::as_str) != Some("m.room.redaction") {
        return None;
    }
    json.get("redacts")?.as_str()?.parse().ok()
}

fn required<T: DeserializeOwned>(json: &JsonObject, key: &str) -> Result<T, PduError> {
    let value = json
        .get(key)
        .ok_or_else(|| PduError::Field(format!("{key}: missing")))?;
    T::deserialize(value).map_err(|e| PduError::Field(format!("{key}: {e}")))
}

fn optional<T: DeserializeOwned>(json: &JsonObject, key: &str) -> Result<Option<T>, PduError> {
    match json.get(key) {
        None => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|e| PduError::Field(format!("{key}: {e}"))),
    }
}

/// A checked room v10 event.
#[derive(Debug, Clone, PartialEq)]
pub struct Pdu {
    json: JsonObject,
    fields: Fields,
    event_id: EventId,
}

impl Pdu {
    /// Checks `value` and computes its event ID.
    pub fn from_json(value: Value) -> Result<Self, PduError> {
        let Value::Object(json) = value else {
            return Err(PduError::NotAnObject);
        };
        let size = canonical_json::encode(&Value::Object(json.clone()))?.len();
        if size > MAX_PDU_BYTES {
            return Err(PduError::TooLarge(size));
        }
        let fields = Fields::read(&json)?;
        let event_id = hashes::event_id(&json)?;
        Ok(Self {
            json,
            fields,
            event_id,
        })
    }

    /// Parses JSON text into a PDU.
    pub fn from_json_str(text: &str) -> Result<Self, PduError> {
        Self::from_json(canonical_json::parse(text)?)
    }

    /// The event ID, computed from the reference hash.
    pub fn event_id(&self) -> &EventId {
        &self.event_id
    }
    pub fn room_id(&self) -> &RoomId {
        &self.fields.room_id
    }
    pub fn sender(&self) -> &UserId {
        &self.fields.sender
    }
    /// The event type, such as `m.room.message` (`type` in JSON).
    pub fn event_type(&self) -> &str {
        &self.fields.event_type
    }
    /// Present on state events, even when empty (`""`).
    pub fn state_key(&self) -> Option<&str> {
        self.fields.state_key.as_deref()
    }
    pub fn is_state(&self) -> bool {
        self.fields.state_key.is_some()
    }
    pub fn content(&self) -> &JsonObject {
        &self.fields.content
    }
    /// The events this one follows: its parents in the room graph.
    pub fn prev_events(&self) -> &[EventId] {
        &self.fields.prev_events
    }
    /// The state events that authorise this one.
    pub fn auth_events(&self) -> &[EventId] {
        &self.fields.auth_events
    }
    pub fn depth(&self) -> u64 {
        self.fields.depth
    }
    pub fn origin_server_ts(&self) -> u64 {
        self.fields.origin_server_ts
    }
    pub fn origin(&self) -> Option<&ServerName> {
        self.fields.origin.as_ref()
    }
    pub fn redacts(&self) -> Option<&EventId> {
        self.fields.redacts.as_ref()
    }
    /// `content.membership` of an `m.room.member` event.
    pub fn membership(&self) -> Option<&str> {
        (self.event_type() == "m.room.member")
            .then(|| self.content().get("membership").and_then(Value::as_str))
            .flatten()
    }

    /// The event as JSON, exactly as received or built.
    pub fn json(&self) -> &JsonObject {
        &self.json
    }
    pub fn into_json(self) -> JsonObject {
        self.json
    }

    /// The canonical JSON text of the whole event.
    pub fn canonical_json(&self) -> String {
        // Checked in `from_json`, so encoding cannot fail here.
        canonical_json::encode(&Value::Object(self.json.clone())).unwrap_or_default()
    }

    /// Claimed against computed content hash.
    pub fn content_hash_check(&self) -> ContentHashCheck {
        ContentHashCheck::of(&self.json).unwrap_or_else(|e| unreachable!("checked at parse: {e}"))
    }

    /// The redacted form of this event, itself a valid PDU with the same ID.
    pub fn redacted(&self) -> Pdu {
        let json = redaction::redact(&self.json);
        let fields = Fields {
            content: JsonObject::new(),
            ..self.fields.clone()
        };
        let content = json
            .get("content")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Pdu {
            fields: Fields { content, ..fields },
            json,
            event_id: self.event_id.clone(),
        }
    }

    /// Checks `server`'s signature on this event.
    pub fn verify_signature(
        &self,
        server: &ServerName,
        key_id: &KeyId,
        key: &VerifyKey,
    ) -> Result<(), SignatureError> {
        signing::verify_event_signature(&self.json, server, key_id, key)
    }
}

/// Builds an event the way a server creates one: fill the fields, then
/// hash and sign with the server's key. Its `origin` is the key's server.
#[derive(Debug, Clone)]
pub struct PduBuilder {
    json: JsonObject,
}

impl PduBuilder {
    /// A non-state event with no parents at depth 1; set the rest below.
    pub fn new(room_id: RoomId, sender: UserId, event_type: &str, content: Value) -> Self {
        let json = json!({
            "room_id": room_id,
            "sender": sender,
            "type": event_type,
            "content": content,
            "prev_events": [],
            "auth_events": [],
            "depth": 1,
            "origin_server_ts": 0,
        });
        let Value::Object(json) = json else {
            unreachable!("json! of an object")
        };
        Self { json }
    }

    fn set(mut self, key: &str, value: Value) -> Self {
        self.json.insert(key.to_owned(), value);
        self
    }

    pub fn state_key(self, state_key: &str) -> Self {
        self.set("state_key", json!(state_key))
    }
    pub fn prev_events(self, prev_events: impl IntoIterator<Item = EventId>) -> Self {
        self.set(
            "prev_events",
            json!(prev_events.into_iter().collect::<Vec<_>>()),
        )
    }
    pub fn auth_events(self, auth_events: impl IntoIterator<Item = EventId>) -> Self {
        self.set(
            "auth_events",
            json!(auth_events.into_iter().collect::<Vec<_>>()),
        )
    }
    pub fn depth(self, depth: u64) -> Self {
        self.set("depth", json!(depth))
    }
    pub fn origin_server_ts(self, ts: u64) -> Self {
        self.set("origin_server_ts", json!(ts))
    }
    pub fn redacts(self, event_id: &EventId) -> Self {
        self.set("redacts", json!(event_id))
    }
    pub fn unsigned(self, unsigned: Value) -> Self {
        self.set("unsigned", unsigned)
    }
    /// Any other top-level key, for experiments and forged events.
    pub fn extra(self, key: &str, value: Value) -> Self {
        self.set(key, value)
    }

    /// Sets `origin`, fills `hashes`, signs, and checks the result.
    pub fn sign(mut self, key: &SigningKey) -> Result<Pdu, PduError> {
        self.json
            .insert("origin".to_owned(), json!(key.server_name()));
        signing::hash_and_sign_event(&mut self.json, key)?;
        Pdu::from_json(Value::Object(self.json))
    }
}

#[cfg(test)]
mod tests;
