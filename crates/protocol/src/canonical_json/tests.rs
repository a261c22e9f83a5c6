use super::*;
use proptest::prelude::*;
use serde_json::json;

/// One boundary, one helper: JSON text in, canonical text (or error) out.
fn check(input: &str, expected: &str) {
    let value: Value = serde_json::from_str(input).expect("test input is JSON");
    assert_eq!(encode(&value).unwrap(), expected, "input: {input}");
}

/// Every example in the spec's canonical JSON appendix.
#[test]
fn spec_examples() {
    check("{}", "{}");
    check(r#"{"one": 1, "two": "Two"}"#, r#"{"one":1,"two":"Two"}"#);
    check(r#"{"b": "2", "a": "1"}"#, r#"{"a":"1","b":"2"}"#);
    check(r#"{"b":"2","a":"1"}"#, r#"{"a":"1","b":"2"}"#);
    check(
        r#"{"auth":{"success":true,"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"medium":"email","address":"john.doe@example.org"},{"medium":"msisdn","address":"123456789"}]}}}"#,
        r#"{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}"#,
    );
    check(r#"{"a": "日本語"}"#, r#"{"a":"日本語"}"#);
    check(r#"{"本": 2, "日": 1}"#, r#"{"日":1,"本":2}"#);
    check(r#"{"a": "\u65E5"}"#, r#"{"a":"日"}"#);
    check(r#"{"a": null}"#, r#"{"a":null}"#);
    // The appendix also shows {"a": -0, "b": 1e10} → {"a":0,"b":10000000000}.
    // `-0` is the integer 0; `1e10` is written as a float, which room v6+
    // events forbid (Synapse rejects it too), so we refuse it.
    check(r#"{"a": -0}"#, r#"{"a":0}"#);
    assert!(matches!(
        parse(r#"{"a": -0, "b": 1e10}"#),
        Err(CanonicalJsonError::Float { ref path, .. }) if path == "b"
    ));
}

#[test]
fn integers_written_as_floats_are_refused() {
    for text in ["1.0", "1e3", "-0.5", "0.0", "1E2", "-0.0", "-0e0", "-0E1"] {
        let err = parse(&format!("{{\"n\": {text}}}")).unwrap_err();
        assert!(
            matches!(err, CanonicalJsonError::Float { .. }),
            "{text}: {err}"
        );
    }
}

#[test]
fn negative_zero_parses_as_the_integer_zero() {
    let value = parse(r#"{"a": [-0], "b": {"c": -0}, "s": "-0.0 in a string is text"}"#).unwrap();
    assert_eq!(
        value.to_string(),
        r#"{"a":[0],"b":{"c":0},"s":"-0.0 in a string is text"}"#
    );
    let err = parse(r#"{"s": "\"-0.0", "x": [1, -0.0]}"#).unwrap_err();
    assert!(
        matches!(err, CanonicalJsonError::Float { ref path, .. } if path == "x[1]"),
        "{err}"
    );
}

#[test]
fn only_quote_backslash_and_controls_are_escaped() {
    let value = json!({"s": "\"\\/\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}\u{2028}😀"});
    assert_eq!(
        encode(&value).unwrap(),
        "{\"s\":\"\\\"\\\\/\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\u{7f}\u{2028}😀\"}"
    );
}

#[test]
fn keys_sort_by_code_point_not_by_utf16() {
    // U+FF61 sorts before U+1F600 by code point, but after it in UTF-16.
    let value = json!({"😀": 1, "｡": 2, "a": 3, "B": 4});
    assert_eq!(encode(&value).unwrap(), r#"{"B":4,"a":3,"｡":2,"😀":1}"#);
}

#[test]
fn integers_at_the_limits_are_allowed() {
    check(
        "[9007199254740991, -9007199254740991, 0]",
        "[9007199254740991,-9007199254740991,0]",
    );
}

#[test]
fn errors_name_the_place_and_the_reason() {
    let err = parse(r#"{"content": {"sizes": [1, 2, 2.5]}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "content.sizes[2]: 2.5 is a float; canonical JSON allows only integers"
    );
    let err = parse(r#"{"depth": 9007199254740992}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "depth: 9007199254740992 is outside the integer range ±(2^53−1) of canonical JSON"
    );
    let err = parse("[-9007199254740992]").unwrap_err();
    assert!(matches!(err, CanonicalJsonError::IntegerOutOfRange { ref path, .. } if path == "[0]"));
    let err = parse("1e300").unwrap_err();
    assert!(
        matches!(err, CanonicalJsonError::IntegerOutOfRange { .. }),
        "{err}"
    );
    let err = parse("18446744073709551615").unwrap_err();
    assert!(
        matches!(err, CanonicalJsonError::IntegerOutOfRange { .. }),
        "{err}"
    );
    assert!(matches!(
        parse("{\"a\":"),
        Err(CanonicalJsonError::Syntax(_))
    ));
}

/// Arbitrary JSON documents without floats and within the integer range.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).prop_map(|i| json!(i)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Canonical text parses back to the same value: nothing is lost.
    #[test]
    fn round_trips(value in arb_json()) {
        let text = encode(&value).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, value);
    }

    /// Encoding is idempotent: canonical text is its own canonical form.
    #[test]
    fn canonical_text_is_a_fixed_point(value in arb_json()) {
        let once = encode(&value).unwrap();
        let twice = encode(&serde_json::from_str(&once).unwrap()).unwrap();
        prop_assert_eq!(once, twice);
    }

    /// Whitespace and key order in the input never change the output.
    #[test]
    fn pretty_printing_does_not_matter(value in arb_json()) {
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        prop_assert_eq!(encode(&serde_json::from_str(&pretty).unwrap()).unwrap(), encode(&value).unwrap());
    }

    /// No raw control character and no insignificant whitespace survive.
    #[test]
    fn output_has_no_raw_controls(value in arb_json()) {
        let text = encode(&value).unwrap();
        prop_assert!(!text.chars().any(|c| (c as u32) < 0x20));
    }

    /// Any number with a fractional part is refused.
    #[test]
    fn fractions_are_refused(whole in -1_000_000i64..1_000_000, frac in 1u32..1000) {
        let text = format!("{{\"n\": {whole}.{frac:03}}}");
        let refused = matches!(parse(&text), Err(CanonicalJsonError::Float { .. }));
        prop_assert!(refused, "{} was accepted", text);
    }
}
