//! `lostfound grade` from the outside: the actions that run no tests, and
//! the errors a student meets first. (Grading itself runs cargo, which
//! would wait for the build lock this test run holds; the grader's own
//! tests cover its parts, and CI's `.ci/exercises.sh` runs every exercise.)

use std::path::Path;
use std::process::{Command, Output};

fn lostfound(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lostfound"))
        .args(args)
        .current_dir(directory)
        .output()
        .expect("the lostfound binary runs")
}

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn outside_a_checkout_is_a_setup_error_that_says_where_to_go() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let output = lostfound(directory.path(), &["grade"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a git checkout"), "{stderr}");
    assert!(stderr.contains("inside your clone"), "{stderr}");
}

#[test]
fn list_shows_the_exercises_in_order() {
    let output = lostfound(workspace(), &["grade", "--list"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout
        .find("01-canonical-json")
        .expect("exercise 1 is listed");
    let second = stdout.find("02-event-id").expect("exercise 2 is listed");
    let third = stdout.find("03-signing").expect("exercise 3 is listed");
    assert!(first < second && second < third, "{stdout}");
    assert!(
        stdout.contains("Canonical JSON"),
        "titles come from the READMEs: {stdout}"
    );
}

#[test]
fn unknown_exercises_and_bad_options_are_usage_errors() {
    let output = lostfound(workspace(), &["grade", "--only", "99-nothing"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--list"), "{stderr}");

    let output = lostfound(workspace(), &["grade", "--hint", "--watch"]);
    assert_eq!(output.status.code(), Some(2), "one action at a time");
    let output = lostfound(workspace(), &["grade", "--yes"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "--yes only goes with --reset"
    );
}
