//! The room v10 redaction algorithm
//! (<https://spec.matrix.org/v1.16/rooms/v10/#redactions>).
//!
//! Redaction is more than "delete a message". It decides what an event
//! *is*: the reference hash (and so the event ID) and the server's signature
//! are computed over the redacted form. That is why a server can strip a
//! message body, or receive an event whose body was tampered with, and still
//! prove the event's place in the room graph.
//!
//! What survives: a fixed list of top-level keys, and for a few state event
//! types the content keys that authorization depends on.

use crate::JsonObject;
use serde_json::Value;

/// Top-level keys that redaction keeps in room v10 (v10 uses v9's list).
pub const KEPT_TOP_LEVEL_KEYS: &[&str] = &[
    "event_id",
    "type",
    "room_id",
    "sender",
    "state_key",
    "content",
    "hashes",
    "signatures",
    "depth",
    "prev_events",
    "prev_state",
    "auth_events",
    "origin",
    "origin_server_ts",
    "membership",
];

/// Content keys kept for an event type, in room v10.
pub fn kept_content_keys(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "m.room.member" => &["membership", "join_authorised_via_users_server"],
        "m.room.create" => &["creator"],
        "m.room.join_rules" => &["join_rule", "allow"],
        "m.room.power_levels" => &[
            "ban",
            "events",
            "events_default",
            "kick",
            "redact",
            "state_default",
            "users",
            "users_default",
        ],
        "m.room.history_visibility" => &["history_visibility"],
        _ => &[],
    }
}

/// Returns the redacted copy of `event`.
///
/// `content` is always present in the result (an empty object if nothing
/// survives or the event had none), as every implementation writes it.
pub fn redact(event: &JsonObject) -> JsonObject {
    let mut redacted: JsonObject = event
        .iter()
        .filter(|(key, _)| KEPT_TOP_LEVEL_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let event_type = event.get("type").and_then(Value::as_str).unwrap_or("");
    let content = match event.get("content") {
        Some(Value::Object(content)) => redact_content(event_type, content),
        _ => JsonObject::new(),
    };
    redacted.insert("content".to_owned(), Value::Object(content));
    redacted
}

fn redact_content(event_type: &str, content: &JsonObject) -> JsonObject {
    let kept = kept_content_keys(event_type);
    content
        .iter()
        .filter(|(key, _)| kept.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(event: Value, expected: Value) {
        let Value::Object(event) = event else {
            panic!("test events are objects")
        };
        assert_eq!(Value::Object(redact(&event)), expected);
    }

    #[test]
    fn messages_lose_their_body_and_unknown_keys() {
        check(
            json!({"type": "m.room.message", "room_id": "!r:a", "sender": "@u:a", "depth": 3,
                   "content": {"body": "secret", "msgtype": "m.text"},
                   "unsigned": {"age": 5}, "redacts": "$x", "custom": 1,
                   "hashes": {"sha256": "h"}, "signatures": {"a": {}}}),
            json!({"type": "m.room.message", "room_id": "!r:a", "sender": "@u:a", "depth": 3,
                   "content": {}, "hashes": {"sha256": "h"}, "signatures": {"a": {}}}),
        );
    }

    /// Each state type keeps exactly what the auth rules read.
    #[test]
    fn auth_relevant_content_survives() {
        check(
            json!({"type": "m.room.member", "content": {"membership": "join", "displayname": "A",
                   "join_authorised_via_users_server": "@b:a"}}),
            json!({"type": "m.room.member", "content": {"membership": "join",
                   "join_authorised_via_users_server": "@b:a"}}),
        );
        check(
            json!({"type": "m.room.create", "content": {"creator": "@u:a", "room_version": "10", "m.federate": false}}),
            json!({"type": "m.room.create", "content": {"creator": "@u:a"}}),
        );
        check(
            json!({"type": "m.room.join_rules", "content": {"join_rule": "restricted", "allow": [], "x": 1}}),
            json!({"type": "m.room.join_rules", "content": {"join_rule": "restricted", "allow": []}}),
        );
        check(
            json!({"type": "m.room.power_levels", "content": {"ban": 50, "events": {}, "events_default": 0,
                   "invite": 0, "kick": 50, "redact": 50, "state_default": 50, "users": {},
                   "users_default": 0, "notifications": {"room": 50}}}),
            json!({"type": "m.room.power_levels", "content": {"ban": 50, "events": {}, "events_default": 0,
                   "kick": 50, "redact": 50, "state_default": 50, "users": {}, "users_default": 0}}),
        );
        check(
            json!({"type": "m.room.history_visibility", "content": {"history_visibility": "shared", "x": 1}}),
            json!({"type": "m.room.history_visibility", "content": {"history_visibility": "shared"}}),
        );
    }

    #[test]
    fn missing_or_odd_content_becomes_empty() {
        check(
            json!({"type": "m.room.topic"}),
            json!({"type": "m.room.topic", "content": {}}),
        );
        check(
            json!({"type": "x", "content": "text"}),
            json!({"type": "x", "content": {}}),
        );
    }
}
