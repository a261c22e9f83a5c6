use super::*;

fn key(server: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(
        server.parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [seed; 32],
    )
}

fn name(text: &str) -> ServerName {
    text.parse().unwrap()
}

const NOW: u64 = 1_610_000_000_000;
const DAY: u64 = 24 * 60 * 60 * 1000;

fn document(server: &str, seed: u8) -> Value {
    Value::Object(signed_key_document(&key(server, seed), NOW + DAY).unwrap())
}

#[test]
fn our_document_has_the_spec_shape_and_verifies() {
    let a = key("a.lab", 1);
    let doc = document("a.lab", 1);
    assert_eq!(doc["server_name"], "a.lab");
    assert_eq!(
        doc["verify_keys"]["ed25519:1"]["key"],
        a.verify_key().to_base64()
    );
    assert_eq!(doc["old_verify_keys"], json!({}));
    assert_eq!(doc["valid_until_ts"], NOW + DAY);
    assert!(doc["signatures"]["a.lab"]["ed25519:1"].is_string());

    let keys = ServerKeys::from_document(&doc, &name("a.lab"), NOW).unwrap();
    let key_id = "ed25519:1".parse().unwrap();
    assert_eq!(keys.request_key(&key_id), Some(&a.verify_key()));
    assert_eq!(keys.valid_until_ts, NOW + DAY);
}

#[test]
fn a_document_for_another_server_is_refused() {
    let result = ServerKeys::from_document(&document("c.lab", 1), &name("a.lab"), NOW);
    assert!(matches!(result, Err(ServerKeysError::WrongServer { .. })));
}

#[test]
fn an_expired_document_is_refused() {
    let result = ServerKeys::from_document(&document("a.lab", 1), &name("a.lab"), NOW + DAY);
    assert_eq!(
        result,
        Err(ServerKeysError::Expired {
            valid_until_ts: NOW + DAY,
            now_ms: NOW + DAY
        })
    );
}

#[test]
fn a_changed_or_unsigned_document_is_refused() {
    // Someone swaps in their own key but cannot re-sign with a.lab's.
    let mut swapped = document("a.lab", 1);
    swapped["verify_keys"]["ed25519:1"]["key"] = json!(key("a.lab", 9).verify_key().to_base64());
    let result = ServerKeys::from_document(&swapped, &name("a.lab"), NOW);
    assert!(matches!(result, Err(ServerKeysError::BadSignature(_))));

    let mut longer = document("a.lab", 1);
    longer["valid_until_ts"] = json!(NOW + 365 * DAY);
    let result = ServerKeys::from_document(&longer, &name("a.lab"), NOW);
    assert!(matches!(result, Err(ServerKeysError::BadSignature(_))));

    let mut unsigned = document("a.lab", 1);
    unsigned["signatures"] = json!({});
    let result = ServerKeys::from_document(&unsigned, &name("a.lab"), NOW);
    assert_eq!(result, Err(ServerKeysError::NotSelfSigned));
}

#[test]
fn malformed_documents_say_what_is_wrong() {
    for (doc, needle) in [
        (json!([]), "not a JSON object"),
        (
            json!({"valid_until_ts": NOW + DAY}),
            "`server_name` is missing",
        ),
        (json!({"server_name": "a.lab"}), "`valid_until_ts`"),
        (
            json!({"server_name": "a.lab", "valid_until_ts": NOW + DAY, "verify_keys": {"ed25519:1": {"key": "short"}}}),
            "verify_keys.ed25519:1",
        ),
    ] {
        let error = ServerKeys::from_document(&doc, &name("a.lab"), NOW).unwrap_err();
        assert!(error.to_string().contains(needle), "{error}");
    }
}

#[test]
fn old_keys_verify_only_events_signed_before_they_expired() {
    let old = key("a.lab", 2);
    let mut doc = document("a.lab", 1);
    doc["old_verify_keys"] =
        json!({"ed25519:0": {"key": old.verify_key().to_base64(), "expired_ts": NOW}});
    // Re-sign: the old key entry is part of the signed document.
    let mut object = doc.as_object().unwrap().clone();
    object.remove("signatures");
    sign_json(&mut object, &key("a.lab", 1)).unwrap();
    let keys = ServerKeys::from_document(&Value::Object(object), &name("a.lab"), NOW).unwrap();
    let old_id: KeyId = "ed25519:0".parse().unwrap();
    assert_eq!(keys.event_key(&old_id, NOW - 1), Some(&old.verify_key()));
    assert_eq!(keys.event_key(&old_id, NOW), None);
    assert_eq!(keys.request_key(&old_id), None);
}

#[test]
fn a_key_validity_far_in_the_future_is_capped_at_seven_days() {
    // A year of validity, honestly signed: the document verifies, but we
    // trust its keys for a week at most after fetching them.
    let far = Value::Object(signed_key_document(&key("a.lab", 1), NOW + 365 * DAY).unwrap());
    let keys = ServerKeys::from_document(&far, &name("a.lab"), NOW).unwrap();
    assert_eq!(keys.valid_until_ts, NOW + 7 * DAY);
    assert_eq!(MAX_KEY_VALIDITY_MS, 7 * DAY);

    // A shorter validity is kept as announced.
    let short = ServerKeys::from_document(&document("a.lab", 1), &name("a.lab"), NOW).unwrap();
    assert_eq!(short.valid_until_ts, NOW + DAY);
}
