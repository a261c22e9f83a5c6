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
