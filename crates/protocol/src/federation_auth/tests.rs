use super::*;
use serde_json::json;

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

const URI: &str = "/_matrix/federation/v1/get_missing_events/!r:b.lab";

/// A signed request from a.lab to b.lab, and a.lab's public key.
fn signed() -> (XMatrix, VerifyKey, Value) {
    let a = key("a.lab", 1);
    let body = json!({"latest_events": ["$x"], "limit": 10});
    let header = sign_request(&a, "POST", URI, &name("b.lab"), Some(&body)).unwrap();
    (header, a.verify_key(), body)
}

#[test]
fn the_signed_object_has_the_spec_fields() {
    let object = request_json("GET", "/x?y=1", &name("a.lab"), &name("b.lab"), None);
    assert_eq!(
        Value::Object(object),
        json!({"method": "GET", "uri": "/x?y=1", "origin": "a.lab", "destination": "b.lab"})
    );
    let object = request_json(
        "PUT",
        "/x",
        &name("a.lab"),
        &name("b.lab"),
        Some(&json!({})),
    );
    assert_eq!(object["content"], json!({}));
}

#[test]
fn a_signed_request_verifies_through_its_header_text() {
    let (header, public, body) = signed();
    let text = header.to_string();
    assert!(
        text.starts_with(
            "X-Matrix origin=\"a.lab\",destination=\"b.lab\",key=\"ed25519:1\",sig=\""
        )
    );
    let parsed = XMatrix::parse(&text).unwrap();
    assert_eq!(parsed, header);
    verify_request(&parsed, "POST", URI, &name("b.lab"), Some(&body), &public).unwrap();
}

#[test]
fn every_signed_part_of_the_request_is_protected() {
    let (header, public, body) = signed();
    let b = name("b.lab");
    let other_body = json!({"latest_events": ["$y"], "limit": 10});
    let tampered: [(&str, &str, &ServerName, Option<&Value>); 5] = [
        ("PUT", URI, &b, Some(&body)),
        (
            "POST",
            "/_matrix/federation/v1/get_missing_events/!s:b.lab",
            &b,
            Some(&body),
        ),
        ("POST", URI, &b, Some(&other_body)),
        ("POST", URI, &b, None),
        ("POST", URI, &name("c.lab"), Some(&body)),
    ];
    for (method, uri, destination, content) in tampered {
        let result = verify_request(&header, method, uri, destination, content, &public);
        assert!(
            matches!(result, Err(SignatureError::Invalid { .. })),
            "{method} {uri} to {destination} with {content:?} should fail: {result:?}"
        );
    }
    // Claiming another origin: the signature was made over "a.lab".
    let claimed = XMatrix {
        origin: name("c.lab"),
        ..header.clone()
    };
    let result = verify_request(&claimed, "POST", URI, &b, Some(&body), &public);
    assert!(matches!(result, Err(SignatureError::Invalid { .. })));
    // Another server's key does not verify a.lab's signature.
    let stranger = key("a.lab", 2).verify_key();
    let result = verify_request(&header, "POST", URI, &b, Some(&body), &stranger);
    assert!(matches!(result, Err(SignatureError::Invalid { .. })));
}

#[test]
fn the_query_string_is_part_of_the_uri() {
    let a = key("a.lab", 1);
    let uri = "/_matrix/federation/v1/backfill/!r:b.lab?v=%24x&limit=10";
    let header = sign_request(&a, "GET", uri, &name("b.lab"), None).unwrap();
    let public = a.verify_key();
    verify_request(&header, "GET", uri, &name("b.lab"), None, &public).unwrap();
    let longer = "/_matrix/federation/v1/backfill/!r:b.lab?v=%24x&limit=1000";
    assert!(verify_request(&header, "GET", longer, &name("b.lab"), None, &public).is_err());
}

#[test]
fn a_header_without_destination_verifies_against_our_name() {
    let (mut header, public, body) = signed();
    header.destination = None;
    let parsed = XMatrix::parse(&header.to_string()).unwrap();
    assert_eq!(parsed.destination, None);
    verify_request(&parsed, "POST", URI, &name("b.lab"), Some(&body), &public).unwrap();
}

#[test]
fn header_parsing_follows_rfc_9110() {
    let expected = XMatrix {
        origin: name("a.lab:8448"),
        destination: Some(name("b.lab")),
        key_id: "ed25519:k1".parse().unwrap(),
        signature: "c2ln".into(),
    };
    for text in [
        r#"X-Matrix origin="a.lab:8448",destination="b.lab",key="ed25519:k1",sig="c2ln""#,
        // names in any case and order, spaces and tabs around commas
        "x-matrix  SIG=\"c2ln\" ,\tKey=\"ed25519:k1\" , Origin=\"a.lab:8448\",DESTINATION=\"b.lab\"",
        // bare values, colons included (older servers)
        "X-Matrix origin=a.lab:8448,destination=b.lab,key=ed25519:k1,sig=c2ln",
        // backslash escapes in quoted values, unknown parameters ignored
        r#"X-Matrix origin="a\.lab:8448",destination="b.lab",key="ed25519:k1",sig="c2ln",extra="x""#,
    ] {
        assert_eq!(XMatrix::parse(text), Ok(expected.clone()), "{text}");
    }
}

#[test]
fn bad_headers_say_what_is_wrong() {
    let cases: [(&str, XMatrixError); 7] = [
        ("Bearer abc", XMatrixError::NotXMatrix),
        ("X-Matrix", XMatrixError::MissingParameter("origin")),
        (
            r#"X-Matrix origin="a.lab",sig="x""#,
            XMatrixError::MissingParameter("key"),
        ),
        (
            r#"X-Matrix origin="a.lab",key="ed25519:1""#,
            XMatrixError::MissingParameter("sig"),
        ),
        (
            r#"X-Matrix origin="a.lab,key="ed25519:1""#,
            XMatrixError::Malformed("expected a comma after a quoted value".into()),
        ),
        (
            r#"X-Matrix origin="a.lab"#,
            XMatrixError::Malformed("a quoted value is not closed".into()),
        ),
        (
            r#"X-Matrix origin="a.lab",origin="c.lab",key="ed25519:1",sig="x""#,
            XMatrixError::Malformed("`origin` appears twice".into()),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(XMatrix::parse(text), Err(expected), "{text}");
    }
    let bad_origin = XMatrix::parse(r#"X-Matrix origin="not a name",key="ed25519:1",sig="x""#);
    assert!(matches!(
        bad_origin,
        Err(XMatrixError::InvalidParameter {
            parameter: "origin",
            ..
        })
    ));
    let bad_key = XMatrix::parse(r#"X-Matrix origin="a.lab",key="nocolon",sig="x""#);
    assert!(matches!(
        bad_key,
        Err(XMatrixError::InvalidParameter {
            parameter: "key",
            ..
        })
    ));
    assert!(matches!(
        XMatrix::parse("X-Matrix garbage"),
        Err(XMatrixError::Malformed(_))
    ));
}
