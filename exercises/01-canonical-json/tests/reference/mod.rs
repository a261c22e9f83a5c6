//! The reference answer: the workbench's own encoder in
//! `crates/protocol/src/canonical_json.rs`, behind the exercise's signature.

use ex01_canonical_json::CanonicalJsonError;
use lostfound_protocol::canonical_json::{self, CanonicalJsonError as Reference};
use serde_json::Value;

pub fn canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
    canonical_json::encode(value).map_err(|error| match error {
        Reference::Float { value, .. } => CanonicalJsonError::Float(value.to_string()),
        Reference::IntegerOutOfRange { value, .. } => CanonicalJsonError::IntegerOutOfRange(value),
        Reference::Syntax(_) => unreachable!("encode takes a parsed value, never text"),
    })
}
