//! End-to-end tests of `lostfound event` and `lostfound key`: the binary as
//! a user runs it, with reviewed snapshots of what it prints.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The spec's test-vector seed and its public key.
const SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
const PUBLIC_KEY: &str = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";

fn example_event() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/examples/message.json"
    ))
    .expect("the book's example event exists")
}

/// Runs `lostfound ARGS` with `stdin`, returning its output.
fn lostfound(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lostfound"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A command that fails on its arguments exits before reading its input;
    // the broken pipe that leaves us is expected, any other error is not.
    if let Err(error) = child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes())
    {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().expect("the binary finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 output")
}

fn signed_example() -> String {
    let output = lostfound(
        &["event", "sign", "--server", "tomesh.lab", "--seed", SEED],
        &example_event(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn inspect_explains_an_unsigned_event() {
    let output = lostfound(&["event", "inspect"], &example_event());
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn sign_then_inspect_with_the_key_verifies() {
    let signed = signed_example();
    let output = lostfound(
        &["event", "inspect", "--json", "--key", PUBLIC_KEY],
        &signed,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn key_public_derives_the_spec_key() {
    let output = lostfound(&["key", "public", "--seed", SEED], "");
    assert_eq!(stdout(&output).trim(), PUBLIC_KEY);
}

/// The two halves of a forgery: editing the body is caught by the content
/// hash alone; editing the sender also breaks the signature and the ID.
#[test]
fn forged_events_fail_with_exit_status_1() {
    let signed: serde_json::Value = serde_json::from_str(&signed_example()).expect("JSON");
    let original_id = inspect_json(&signed.to_string())["event_id"].clone();

    let mut body_edit = signed.clone();
    body_edit["content"]["body"] = "I never said this".into();
    let output = lostfound(
        &["event", "inspect", "--json", "--key", PUBLIC_KEY],
        &body_edit.to_string(),
    );
    assert_eq!(output.status.code(), Some(1));
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(found["content_hash"]["matches"], false);
    assert!(
        found["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("keep only the redacted form")
    );
    assert_eq!(
        found["signature"]["valid"], true,
        "the body is not signed, only hashed"
    );
    assert_eq!(
        found["event_id"], original_id,
        "the body is not part of the ID"
    );

    let mut sender_edit = signed.clone();
    sender_edit["sender"] = "@mallory:tomesh.lab".into();
    let output = lostfound(
        &["event", "inspect", "--json", "--key", PUBLIC_KEY],
        &sender_edit.to_string(),
    );
    assert_eq!(output.status.code(), Some(1));
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(found["signature"]["valid"], false);
    assert!(
        found["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("drop")
    );
    assert_ne!(found["event_id"], original_id);
}

#[test]
fn an_unhashed_event_claims_nothing_and_matches_nothing() {
    let found = inspect_json(&example_event());
    assert_eq!(found["content_hash"]["claimed"], serde_json::Value::Null);
    assert_eq!(found["content_hash"]["matches"], serde_json::Value::Null);
    assert!(
        found["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("incomplete")
    );
}

fn inspect_json(event: &str) -> serde_json::Value {
    let output = lostfound(&["event", "inspect", "--json"], event);
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// Bad input: one line on standard error, exit status 2, never a panic.
#[test]
fn bad_input_gives_one_line_errors() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["event", "inspect"], "{\"a\":", "not valid JSON"),
        (
            &["event", "inspect"],
            "[1, 2]",
            "an event must be a JSON object",
        ),
        (
            &["event", "inspect"],
            "{\"type\": \"x\", \"depth\": 2.5}",
            "depth: 2.5 is a float",
        ),
        (
            &["event", "inspect"],
            "{\"content\": {\"n\": 1.0}}",
            "content.n: 1.0 is a float",
        ),
        (
            &["event", "inspect"],
            "{\"type\": \"m.room.message\"}",
            "auth_events: missing",
        ),
        (
            &["event", "inspect", "/no/such/file.json"],
            "",
            "cannot read /no/such/file.json",
        ),
        (
            &["event", "inspect", "--key", "AAAA"],
            "{}",
            "--key: key must be 32 bytes",
        ),
        (
            &["event", "sign", "--server", "tomesh.lab", "--seed", "short"],
            "{}",
            "--seed",
        ),
        (
            &["event", "sign", "--server", "bad name", "--seed", SEED],
            "{}",
            "--server",
        ),
        (
            &["event", "sign", "--server", "tomesh.lab", "--seed", SEED],
            "{\"n\": 1e400}",
            "not valid JSON",
        ),
    ];
    for (args, input, expected) in cases {
        let output = lostfound(args, input);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(
            message.contains(expected),
            "{args:?}: expected {expected:?} in {message:?}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }
}

/// JSON Lines mode keeps going past a bad line, so a tool can feed it
/// thousands of events in one process.
#[test]
fn jsonl_reports_each_line() {
    let event: serde_json::Value = serde_json::from_str(&example_event()).expect("JSON");
    let input = format!("{event}\n\n{{not json\n{event}\n");
    let output = lostfound(&["event", "inspect", "--jsonl", "-"], &input);
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "the blank line is skipped");
    assert_eq!(lines[0]["event_id"], lines[2]["event_id"]);
    assert!(
        lines[1]["error"]
            .as_str()
            .expect("error text")
            .contains("not valid JSON")
    );

    let signed = lostfound(
        &[
            "event",
            "sign",
            "--jsonl",
            "--server",
            "tomesh.lab",
            "--seed",
            SEED,
        ],
        &input,
    );
    let signed: Vec<serde_json::Value> = stdout(&signed)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(signed.len(), 3);
    assert!(signed[0]["signatures"]["tomesh.lab"]["ed25519:1"].is_string());
    assert!(signed[1]["error"].is_string());
}

/// `sign` is for forging too: it signs a fragment, but says it is not a
/// well-formed event. Numbers come out exactly as they were hashed.
#[test]
fn sign_signs_fragments_with_a_warning() {
    let output = lostfound(
        &["event", "sign", "--server", "tomesh.lab", "--seed", SEED],
        r#"{"content": {"n": -0}}"#,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("warning: standard input: signed, but not a well-formed room v10 event")
    );
    let signed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(signed["content"]["n"], serde_json::json!(0));
    assert!(
        !stdout(&output).contains("-0"),
        "no negative zero in the output"
    );
    assert!(signed["signatures"]["tomesh.lab"]["ed25519:1"].is_string());
}

#[test]
fn help_teaches_with_examples() {
    let output = lostfound(&["event", "inspect", "--help"], "");
    let help = stdout(&output);
    assert!(help.contains("Exit status"), "{help}");
    assert!(
        help.contains("lostfound event inspect book/examples/message.json"),
        "{help}"
    );
}
