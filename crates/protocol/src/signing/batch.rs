//! Verifying many event signatures at once.
//!
//! A federation transaction carries up to 50 PDUs, each with a signature to
//! check. ed25519 batch verification checks them together at roughly half
//! the cost of one by one. It only answers "all valid" or "not all valid",
//! so when a batch fails we fall back to checking each event, to say which
//! one is bad. The batch randomness is derived from the batch itself (a
//! merlin transcript), so this stays deterministic and free of I/O.

use super::{SignatureError, VerifyKey, signed_bytes};
use crate::ids::{KeyId, ServerName};
use crate::{JsonObject, base64, redaction};

/// One event signature to check: whose, with which key.
#[derive(Debug, Clone, Copy)]
pub struct EventSignatureCheck<'a> {
    pub event: &'a JsonObject,
    pub server: &'a ServerName,
    pub key_id: &'a KeyId,
    pub key: &'a VerifyKey,
}

/// What one event's signature check needs, computed up front.
struct Prepared {
    message: String,
    signature: ed25519_dalek::Signature,
    key: ed25519_dalek::VerifyingKey,
}

/// Checks every signature; the result for `checks[i]` is at index `i`.
pub fn verify_event_signatures(
    checks: &[EventSignatureCheck<'_>],
) -> Vec<Result<(), SignatureError>> {
    let prepared: Vec<Result<Prepared, SignatureError>> = checks.iter().map(prepare).collect();
    let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    let messages: Vec<&[u8]> = ready.iter().map(|p| p.message.as_bytes()).collect();
    let signatures: Vec<_> = ready.iter().map(|p| p.signature).collect();
    let keys: Vec<_> = ready.iter().map(|p| p.key).collect();
    let all_valid = ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
    checks
        .iter()
        .zip(prepared)
        .map(|(check, prepared)| {
            let prepared = prepared?;
            if all_valid {
                return Ok(());
            }
            // The batch failed: find out whether this one is to blame.
            ed25519_dalek::Verifier::verify(
                &prepared.key,
                prepared.message.as_bytes(),
                &prepared.signature,
            )
            .map_err(|_| invalid(check))
        })
        .collect()
}

fn prepare(check: &EventSignatureCheck<'_>) -> Result<Prepared, SignatureError> {
    let redacted = redaction::redact(check.event);
    let signature = redacted
        .get("signatures")
        .and_then(|s| s.get(check.server.as_str()))
        .and_then(|s| s.get(check.key_id.as_str()))
        .ok_or_else(|| SignatureError::Missing {
            entity: check.server.to_string(),
            key_id: check.key_id.to_string(),
        })?;
    let bytes = signature
        .as_str()
        .and_then(|s| base64::decode(s).ok())
        .ok_or_else(|| SignatureError::NotBase64 {
            entity: check.server.to_string(),
            key_id: check.key_id.to_string(),
        })?;
    let signature = ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| invalid(check))?;
    Ok(Prepared {
        message: signed_bytes(&redacted)?,
        signature,
        key: check.key.0,
    })
}

fn invalid(check: &EventSignatureCheck<'_>) -> SignatureError {
    SignatureError::Invalid {
        entity: check.server.to_string(),
        key_id: check.key_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{SigningKey, hash_and_sign_event};
    use serde_json::json;

    fn signed_events(key: &SigningKey, count: usize) -> Vec<JsonObject> {
        (0..count)
            .map(|n| {
                let mut event = json!({"type": "m.room.message", "room_id": "!r:hs.lab", "sender": "@a:hs.lab",
                    "content": {"body": format!("message {n}")}, "depth": n, "prev_events": [], "auth_events": []})
                .as_object()
                .cloned()
                .unwrap_or_default();
                hash_and_sign_event(&mut event, key).unwrap();
                event
            })
            .collect()
    }

    #[test]
    fn a_good_batch_verifies_and_a_bad_event_is_named() {
        let key = SigningKey::from_seed(
            "hs.lab".parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [3; 32],
        );
        let server = key.server_name();
        let verify_key = key.verify_key();
        let mut events = signed_events(&key, 5);
        let check = |events: &[JsonObject]| {
            let checks: Vec<_> = events
                .iter()
                .map(|event| EventSignatureCheck {
                    event,
                    server: &server,
                    key_id: key.key_id(),
                    key: &verify_key,
                })
                .collect();
            verify_event_signatures(&checks)
        };
        assert!(check(&events).iter().all(Result::is_ok));

        events[3].insert("depth".into(), json!(99)); // covered by the signature
        events[1].remove("signatures");
        let results = check(&events);
        let failed: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(failed, [1, 3]);
        assert!(matches!(results[1], Err(SignatureError::Missing { .. })));
        assert!(matches!(results[3], Err(SignatureError::Invalid { .. })));
    }

    #[test]
    fn an_empty_batch_is_fine() {
        assert!(verify_event_signatures(&[]).is_empty());
    }
}
