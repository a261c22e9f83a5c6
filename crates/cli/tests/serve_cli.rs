//! `lostfound serve` as a user runs it: its help teaches, a bad data
//! directory is one line of error, and a real server starts, answers,
//! keeps its signing key across restarts, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn lostfound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lostfound"))
}

#[test]
fn help_gives_an_example_and_says_what_the_data_directory_holds() {
    let output = lostfound()
        .args(["serve", "--help"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    for needle in [
        "Example",
        "lostfound serve --name alice.lab",
        "homeserver.db",
        "media/",
        "signing.key",
        "SIGTERM",
    ] {
        assert!(
            help.contains(needle),
            "--help should mention {needle:?}:\n{help}"
        );
    }
}

#[test]
fn an_unusable_data_directory_is_one_line_of_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A path under a regular file cannot be a directory, even for root.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("a file");
    let data = file.join("data");
    let output = lostfound()
        .args(["serve", "--name", "alice.lab", "--port", "0", "--data"])
        .arg(&data)
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(
        stderr.starts_with("error: cannot create the data directory"),
        "{stderr}"
    );
}

/// Starts `lostfound serve` on a free port; returns the child and its address.
#[cfg(unix)]
fn start(data: &std::path::Path) -> (std::process::Child, String) {
    let mut child = lostfound()
        .args(["serve", "--name", "alice.lab", "--port", "0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut first_line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("a line");
    // "alice.lab is serving http://127.0.0.1:PORT (data in …)"
    let address = first_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("an address in {first_line:?}"))
        .to_owned();
    (child, address)
}

#[cfg(unix)]
#[test]
fn serves_keeps_its_key_and_stops_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("alice");

    let (mut child, address) = start(&data);
    let mut stream = std::net::TcpStream::connect(&address).expect("the server listens");
    stream
        .write_all(b"GET /_matrix/client/versions HTTP/1.1\r\nHost: alice.lab\r\nConnection: close\r\n\r\n")
        .expect("a request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"versions\""), "{response}");

    let key_file = data.join("signing.key");
    let key = std::fs::read_to_string(&key_file).expect("a signing key file");
    let mode = std::fs::metadata(&key_file)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(
        child.wait().expect("the server exits").success(),
        "SIGTERM is a clean stop"
    );

    // A second start reuses the key: the server keeps its identity.
    let (mut child, _) = start(&data);
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("the key file"),
        key
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(child.wait().expect("the server exits").success());
}

/// One HTTP/1.1 request over a fresh connection; returns status and JSON.
#[cfg(unix)]
fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut stream = std::net::TcpStream::connect(address).expect("the server listens");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: alice.lab\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("a request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let status = response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let json = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (
        status,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

/// The promise behind every 200: a message the server acknowledged was
/// written before the reply. SIGKILL gives the server no chance to flush
/// anything, so only what reached the operating system survives. (Power
/// loss is the job of `synchronous=FULL`, pinned by the store's tests.)
#[cfg(unix)]
#[test]
fn every_acknowledged_message_survives_sigkill() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("alice");
    let (mut child, address) = start(&data);

    let register =
        r#"{"username":"alice","password":"wonderland","auth":{"type":"m.login.dummy"}}"#;
    let (status, registered) = http(
        &address,
        "POST",
        "/_matrix/client/v3/register",
        None,
        register,
    );
    assert_eq!(status, 200, "{registered}");
    let token = registered["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (status, room) = http(
        &address,
        "POST",
        "/_matrix/client/v3/createRoom",
        Some(&token),
        "{}",
    );
    assert_eq!(status, 200, "{room}");
    let room_id = room["room_id"].as_str().expect("a room").to_owned();

    let mut acknowledged = Vec::new();
    for n in 0..30 {
        let path = format!("/_matrix/client/v3/rooms/{room_id}/send/m.room.message/txn{n}");
        let body = format!(r#"{{"msgtype":"m.text","body":"message {n}"}}"#);
        let (status, sent) = http(&address, "PUT", &path, Some(&token), &body);
        assert_eq!(status, 200, "{sent}");
        acknowledged.push(sent["event_id"].as_str().expect("an event ID").to_owned());
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("the server is gone");

    let (mut child, address) = start(&data);
    let path = format!("/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=100");
    let (status, messages) = http(&address, "GET", &path, Some(&token), "");
    assert_eq!(status, 200, "{messages}");
    let found: Vec<&str> = messages["chunk"]
        .as_array()
        .expect("a chunk")
        .iter()
        .filter(|event| event["type"] == "m.room.message")
        .filter_map(|event| event["event_id"].as_str())
        .collect();
    let newest_first: Vec<&str> = acknowledged.iter().rev().map(String::as_str).collect();
    assert_eq!(found, newest_first, "every acknowledged message, in order");
    child.kill().expect("SIGKILL");
    child.wait().expect("the server is gone");
}

#[test]
fn a_bad_peer_is_one_line_of_error_naming_the_expected_form() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (peer, needle) in [
        ("bob.lab", "should be NAME=HOST:PORT"),
        ("bob.lab=10.0.0.7", "should be HOST:PORT"),
        ("bob.lab=10.0.0.7:http", "should be HOST:PORT"),
        ("bad name=10.0.0.7:8448", "server name"),
    ] {
        let output = lostfound()
            .args([
                "serve",
                "--name",
                "alice.lab",
                "--port",
                "0",
                "--peer",
                peer,
                "--data",
            ])
            .arg(dir.path().join("data"))
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "--peer {peer}");
        let stderr = String::from_utf8(output.stderr).expect("UTF-8");
        assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
        assert!(stderr.starts_with("error: --peer"), "{stderr}");
        assert!(stderr.contains(needle), "{stderr} should say {needle:?}");
    }
    // Nothing was created for a refused command line.
    assert!(!dir.path().join("data").exists());
}
