//! `lostfound scenario` from the outside: listing, showing, refusing bad
//! files with their line, and a whole replay with its JSON document.

use std::process::{Command, Output, Stdio};

fn lostfound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lostfound"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the lostfound binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_names_the_builtin_and_the_variants() {
    let output = lostfound(&["scenario", "list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("scenario_list", stdout(&output));
}

#[test]
fn show_prints_every_step_with_its_line() {
    let output = lostfound(&["scenario", "show", "hypha-2021"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("scenario_show_hypha_2021", stdout(&output));
}

#[test]
fn a_bad_file_is_refused_with_its_line_and_exit_status_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("story.toml");
    let text = "format = 1\nname = \"s\"\ntitle = \"t\"\nseed = 1\nstart = \"2021-01-01\"\n\
                subject = \"a.lab\"\nservers = [\"a.lab\"]\n\n[[step]]\nat = \"2021-01-02\"\n\
                do = \"explode\"\nserver = \"a.lab\"\n";
    std::fs::write(&path, text).expect("written");
    let path = path.display().to_string();
    for command in ["show", "run"] {
        let output = lostfound(&["scenario", command, &path]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!(
                "{path}:9: unknown operation \"explode\"; expected one of: backup"
            )),
            "{command}: {message}"
        );
    }
}

#[test]
fn unknown_names_and_variants_say_what_exists() {
    let output = lostfound(&["scenario", "run", "hypha-2020"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("(built-in: hypha-2021)"),
        "{}",
        stderr(&output)
    );
    let output = lostfound(&["scenario", "run", "hypha-2021", "--variant", "hourly"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("expected one of: verified-cleanup, daily-backups"),
        "{}",
        stderr(&output)
    );
}

/// The whole replay through the binary: progress on stderr, one JSON
/// document on stdout, the checker passed, exit status 0.
#[test]
fn run_json_gives_steps_report_and_checker() {
    let output = lostfound(&["scenario", "run", "hypha-2021", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(document["scenario"], "hypha-2021");
    assert_eq!(document["seed"], 2021);
    assert_eq!(document["check"]["violations"], serde_json::json!([]));
    let steps = document["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 54);
    let outcomes: Vec<(&str, &str)> = document["report"]["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("federated rooms", "healed"),
            ("unfederated rooms", "partly lost"),
            ("direct messages", "partly lost"),
            ("media and avatars", "partly lost"),
            ("accounts", "partly lost"),
            ("password changes", "lost"),
            ("memberships", "partly healed"),
        ]
    );
    assert!(
        stderr(&output).contains("[54/54] 2021-06-10 11:00"),
        "{}",
        stderr(&output)
    );
}

/// `--step` waits for Enter after each step; `c` runs the rest.
#[test]
fn step_mode_reads_enter_and_c_from_stdin() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lostfound"))
        .args(["scenario", "run", "hypha-2021", "--step"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(b"\n\nc\n")
        .expect("written");
    let output = child.wait_with_output().expect("finishes");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Checker: passed."));
}
