//! The reference answer: the workbench's own hashes in
//! `crates/protocol/src/hashes.rs`, behind the exercise's signatures.

use ex02_event_id::EventHashError;
use lostfound_protocol::{JsonObject, base64, hashes};
use serde_json::Value;

fn object(event: &Value) -> Result<&JsonObject, EventHashError> {
    event.as_object().ok_or(EventHashError::NotAnObject)
}

pub fn content_hash(event: &Value) -> Result<String, EventHashError> {
    let hash = hashes::content_hash(object(event)?)
        .map_err(|error| EventHashError::NotCanonical(error.to_string()))?;
    Ok(base64::encode(hash))
}

pub fn event_id(event: &Value) -> Result<String, EventHashError> {
    let id = hashes::event_id(object(event)?)
        .map_err(|error| EventHashError::NotCanonical(error.to_string()))?;
    Ok(id.as_str().to_owned())
}
