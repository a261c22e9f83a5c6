use super::*;

fn key() -> SigningKey {
    SigningKey::from_seed(
        "hs.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [1; 32],
    )
}

fn message(body: &str) -> Pdu {
    PduBuilder::new(
        "!room:hs.lab".parse().unwrap(),
        "@alice:hs.lab".parse().unwrap(),
        "m.room.message",
        json!({"msgtype": "m.text", "body": body}),
    )
    .depth(2)
    .origin_server_ts(1_000)
    .sign(&key())
    .unwrap()
}

#[test]
fn built_events_are_hashed_signed_and_identified() {
    let event = message("hello");
    assert!(event.content_hash_check().matches());
    event
        .verify_signature(
            &"hs.lab".parse().unwrap(),
            key().key_id(),
            &key().verify_key(),
        )
        .unwrap();
    assert_eq!(event.origin().map(ServerName::as_str), Some("hs.lab"));
    assert_eq!(event.event_id(), &hashes::event_id(event.json()).unwrap());
    // Re-parsing the JSON gives the same event and ID: nothing is hidden in the struct.
    let again = Pdu::from_json(Value::Object(event.json().clone())).unwrap();
    assert_eq!(again, event);
}

#[test]
fn same_fields_same_id_different_body_different_id() {
    assert_eq!(message("a").event_id(), message("a").event_id());
    // The body is redacted before hashing, but the content hash is not,
    // and the content hash is part of the redacted form.
    assert_ne!(message("a").event_id(), message("b").event_id());
}

#[test]
fn redacted_form_keeps_the_id_and_the_signature() {
    let event = message("secret");
    let redacted = event.redacted();
    assert_eq!(redacted.event_id(), event.event_id());
    assert!(redacted.content().is_empty());
    assert_eq!(
        hashes::event_id(redacted.json()).unwrap(),
        *event.event_id()
    );
    redacted
        .verify_signature(
            &"hs.lab".parse().unwrap(),
            key().key_id(),
            &key().verify_key(),
        )
        .unwrap();
}

#[test]
fn unknown_keys_are_kept_and_hashed() {
    let event = PduBuilder::new(
        "!r:hs.lab".parse().unwrap(),
        "@a:hs.lab".parse().unwrap(),
        "x",
        json!({}),
    )
    .extra("future_field", json!(1))
    .sign(&key())
    .unwrap();
    assert_eq!(event.json()["future_field"], 1);
    let mut edited = event.json().clone();
    edited.insert("future_field".into(), json!(2));
    assert!(!ContentHashCheck::of(&edited).unwrap().matches());
}

#[test]
fn bad_events_say_what_is_wrong() {
    let ok = message("x").into_json();
    let error_for = |edit: &dyn Fn(&mut JsonObject)| {
        let mut json = ok.clone();
        edit(&mut json);
        Pdu::from_json(Value::Object(json)).unwrap_err().to_string()
    };
    assert!(
        error_for(&|j| {
            j.remove("room_id");
        })
        .contains("room_id: missing")
    );
    assert!(
        error_for(&|j| {
            j.insert("sender".into(), json!("alice"));
        })
        .contains("must start with '@'")
    );
    assert!(
        error_for(&|j| {
            j.insert("depth".into(), json!(-1));
        })
        .contains("invalid value")
    );
    assert!(
        error_for(&|j| {
            j.insert("depth".into(), json!(1.5));
        })
        .contains("depth: 1.5 is a float")
    );
    assert!(
        error_for(&|j| {
            j.insert("content".into(), json!("text"));
        })
        .contains("content: invalid type: string")
    );
    assert!(
        error_for(&|j| {
            j.insert("prev_events".into(), json!(["nope"]));
        })
        .contains("must start with '$'")
    );
    assert_eq!(
        Pdu::from_json(json!([1])).unwrap_err(),
        PduError::NotAnObject
    );
    assert!(matches!(
        Pdu::from_json_str("{"),
        Err(PduError::Canonical(_))
    ));
}

#[test]
fn redacts_is_read_only_on_redaction_events_and_leniently() {
    let mut json = message("x").into_json();
    json.insert("redacts".into(), json!(null));
    assert_eq!(
        Pdu::from_json(Value::Object(json.clone()))
            .unwrap()
            .redacts(),
        None
    );
    json.insert("type".into(), json!("m.room.redaction"));
    json.insert("redacts".into(), json!("$target"));
    assert_eq!(
        Pdu::from_json(Value::Object(json.clone()))
            .unwrap()
            .redacts()
            .map(EventId::as_str),
        Some("$target")
    );
    json.insert("redacts".into(), json!(7));
    assert_eq!(Pdu::from_json(Value::Object(json)).unwrap().redacts(), None);
}

#[test]
fn type_and_state_key_are_at_most_255_bytes() {
    let build = |event_type: &str, state_key: &str| {
        PduBuilder::new(
            "!r:hs.lab".parse().unwrap(),
            "@a:hs.lab".parse().unwrap(),
            event_type,
            json!({}),
        )
        .state_key(state_key)
        .sign(&key())
    };
    assert!(build(&"t".repeat(255), &"k".repeat(255)).is_ok());
    let error = build(&"t".repeat(256), "").unwrap_err().to_string();
    assert!(
        error.contains("type: 256 bytes; the limit is 255"),
        "{error}"
    );
    let error = build("x", &"é".repeat(128)).unwrap_err().to_string();
    assert!(error.contains("state_key: 256 bytes"), "{error}");
}

#[test]
fn the_size_limit_is_enforced() {
    let big = "x".repeat(MAX_PDU_BYTES);
    let result = PduBuilder::new(
        "!r:hs.lab".parse().unwrap(),
        "@a:hs.lab".parse().unwrap(),
        "x",
        json!({"body": big}),
    )
    .sign(&key());
    assert!(matches!(result, Err(PduError::TooLarge(n)) if n > MAX_PDU_BYTES));
}

#[test]
fn membership_is_read_only_from_member_events() {
    let join = PduBuilder::new(
        "!r:hs.lab".parse().unwrap(),
        "@a:hs.lab".parse().unwrap(),
        "m.room.member",
        json!({"membership": "join"}),
    )
    .state_key("@a:hs.lab")
    .sign(&key())
    .unwrap();
    assert_eq!(join.membership(), Some("join"));
    assert!(join.is_state());
    assert_eq!(message("x").membership(), None);
}
