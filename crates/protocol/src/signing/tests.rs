use super::*;

/// The seed the spec's test vectors are signed with.
const SPEC_SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";

fn spec_key() -> SigningKey {
    SigningKey::from_seed_base64(
        "domain".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        SPEC_SEED,
    )
    .unwrap()
}

fn object(text: &str) -> JsonObject {
    serde_json::from_str(text).unwrap()
}

fn signature_of(object: &JsonObject) -> &str {
    object["signatures"]["domain"]["ed25519:1"]
        .as_str()
        .unwrap()
}

#[test]
fn spec_vector_empty_object() {
    let mut empty = object("{}");
    sign_json(&mut empty, &spec_key()).unwrap();
    assert_eq!(
        signature_of(&empty),
        "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
    );
}

#[test]
fn spec_vector_simple_object() {
    let mut simple = object(r#"{"one": 1, "two": "Two"}"#);
    sign_json(&mut simple, &spec_key()).unwrap();
    assert_eq!(
        signature_of(&simple),
        "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
    );
}

#[test]
fn spec_vector_minimal_event() {
    let mut event = object(
        r#"{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,
            "signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],"auth_events":[],
            "depth":3,"unsigned":{"age_ts":1000000}}"#,
    );
    hash_and_sign_event(&mut event, &spec_key()).unwrap();
    assert_eq!(
        event["hashes"]["sha256"],
        "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
    );
    assert_eq!(
        signature_of(&event),
        "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
    );
    assert_eq!(
        event["unsigned"]["age_ts"], 1000000,
        "unsigned is kept, just not signed"
    );
}

#[test]
fn spec_vector_redactable_event() {
    let mut event = object(
        r#"{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain",
            "origin_server_ts":1000000,"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain",
            "signatures":{},"unsigned":{"age_ts":1000000}}"#,
    );
    hash_and_sign_event(&mut event, &spec_key()).unwrap();
    assert_eq!(
        event["hashes"]["sha256"],
        "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
    );
    assert_eq!(
        signature_of(&event),
        "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
    );
    assert_eq!(event["content"]["body"], "Here is the message content");
}

#[test]
fn verification_catches_tampering_and_wrong_keys() {
    let key = spec_key();
    let mut signed = object(r#"{"one": 1, "two": "Two"}"#);
    sign_json(&mut signed, &key).unwrap();
    let key_id = key.key_id().clone();
    verify_json(&signed, "domain", &key_id, &key.verify_key()).unwrap();

    let mut tampered = signed.clone();
    tampered.insert("two".into(), "Three".into());
    assert!(matches!(
        verify_json(&tampered, "domain", &key_id, &key.verify_key()),
        Err(SignatureError::Invalid { .. })
    ));

    let other = SigningKey::from_seed("domain".parse().unwrap(), key_id.clone(), [9; 32]);
    assert!(verify_json(&signed, "domain", &key_id, &other.verify_key()).is_err());
    assert!(matches!(
        verify_json(&signed, "elsewhere", &key_id, &key.verify_key()),
        Err(SignatureError::Missing { .. })
    ));
}

#[test]
fn unsigned_may_change_without_breaking_the_signature() {
    let key = spec_key();
    let mut signed = object(r#"{"a": 1}"#);
    sign_json(&mut signed, &key).unwrap();
    signed.insert("unsigned".into(), serde_json::json!({"age": 12}));
    verify_json(&signed, "domain", key.key_id(), &key.verify_key()).unwrap();
}

#[test]
fn redacted_event_still_verifies_but_changed_hash_does_not() {
    let key = spec_key();
    let mut event = object(
        r#"{"type":"m.room.message","content":{"body":"hi"},"room_id":"!r:domain","sender":"@u:domain"}"#,
    );
    hash_and_sign_event(&mut event, &key).unwrap();
    let server: ServerName = "domain".parse().unwrap();
    let redacted = redaction::redact(&event);
    verify_event_signature(&redacted, &server, key.key_id(), &key.verify_key()).unwrap();
    // Changing the body leaves the signature valid (body is not signed) but
    // breaks the content hash, which is how receivers notice.
    let mut edited = event.clone();
    edited.insert("content".into(), serde_json::json!({"body": "bye"}));
    verify_event_signature(&edited, &server, key.key_id(), &key.verify_key()).unwrap();
    assert!(!hashes::ContentHashCheck::of(&edited).unwrap().matches());
}

#[test]
fn bad_keys_and_signatures_are_errors_not_panics() {
    let id: KeyId = "ed25519:1".parse().unwrap();
    let server: ServerName = "domain".parse().unwrap();
    assert_eq!(
        SigningKey::from_seed_base64(server.clone(), id.clone(), "AAAA").unwrap_err(),
        SignatureError::BadKeyLength(3)
    );
    assert_eq!(
        SigningKey::from_seed_base64(server, id.clone(), "!!").unwrap_err(),
        SignatureError::KeyNotBase64
    );
    assert!(VerifyKey::from_base64("short").is_err());
    let key = spec_key();
    let garbage = object(r#"{"signatures": {"domain": {"ed25519:1": "not base64!"}}}"#);
    assert!(matches!(
        verify_json(&garbage, "domain", &id, &key.verify_key()),
        Err(SignatureError::NotBase64 { .. })
    ));
    let short = object(r#"{"signatures": {"domain": {"ed25519:1": "AAAA"}}}"#);
    assert!(matches!(
        verify_json(&short, "domain", &id, &key.verify_key()),
        Err(SignatureError::Invalid { .. })
    ));
    let mut malformed = object(r#"{"signatures": []}"#);
    assert_eq!(
        sign_json(&mut malformed, &key).unwrap_err(),
        SignatureError::MalformedSignatures
    );
}

#[test]
fn debug_never_shows_the_private_key() {
    let text = format!("{:?}", spec_key());
    assert!(!text.contains(SPEC_SEED));
    assert!(text.contains("public"));
}
