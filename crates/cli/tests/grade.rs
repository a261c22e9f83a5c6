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

/// A clone of this checkout in a temporary directory, with its own
/// progress file: grading there touches nothing of ours.
fn scratch_clone() -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--no-hardlinks"])
        .arg(workspace())
        .arg(directory.path().join("lf"))
        .status()
        .expect("git runs");
    assert!(status.success(), "git clone");
    directory
}

/// The ways round the tests that the grader refuses before running any
/// (so these cases never start cargo): a build script in an exercise, a
/// `.cargo/config.toml` at the root, an edited manifest, and a stub that
/// calls the workbench's own answer.
#[test]
fn shortcuts_are_refused_before_anything_runs() {
    let directory = scratch_clone();
    let root = directory.path().join("lf");
    let exercise = root.join("exercises/02-event-id");
    let refused = |expected: &str| {
        let output = lostfound(&root, &["grade", "--only", "02"]);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains("not graded, because a pass could not count"),
            "{stdout}"
        );
        assert!(
            stdout.contains(expected),
            "expected {expected:?} in:\n{stdout}"
        );
    };

    std::fs::write(exercise.join("build.rs"), "fn main() {}\n").expect("written");
    refused("build.rs is not part of the exercise");
    std::fs::remove_file(exercise.join("build.rs")).expect("removed");

    std::fs::create_dir_all(root.join(".cargo")).expect("created");
    std::fs::write(root.join(".cargo/config.toml"), "[build]\n").expect("written");
    refused(".cargo/config.toml exists at the root of the checkout");
    std::fs::remove_dir_all(root.join(".cargo")).expect("removed");

    let manifest = root.join("exercises/manifest.toml");
    let text = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, format!("{text}\n# edited\n")).expect("written");
    refused("exercises/manifest.toml differs from the last commit");
    std::fs::write(&manifest, text).expect("restored");

    let stub = exercise.join("src/lib.rs");
    let mut code = std::fs::read_to_string(&stub).expect("read");
    code.push_str("\npub fn shortcut(event: &Value) { let _ = lostfound_protocol::hashes::content_hash(event); }\n");
    std::fs::write(&stub, code).expect("written");
    refused("src/lib.rs uses `hashes::`");
}
