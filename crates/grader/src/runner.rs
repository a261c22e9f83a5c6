//! Running an exercise's graded tests: `cargo test -p exNN --features graded`.
//!
//! The grader runs cargo as a subprocess, exactly the command a student
//! could type, so what it reports is what they would see (only shorter).
//! A student's code may loop forever, so the tests get a time limit; the
//! clock starts when cargo starts the test binaries, not during the build,
//! which on a first run compiles the whole protocol crate.

use crate::GradeError;
use crate::libtest::{self, ExcerptLimits, TestCounts};
use crate::registry::Exercise;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the tests themselves may run once built.
pub const DEFAULT_TEST_TIME_LIMIT: Duration = Duration::from_secs(60);

/// What one graded run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every graded test passed.
    Passed(TestCounts),
    /// Some tests failed; `excerpt` is the trimmed failure output.
    Failed { counts: TestCounts, excerpt: String },
    /// The code did not compile; `excerpt` holds the first errors.
    CompileError { excerpt: String },
    /// The tests ran past the time limit and were stopped.
    TimedOut { limit: Duration },
    /// cargo failed before any test ran, for another reason.
    CargoFailed { excerpt: String },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed(_))
    }
}

/// A finished run: the outcome and how long it took.
#[derive(Debug, Clone)]
pub struct Run {
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// How to run cargo.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Features beside `graded` (the CI script adds `reference`).
    pub extra_features: Vec<String>,
    pub test_time_limit: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            extra_features: Vec::new(),
            test_time_limit: DEFAULT_TEST_TIME_LIMIT,
        }
    }
}

/// Runs `exercise`'s graded tests from the repository root `root`.
pub fn run(root: &Path, exercise: &Exercise, options: &RunOptions) -> Result<Run, GradeError> {
    let started = Instant::now();
    let mut features = vec!["graded".to_owned()];
    features.extend(options.extra_features.iter().cloned());
    // Every test binary runs, even after one fails: the count of tests
    // stays the same from run to run.
    let mut command = cargo_test(root, exercise, &features, &["--no-fail-fast"]);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GradeError::CargoMissing)?;
    let stdout = child.stdout.take().map(read_all_in_background);
    let stderr_lines = child.stderr.take().map(lines_in_background);
    let (stderr, timed_out) = match stderr_lines {
        Some(lines) => watch_stderr(&mut child, lines, options.test_time_limit),
        None => (String::new(), false),
    };
    let status = child.wait().map_err(GradeError::CargoMissing)?;
    let stdout = stdout
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default();
    let outcome = if timed_out {
        Outcome::TimedOut {
            limit: options.test_time_limit,
        }
    } else {
        interpret(status.success(), &stdout, &stderr)
    };
    let outcome = match outcome {
        Outcome::Passed(counts) => confirm_pass(root, exercise, &features, &stdout, counts)?,
        other => other,
    };
    Ok(Run {
        outcome,
        elapsed: started.elapsed(),
    })
}

/// `cargo test -p PKG --features F EXTRA -- --color never`, with the
/// environment cleared of anything that changes how the code is built.
fn cargo_test(root: &Path, exercise: &Exercise, features: &[String], extra: &[&str]) -> Command {
    let mut command = Command::new(cargo());
    command
        .args([
            "test",
            "-p",
            &exercise.package,
            "--features",
            &features.join(","),
        ])
        .args(extra)
        .args(["--color", "never", "--", "--color", "never"])
        .current_dir(root)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUST_BACKTRACE");
    // Flags that could compile the reference in (`--cfg feature=...`) or
    // wrap the compiler: the grade is of the code as the course builds it.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if is_build_override(&name) {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// A pass counts only if every test the binaries hold reported `ok`, once:
/// the student's code runs inside the test process and could print a
/// summary line of its own. The names come from `--list`, which runs no
/// test, hence none of the student's code.
fn confirm_pass(
    root: &Path,
    exercise: &Exercise,
    features: &[String],
    stdout: &str,
    counts: TestCounts,
) -> Result<Outcome, GradeError> {
    let output = cargo_test(root, exercise, features, &[])
        .arg("--list")
        .stdin(Stdio::null())
        .output()
        .map_err(GradeError::CargoMissing)?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let names = libtest::listed_tests(&listing);
    match libtest::unconfirmed(stdout, &names, counts) {
        None => Ok(Outcome::Passed(counts)),
        Some(reason) => Ok(Outcome::Failed {
            counts,
            excerpt: format!(
                "the test output does not add up, so this pass does not count: {reason}"
            ),
        }),
    }
}

/// Environment variables that change how the exercise is compiled.
fn is_build_override(name: &str) -> bool {
    matches!(
        name,
        "RUSTFLAGS"
            | "CARGO_ENCODED_RUSTFLAGS"
            | "CARGO_BUILD_RUSTFLAGS"
            | "RUSTC_WRAPPER"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "CARGO_BUILD_RUSTC_WRAPPER"
            | "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER"
            | "RUSTC"
            | "CARGO_BUILD_RUSTC"
    ) || (name.starts_with("CARGO_TARGET_") && name.ends_with("_RUSTFLAGS"))
}

/// The cargo that is running us, if any (so `cargo run -- grade` uses the
/// same toolchain), else `cargo` from the PATH.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Turns cargo's exit status and output into an [`Outcome`].
pub fn interpret(success: bool, stdout: &str, stderr: &str) -> Outcome {
    match libtest::parse_counts(stdout) {
        Some(counts) if success && counts.failed == 0 && counts.passed > 0 => {
            Outcome::Passed(counts)
        }
        Some(counts) if counts.failed > 0 => Outcome::Failed {
            counts,
            excerpt: libtest::failure_excerpt(stdout, ExcerptLimits::default()),
        },
        Some(counts) if success => Outcome::Failed {
            counts,
            excerpt: "cargo ran no graded tests: is `required-features = [\"graded\"]` set \
                      for tests/grade.rs in the exercise's Cargo.toml?"
                .to_owned(),
        },
        _ => {
            let errors = libtest::compiler_errors(stderr, 3, 60);
            if errors.contains("error[") || stderr.contains("could not compile") {
                Outcome::CompileError { excerpt: errors }
            } else {
                Outcome::CargoFailed {
                    excerpt: last_lines(stderr, 20),
                }
            }
        }
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

fn read_all_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn lines_in_background(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Collects cargo's standard error until it closes; once cargo says
/// `Running …` (the build is done), the tests have `limit` to finish, or
/// the whole process group is stopped. Returns the text and whether the
/// limit was hit.
fn watch_stderr(
    child: &mut std::process::Child,
    lines: mpsc::Receiver<String>,
    limit: Duration,
) -> (String, bool) {
    let mut text = String::new();
    let mut tests_started: Option<Instant> = None;
    loop {
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if tests_started.is_none() && line.trim_start().starts_with("Running ") {
                    tests_started = Some(Instant::now());
                }
                text.push_str(&line);
                text.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return (text, false),
        }
        if tests_started.is_some_and(|started| started.elapsed() > limit) {
            stop(child);
            return (text, true);
        }
    }
}

/// Stops cargo and the test binary it started. Killing cargo alone would
/// leave a looping test running, so cargo's own children go first (by
/// cargo's process ID: nothing else on the machine is touched).
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &child.id().to_string()])
            .status();
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_run_passes() {
        let stdout = "test result: ok. 5 passed; 0 failed; 0 ignored;\n";
        assert!(interpret(true, stdout, "").passed());
    }

    #[test]
    fn a_run_with_no_tests_does_not_pass() {
        let stdout = "test result: ok. 0 passed; 0 failed; 0 ignored;\n";
        assert!(matches!(
            interpret(true, stdout, ""),
            Outcome::Failed { .. }
        ));
    }

    #[test]
    fn failures_are_failures_even_if_some_pass() {
        let stdout = "test result: FAILED. 4 passed; 1 failed; 0 ignored;\n";
        match interpret(false, stdout, "") {
            Outcome::Failed { counts, .. } => assert_eq!((counts.passed, counts.failed), (4, 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_summary_and_a_compiler_error_is_a_compile_error() {
        let stderr =
            "error[E0308]: mismatched types\n --> src/lib.rs:1:1\n\nerror: could not compile `x`\n";
        match interpret(false, "", stderr) {
            Outcome::CompileError { excerpt } => assert!(excerpt.starts_with("error[E0308]")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_cargo_failures_keep_the_end_of_stderr() {
        let stderr = "error: package ID specification `ex99` did not match any packages\n";
        match interpret(false, "", stderr) {
            Outcome::CargoFailed { excerpt } => assert!(excerpt.contains("ex99")),
            other => panic!("{other:?}"),
        }
    }
}
