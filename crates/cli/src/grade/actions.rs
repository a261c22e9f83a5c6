//! The actions of `lostfound grade` that run no tests: list, hint, reset,
//! solution, and the maintainers' manifest writer.

use super::{Session, short_title};
use anyhow::{Context, Result};
use lostfound_grader::manifest::{MANIFEST_PATH, Manifest};
use lostfound_grader::registry::Exercise;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

/// `--list`: every exercise with the student's progress.
pub fn list(session: &Session) -> Result<ExitCode> {
    let mut out = format!("  {:<24} {:<34} hints seen\n", "exercise", "title");
    for exercise in &session.exercises {
        let mark = if session.progress.has_passed(&exercise.name) {
            '✓'
        } else {
            '·'
        };
        let hints = exercise.hints()?.len();
        let seen = session.progress.hints_revealed(&exercise.name).min(hints);
        out.push_str(&format!(
            "{mark} {:<24} {:<34} {seen}/{hints}\n",
            exercise.name,
            short_title(exercise)
        ));
    }
    out.push_str(
        "\n✓ passed when last graded, · not yet. `lostfound grade` grades them in order.\n",
    );
    // `lostfound grade --list | head` closes the pipe early: not an error.
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `--hint`: the next hint of the current exercise.
pub fn hint(session: &mut Session, only: Option<&str>) -> Result<ExitCode> {
    let exercise = session.current(only)?.clone();
    let hints = exercise.hints()?;
    if hints.is_empty() {
        println!(
            "{} has no hints. Its README explains the task.",
            exercise.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let seen = session.progress.hints_revealed(&exercise.name);
    let index = seen.min(hints.len() - 1);
    if seen < hints.len() {
        session.progress.reveal_hint(&exercise.name);
        session.save()?;
    }
    println!(
        "Hint {} of {} for {} ({}):\n",
        index + 1,
        hints.len(),
        exercise.name,
        short_title(&exercise)
    );
    // The hint's own "## Hint N" heading repeats the line above.
    let body = hints[index].split_once('\n').map_or("", |(_, body)| body);
    println!("{}\n", body.trim());
    if index + 1 < hints.len() {
        println!("`lostfound grade --hint` again shows the next one.");
    } else {
        println!("That was the last hint. `lostfound grade --watch` regrades as you save.");
    }
    Ok(ExitCode::SUCCESS)
}

/// `--reset NAME`: put back the pristine stub, from git's object store.
pub fn reset(session: &mut Session, name: &str, yes: bool) -> Result<ExitCode> {
    let exercise = session.find(name)?.clone();
    let manifest = Manifest::load(&session.repo)?;
    let blob = manifest.stub_blob(&exercise).with_context(|| {
        format!(
            "{} is not in {MANIFEST_PATH}, so its stub is unknown",
            exercise.name
        )
    })?;
    let stub = session.repo.read_blob(blob).with_context(|| {
        format!("the original stub (blob {blob}) is not in this clone's git objects")
    })?;
    let path = exercise.stub_path();
    let relative = format!("exercises/{}/src/lib.rs", exercise.name);
    if std::fs::read(&path).ok().as_deref() == Some(stub.as_slice()) {
        println!("{relative} is already the original stub.");
        return Ok(ExitCode::SUCCESS);
    }
    if !yes
        && !confirm(&format!(
            "Replace {relative} with the original stub? Your version will be lost."
        ))?
    {
        println!("Left {relative} as it is.");
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&path, &stub).with_context(|| format!("writing {}", path.display()))?;
    session.progress.forget_pass(&exercise.name);
    session.save()?;
    println!("Restored {relative}. Your hints seen are kept.");
    Ok(ExitCode::SUCCESS)
}

/// Asks a yes/no question on the terminal; anything but y/yes is no.
fn confirm(question: &str) -> Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `--solution NAME`: the reference adapter, once the student has passed.
pub fn solution(session: &Session, name: &str) -> Result<ExitCode> {
    let exercise = session.find(name)?;
    if !session.progress.has_passed(&exercise.name) {
        println!(
            "Not yet: your code has not passed {} (as far as the last grading knows). \
             The reference is shown once you have solved it yourself, so it can teach \
             you something instead of spoiling the exercise.\n\
             Grade it with `lostfound grade --only {}`; stuck? `lostfound grade --hint`.",
            exercise.name, exercise.name
        );
        return Ok(ExitCode::from(1));
    }
    let adapter = exercise.dir.join("tests").join("reference").join("mod.rs");
    let text = std::fs::read_to_string(&adapter)
        .with_context(|| format!("reading {}", adapter.display()))?;
    println!(
        "How the workbench answers {} (exercises/{}/tests/reference/mod.rs):\n",
        exercise.name, exercise.name
    );
    println!("{}", text.trim_end());
    let implementations = implementation_paths(session.repo.root(), &text);
    if !implementations.is_empty() {
        println!("\nThe real implementation, to read beside yours:");
        for path in implementations {
            println!("  {path}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The files in `crates/` an adapter calls: paths it names in its text
/// (`crates/protocol/src/hashes.rs`), or else the modules it imports
/// (`lostfound_protocol::hashes` → `crates/protocol/src/hashes.rs`).
fn implementation_paths(root: &Path, adapter: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let mut add = |path: String| {
        if root.join(&path).is_file() && !paths.contains(&path) {
            paths.push(path);
        }
    };
    for word in adapter.split(|c: char| c.is_whitespace() || "`()<>,;{}".contains(c)) {
        if word.starts_with("crates/") && word.ends_with(".rs") {
            add(word.to_owned());
        }
        if let Some(rest) = word.strip_prefix("lostfound_")
            && let Some((crate_name, path)) = rest.split_once("::")
        {
            let module = path.split("::").next().unwrap_or_default();
            add(format!("crates/{crate_name}/src/{module}.rs"));
        }
    }
    paths
}

/// `--write-manifest`: record the tests, hints and stubs as they are now.
pub fn write_manifest(session: &Session) -> Result<ExitCode> {
    let path = Manifest::write(&session.repo, &session.exercises)?;
    println!(
        "Wrote {} ({} exercises).",
        path.display(),
        session.exercises.len()
    );
    let unfinished: Vec<&Exercise> = session
        .exercises
        .iter()
        .filter(|exercise| !stub_looks_pristine(exercise))
        .collect();
    for exercise in unfinished {
        println!(
            "warning: exercises/{}/src/lib.rs has no todo!(): is it a solution rather than \
             the stub? --reset would restore this version.",
            exercise.name
        );
    }
    println!("Commit it with the exercise files it describes.");
    Ok(ExitCode::SUCCESS)
}

fn stub_looks_pristine(exercise: &Exercise) -> bool {
    std::fs::read_to_string(exercise.stub_path()).is_ok_and(|text| text.contains("todo!("))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementation_paths_come_from_the_adapter_text() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let adapter = "//! `crates/protocol/src/canonical_json.rs`, behind it.\n\
                       use lostfound_protocol::hashes;\n\
                       use lostfound_protocol::{JsonObject, base64};\n\
                       use lostfound_nothing::here;\n";
        assert_eq!(
            implementation_paths(&root, adapter),
            [
                "crates/protocol/src/canonical_json.rs",
                "crates/protocol/src/hashes.rs"
            ]
        );
    }
}
