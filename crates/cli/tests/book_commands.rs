//! The book's commands, run as a test, so that the book cannot drift from
//! the code.
//!
//! Every ```` ```console ```` block of the chapters listed below is a
//! transcript:
//!
//! - a line starting with `$ ` is a command; a command whose line ends with
//!   `\` continues on the next line, as in a shell;
//! - the lines after it, up to the next `$ ` line or the end of the block,
//!   are its expected output; a line `...` alone stands for any number of
//!   lines, none included.
//!
//! **Convention.** The expected output is what a reader sees in a terminal:
//! standard output and standard error interleaved in the order the command
//! wrote them (the chapters show `sign`'s note on standard error right under
//! a command whose standard output goes to a file). So each command runs
//! with its standard error joined to its standard output, and standard input
//! empty. Lines are compared without trailing whitespace, which editors strip
//! and readers cannot see.
//!
//! The commands of one chapter run in order, as one `bash` script, in one
//! temporary directory that holds a copy of `book/examples/`: later commands
//! read the files that earlier ones wrote, and `echo $?` reports the status
//! of the command before it, as in a terminal. `cargo run -q --` (and its
//! `--release` forms) becomes the `lostfound` binary that Cargo built for
//! this test; the test never runs Cargo itself, which would wait forever for
//! the build lock that `cargo test` holds. Commands that need the network,
//! another tool, or Cargo are skipped by the explicit list in [`skip_reason`],
//! and each chapter must run at least as many commands as it does today, so
//! that a parser or skip-list bug cannot make the test pass by running
//! nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The forms of `cargo run` the book types, longest first; each becomes the
/// test binary.
const CARGO_RUN: [&str; 4] = [
    "cargo run -q --release --",
    "cargo run --release -q --",
    "cargo run --release --",
    "cargo run -q --",
];

/// Commands the test does not run, by the program that starts a pipeline
/// segment (for Cargo, with its subcommand), and why.
const SKIPPED: [(&str, &str); 7] = [
    (
        "cargo build",
        "builds the workspace: Cargo's build lock is held by this test run",
    ),
    (
        "cargo test",
        "runs the tests: Cargo's build lock is held by this test run",
    ),
    (
        "cargo install",
        "downloads from crates.io and installs into ~/.cargo",
    ),
    ("mdbook", "an extra tool; `mdbook serve` also never exits"),
    ("just", "an extra tool, and every recipe runs Cargo"),
    ("jq", "an extra tool"),
    ("rustc", "prints the version of the reader's toolchain"),
];

/// Why `command` is not run, or `None` to run it. Panics on a Cargo command
/// that neither becomes the binary nor is skipped on purpose.
fn skip_reason(command: &str) -> Option<&'static str> {
    let segments = command.split(['|', ';', '&', '(', ')', '\n']);
    for segment in segments {
        let words: Vec<&str> = segment
            .split_whitespace()
            .skip_while(|word| word.contains('=')) // VAR=value prefixes
            .take(2)
            .collect();
        let program = words.join(" ");
        for (prefix, reason) in SKIPPED {
            if program == prefix || program.starts_with(&format!("{prefix} ")) {
                return Some(reason);
            }
        }
        assert!(
            words.first() != Some(&"cargo"),
            "the book runs `{command}`: this test replaces only {CARGO_RUN:?} with the binary; \
             add the form to CARGO_RUN, or the command to SKIPPED with a reason"
        );
    }
    None
}

/// One `$ ` command of a console block, with the output the book shows.
#[derive(Debug)]
struct Step {
    /// 1-based line of the `$ ` in the chapter, for messages.
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The commands of every ```` ```console ```` block of `markdown`, in order.
fn console_steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    let mut continued = false;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        if !in_console {
            in_console = fence.starts_with("```console");
            continue;
        }
        if fence.starts_with("```") {
            in_console = false;
            continue;
        }
        if continued {
            let step = steps.last_mut().expect("a continued command");
            step.command.push('\n');
            step.command.push_str(line);
            continued = line.ends_with('\\');
        } else if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: index + 1,
                command: command.to_owned(),
                expected: Vec::new(),
            });
            continued = line.ends_with('\\');
        } else {
            let step = steps.last_mut().unwrap_or_else(|| {
                panic!(
                    "line {}: output in a console block before any `$ ` command",
                    index + 1
                )
            });
            step.expected.push(line.to_owned());
        }
    }
    assert!(!in_console, "a console block is not closed");
    steps
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether `actual` matches `expected`, where an expected line `...` matches
/// any run of lines. On a mismatch, returns the index of the furthest
/// expected line that could not be matched (`expected.len()` when the
/// actual output goes on after the end) and the index of the first actual
/// line it was compared with.
fn matches(expected: &[String], actual: &[&str]) -> Result<(), (usize, usize)> {
    let (mut e, mut a) = (0, 0);
    // The last `...` seen, and the actual line it would absorb next.
    let mut star: Option<(usize, usize)> = None;
    // Furthest expected line reached, and where it was first tried.
    let mut furthest: Option<(usize, usize)> = None;
    loop {
        if e < expected.len() && expected[e] == "..." {
            star = Some((e, a));
            e += 1;
            continue;
        }
        if e == expected.len() && a == actual.len() {
            return Ok(());
        }
        if e < expected.len() && a < actual.len() && expected[e].trim_end() == actual[a].trim_end()
        {
            e += 1;
            a += 1;
        } else {
            if furthest.is_none_or(|(far, _)| e > far) {
                furthest = Some((e, a));
            }
            match star {
                // Let the `...` absorb one more line and try again.
                Some((star_e, star_a)) if star_a < actual.len() => {
                    star = Some((star_e, star_a + 1));
                    e = star_e + 1;
                    a = star_a + 1;
                }
                _ => return Err(furthest.unwrap_or((e, a))),
            }
        }
    }
}

/// Removes its directory when dropped, whether the test passes or not.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory to copy") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

fn marker(index: usize) -> String {
    format!("__LOSTFOUND_BOOK_STEP_{index}__")
}

/// Runs the console commands of `book/src/<chapter>` and compares their
/// output with the book's; asserts that at least `min_run` of them ran.
fn check_chapter(chapter: &str, min_run: usize) {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book");
    let markdown = std::fs::read_to_string(book.join("src").join(chapter))
        .unwrap_or_else(|error| panic!("read book/src/{chapter}: {error}"));
    let steps = console_steps(&markdown);

    let binary = shell_quote(env!("CARGO_BIN_EXE_lostfound"));
    let mut script = String::from(
        "exec 2>&1\n\
         __lostfound_mark() { local status=$?; printf '\\n%s\\n' \"$1\"; return $status; }\n",
    );
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    for step in &steps {
        let mut command = step.command.clone();
        for form in CARGO_RUN {
            command = command.replace(form, &binary);
        }
        if let Some(reason) = skip_reason(&command) {
            skipped.push(format!("{}: {} ({reason})", step.line, step.command));
            continue;
        }
        writeln!(script, "__lostfound_mark {}\n{command}", marker(run.len())).unwrap();
        run.push(step);
    }
    writeln!(script, "__lostfound_mark {}", marker(run.len())).unwrap();
    eprintln!(
        "book/src/{chapter}: running {} commands, skipping {}:",
        run.len(),
        skipped.len()
    );
    for skip in &skipped {
        eprintln!("  skipped line {skip}");
    }
    assert!(
        run.len() >= min_run,
        "book/src/{chapter}: only {} commands ran, expected at least {min_run}; \
         did the console blocks or the skip list change?",
        run.len()
    );

    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let stem = chapter.trim_end_matches(".md");
    let dir = TempDir(std::env::temp_dir().join(format!(
        "lostfound-book-{stem}-{}-{unique}",
        std::process::id()
    )));
    copy_dir(&book.join("examples"), &dir.0.join("book/examples"));

    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir.0)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run bash");
    let text = String::from_utf8(output.stdout).expect("UTF-8 output");

    let mut rest = text
        .strip_prefix(&format!("\n{}\n", marker(0)))
        .unwrap_or_else(|| panic!("book/src/{chapter}: the script did not start:\n{text}"));
    for (index, step) in run.iter().enumerate() {
        let next = format!("\n{}\n", marker(index + 1));
        let (output, after) = rest.split_once(&next).unwrap_or_else(|| {
            panic!(
                "book/src/{chapter}, line {}: `{}` ended the script; its output:\n{rest}",
                step.line, step.command
            )
        });
        rest = after;
        let actual: Vec<&str> = output.lines().collect();
        if let Err((e, a)) = matches(&step.expected, &actual) {
            let book_line = step
                .expected
                .get(e)
                .map_or("(end of output)", String::as_str);
            let printed = actual.get(a).copied().unwrap_or("(end of output)");
            let difference = if e > 0 && step.expected[e - 1] == "..." {
                format!(
                    "the book's output line {} (after a `...`)\n  {book_line:?}\nis not among \
                     the lines the command printed from its line {} on",
                    e + 1,
                    a + 1
                )
            } else {
                format!(
                    "the book's output line {} is\n  {book_line:?}\nbut the command printed \
                     (line {})\n  {printed:?}",
                    e + 1,
                    a + 1
                )
            };
            panic!(
                "book/src/{chapter}, line {}: the output of\n  $ {}\ndiffers from the book's.\n\
                 First difference: {difference}\n\n--- the book shows ---\n{}\n\
                 --- the command printed ---\n{}\n",
                step.line,
                step.command,
                step.expected.join("\n"),
                actual.join("\n"),
            );
        }
    }
}

#[test]
fn events_chapter_commands_print_what_the_book_shows() {
    check_chapter("events.md", 16);
}

#[test]
fn using_chapter_commands_print_what_the_book_shows() {
    check_chapter("using.md", 9);
}

#[test]
fn homeserver_chapter_commands_print_what_the_book_shows() {
    check_chapter("homeserver.md", 49);
}

#[test]
fn federation_chapter_commands_print_what_the_book_shows() {
    check_chapter("federation.md", 67);
}

#[test]
fn healing_chapter_commands_print_what_the_book_shows() {
    check_chapter("healing.md", 8);
}

#[test]
fn replay_chapter_commands_print_what_the_book_shows() {
    check_chapter("replay.md", 9);
}

#[test]
fn dots_match_any_number_of_lines() {
    let expected: Vec<String> = ["a", "...", "c", "..."]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(matches(&expected, &["a", "c"]), Ok(()));
    assert_eq!(matches(&expected, &["a", "b", "c", "d", "c", "e"]), Ok(()));
    assert_eq!(matches(&expected, &["a", "b"]), Err((2, 1)));
    assert_eq!(matches(&expected, &["x", "c"]), Err((0, 0)));
    let exact: Vec<String> = vec!["a".into(), "b".into()];
    assert_eq!(matches(&exact, &["a", "b", "c"]), Err((2, 2)));
    assert_eq!(matches(&exact, &["a"]), Err((1, 1)));
}

#[test]
fn commands_continue_after_a_backslash() {
    let steps = console_steps("```console\n$ echo a \\\n  b\na b\n$ true\n```\n");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].command, "echo a \\\n  b");
    assert_eq!(steps[0].expected, ["a b"]);
    assert!(steps[1].expected.is_empty());
}
