//! Reading what `cargo test` prints: libtest's counts and failures, and
//! rustc's errors, cut down to what a student should read first.
//!
//! A failing `cargo test` prints hundreds of lines: compile progress,
//! warnings, every test name, then the failures. A student needs the
//! failures (the panic message or the `assert_eq!` diff) or, if the code
//! does not compile, the first compiler errors. Everything here is a pure
//! function of the text, so it is tested on captured output.

/// The totals of every `test result:` line in the output (one per test
/// binary: unit tests, each integration test, doc tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: u32,
    pub failed: u32,
    pub ignored: u32,
}

impl TestCounts {
    pub fn total(&self) -> u32 {
        self.passed + self.failed + self.ignored
    }
}

/// Sums every `test result: ... N passed; M failed; K ignored; ...` line;
/// `None` if there is none (nothing ran: the build failed).
pub fn parse_counts(stdout: &str) -> Option<TestCounts> {
    let mut counts: Option<TestCounts> = None;
    for line in stdout.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        let total = counts.get_or_insert_with(TestCounts::default);
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u32>() else {
                continue;
            };
            match label {
                "passed" => total.passed += number,
                "failed" => total.failed += number,
                "ignored" => total.ignored += number,
                _ => {}
            }
        }
    }
    counts
}

/// The test names `cargo test -- --list` printed (`name: test` lines).
pub fn listed_tests(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

/// Why a run's output does not confirm a pass of the `listed` tests, or
/// `None` when it does: every listed test reported `ok` exactly once, no
/// other test did, and the passes counted equal the tests listed.
pub fn unconfirmed(stdout: &str, listed: &[String], counts: TestCounts) -> Option<String> {
    if listed.is_empty() {
        return Some("no graded tests were listed".to_owned());
    }
    let mut oks: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... ok"))
        {
            *oks.entry(name).or_default() += 1;
        }
    }
    if let Some(name) = listed
        .iter()
        .find(|name| oks.get(name.as_str()) != Some(&1))
    {
        return Some(format!("`{name}` did not report ok exactly once"));
    }
    if oks.len() != listed.len() || counts.passed as usize != listed.len() {
        return Some(format!(
            "{} tests are listed but {} passes were reported",
            listed.len(),
            counts.passed
        ));
    }
    None
}

/// The names of the failing tests, in the order libtest reports them.
pub fn failing_tests(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let name = rest.strip_suffix(" ... FAILED")?;
            Some(name.to_owned())
        })
        .collect()
}

/// How much of the failures to show.
#[derive(Debug, Clone, Copy)]
pub struct ExcerptLimits {
    /// Failing tests shown in full; the others are named only.
    pub tests: usize,
    /// Lines kept of each failure.
    pub lines_per_test: usize,
}

impl Default for ExcerptLimits {
    fn default() -> Self {
        Self {
            tests: 3,
            lines_per_test: 14,
        }
    }
}

/// The failures section of libtest's output, trimmed: for each failing test
/// its panic message or assertion diff, without the backtrace note; tests
/// that failed with the same message as one already shown are only
/// counted, so twenty `todo!()` panics read as one.
pub fn failure_excerpt(stdout: &str, limits: ExcerptLimits) -> String {
    let blocks = failure_blocks(stdout);
    let mut shown: Vec<(String, Vec<String>)> = Vec::new();
    let mut repeated = 0;
    let mut not_shown = Vec::new();
    for (name, lines) in blocks {
        let message = message_lines(&lines);
        if shown.iter().any(|(_, seen)| *seen == message) {
            repeated += 1;
        } else if shown.len() < limits.tests {
            shown.push((name, message));
        } else {
            not_shown.push(name);
        }
    }
    let mut out = String::new();
    for (name, message) in &shown {
        out.push_str(&format!("---- {name} ----\n"));
        for line in message.iter().take(limits.lines_per_test) {
            out.push_str(line);
            out.push('\n');
        }
        if message.len() > limits.lines_per_test {
            out.push_str(&format!(
                "[… {} more lines]\n",
                message.len() - limits.lines_per_test
            ));
        }
        out.push('\n');
    }
    if repeated > 0 {
        out.push_str(&format!(
            "({repeated} more failing tests panicked with one of the messages above)\n"
        ));
    }
    if !not_shown.is_empty() {
        out.push_str(&format!("(also failing: {})\n", not_shown.join(", ")));
    }
    out.trim_end().to_owned()
}

/// `---- NAME stdout ----` blocks: each failing test's captured output.
fn failure_blocks(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in stdout.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            blocks.push((name.to_owned(), Vec::new()));
            inside = true;
        } else if line == "failures:" || line.starts_with("test result: ") {
            inside = false;
        } else if inside && let Some((_, lines)) = blocks.last_mut() {
            lines.push(line.to_owned());
        }
    }
    blocks
}

/// A failure's lines worth reading: no backtrace note, no thread prefix
/// noise, no leading or trailing blank lines.
fn message_lines(lines: &[String]) -> Vec<String> {
    let kept: Vec<String> = lines
        .iter()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
        .map(|line| simplify_panic_line(line))
        .collect();
    let start = kept.iter().position(|line| !line.trim().is_empty());
    let end = kept.iter().rposition(|line| !line.trim().is_empty());
    match (start, end) {
        (Some(start), Some(end)) => kept[start..=end].to_vec(),
        _ => Vec::new(),
    }
}

/// `thread 'name' (1234) panicked at src/lib.rs:5:5:` → `panicked at
/// src/lib.rs:5:5:`: the test's name is already in the heading, and the
/// thread ID (printed since Rust 1.93) differs between identical failures.
fn simplify_panic_line(line: &str) -> String {
    if line.starts_with("thread '")
        && let Some(index) = line.find(" panicked at ")
    {
        return line[index + 1..].to_owned();
    }
    line.to_owned()
}

/// The first `max_errors` compiler errors in cargo's standard error, each
/// with its source snippet, at most `max_lines` lines in all; warnings and
/// progress lines left out.
pub fn compiler_errors(stderr: &str, max_errors: usize, max_lines: usize) -> String {
    let mut errors: Vec<Vec<&str>> = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let mut total = 0;
    for line in stderr.lines() {
        let starts_error = line.starts_with("error[") || line.starts_with("error:");
        let starts_other = line.starts_with("warning")
            || line.trim_start().starts_with("Compiling ")
            || line.trim_start().starts_with("Checking ")
            || line.trim_start().starts_with("Finished ")
            || line.trim_start().starts_with("Running ")
            || line.starts_with("Some errors have")
            || line.starts_with("For more information");
        if starts_error && !is_summary_error(line) {
            errors.extend(current.take());
            total += 1;
            current = Some(vec![line]);
        } else if starts_error || starts_other {
            errors.extend(current.take());
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    errors.extend(current);
    let mut out: Vec<&str> = Vec::new();
    for block in errors.iter().take(max_errors) {
        let trimmed = trim_blank(block);
        out.extend(trimmed);
        out.push("");
    }
    let mut text: Vec<String> = out.iter().take(max_lines).map(|s| s.to_string()).collect();
    if out.len() > max_lines {
        text.push("[…]".into());
    }
    if total > max_errors {
        text.push(format!(
            "({} more errors; fix these first)",
            total - max_errors
        ));
    }
    text.join("\n").trim_end().to_owned()
}

/// cargo's closing lines (`error: could not compile …`) repeat nothing new.
fn is_summary_error(line: &str) -> bool {
    line.starts_with("error: could not compile")
        || line.starts_with("error: test failed")
        || line.starts_with("error: aborting due to")
}

fn trim_blank<'a>(block: &[&'a str]) -> Vec<&'a str> {
    let end = block
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(0, |index| index + 1);
    block[..end].to_vec()
}

#[cfg(test)]
mod tests;
