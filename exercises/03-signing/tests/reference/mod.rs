//! The reference answer: the workbench's own signing code in
//! `crates/protocol/src/signing.rs`, behind the exercise's signatures.

use ex03_signing::SigningError;
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::{KeyId, ServerName};
use lostfound_protocol::signing::{self, SignatureError, SigningKey, VerifyKey};
use serde_json::Value;

fn object(value: &Value) -> Result<&JsonObject, SigningError> {
    value.as_object().ok_or(SigningError::NotAnObject)
}

/// Parses the names the protocol crate types; the tests pass only valid ones.
fn names(server_name: &str, key_id: &str) -> (ServerName, KeyId) {
    let server = server_name
        .parse()
        .expect("the tests use valid server names");
    let key_id = key_id.parse().expect("the tests use valid key IDs");
    (server, key_id)
}

fn convert(error: SignatureError, server_name: &str, key_id: &str) -> SigningError {
    let names = || (server_name.to_owned(), key_id.to_owned());
    match error {
        SignatureError::Canonical(error) => SigningError::NotCanonical(error.to_string()),
        SignatureError::MalformedSignatures => SigningError::MalformedSignatures,
        SignatureError::Missing { .. } => {
            let (server_name, key_id) = names();
            SigningError::MissingSignature {
                server_name,
                key_id,
            }
        }
        SignatureError::NotBase64 { .. } | SignatureError::Invalid { .. } => {
            let (server_name, key_id) = names();
            SigningError::BadSignature {
                server_name,
                key_id,
            }
        }
        SignatureError::BadKeyLength(_)
        | SignatureError::KeyNotBase64
        | SignatureError::BadPublicKey => SigningError::BadPublicKey(error.to_string()),
    }
}

fn signing_key(server_name: &str, key_id: &str, seed: &[u8; 32]) -> SigningKey {
    let (server, key_id) = names(server_name, key_id);
    SigningKey::from_seed(server, key_id, *seed)
}

fn verify_key(public_key: &str) -> Result<VerifyKey, SigningError> {
    VerifyKey::from_base64(public_key)
        .map_err(|error| SigningError::BadPublicKey(error.to_string()))
}

pub fn sign_json(
    object_value: &Value,
    server_name: &str,
    key_id: &str,
    seed: &[u8; 32],
) -> Result<Value, SigningError> {
    let mut copy = object(object_value)?.clone();
    signing::sign_json(&mut copy, &signing_key(server_name, key_id, seed))
        .map_err(|error| convert(error, server_name, key_id))?;
    Ok(Value::Object(copy))
}

pub fn verify_json(
    object_value: &Value,
    server_name: &str,
    key_id: &str,
    public_key: &str,
) -> Result<(), SigningError> {
    let object = object(object_value)?;
    let key = verify_key(public_key)?;
    let (_, parsed_key_id) = names(server_name, key_id);
    signing::verify_json(object, server_name, &parsed_key_id, &key)
        .map_err(|error| convert(error, server_name, key_id))
}

pub fn sign_event(
    event: &Value,
    server_name: &str,
    key_id: &str,
    seed: &[u8; 32],
) -> Result<Value, SigningError> {
    let mut copy = object(event)?.clone();
    signing::hash_and_sign_event(&mut copy, &signing_key(server_name, key_id, seed))
        .map_err(|error| convert(error, server_name, key_id))?;
    Ok(Value::Object(copy))
}

pub fn verify_event(
    event: &Value,
    server_name: &str,
    key_id: &str,
    public_key: &str,
) -> Result<(), SigningError> {
    let object = object(event)?;
    let key = verify_key(public_key)?;
    let (server, parsed_key_id) = names(server_name, key_id);
    signing::verify_event_signature(object, &server, &parsed_key_id, &key)
        .map_err(|error| convert(error, server_name, key_id))
}
