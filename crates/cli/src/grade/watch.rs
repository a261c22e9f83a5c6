//! `lostfound grade --watch`: regrade on every save.
//!
//! No file-notification library: the exercise's `src/` holds a handful of
//! files, so comparing their modification times every 200 ms costs nothing
//! and works the same on every platform and file system.

use super::{Session, Verdict, grade_one, print_failure, print_row};
use anyhow::Result;
use lostfound_grader::manifest::Manifest;
use lostfound_grader::registry::Exercise;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What we know of each file under a directory: modification time and size.
type Snapshot = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

pub fn watch(session: &mut Session, only: Option<&str>) -> Result<ExitCode> {
    let manifest = Manifest::load(&session.repo)?;
    let first = match only {
        Some(name) => Some(session.find(name)?.clone()),
        None => next_open(session, &manifest)?,
    };
    let Some(mut exercise) = first else {
        println!("\nNothing left to watch: every exercise passes.");
        return Ok(ExitCode::SUCCESS);
    };
    loop {
        println!(
            "\nWatching exercises/{}/src/ ({}); save a file to regrade, Ctrl-C to stop.",
            exercise.name,
            super::short_title(&exercise)
        );
        grade_and_report(session, &manifest, &exercise)?;
        while !session.progress.has_passed(&exercise.name) {
            wait_for_change(&[exercise.dir.join("src"), exercise.dir.join("tests")])?;
            grade_and_report(session, &manifest, &exercise)?;
        }
        let next = match only {
            Some(_) => None,
            None => next_open(session, &manifest)?,
        };
        match next {
            Some(next) => exercise = next,
            None => {
                println!("\nNothing left to watch: every exercise you asked for passes.");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// The first exercise, in order, that does not pass now. Exercises the
/// progress file marks as passed are graded again on the way (a pass
/// remembered from an earlier run is not proof that the code still
/// passes); the first one never passed is returned without grading.
fn next_open(session: &mut Session, manifest: &Manifest) -> Result<Option<Exercise>> {
    for exercise in session.exercises.clone() {
        if !session.progress.has_passed(&exercise.name) {
            return Ok(Some(exercise));
        }
        let verdict = grade_one(session, manifest, &exercise)?;
        session
            .progress
            .record_result(&exercise.name, verdict.passed());
        session.save()?;
        print_row(verdict.mark(), &exercise, &verdict.summary());
        if !verdict.passed() {
            return Ok(Some(exercise));
        }
    }
    Ok(None)
}

/// Grades once and prints the row, the regrade time and any failure.
fn grade_and_report(session: &mut Session, manifest: &Manifest, exercise: &Exercise) -> Result<()> {
    let verdict = grade_one(session, manifest, exercise)?;
    session
        .progress
        .record_result(&exercise.name, verdict.passed());
    session.save()?;
    println!();
    print_row(verdict.mark(), exercise, &verdict.summary());
    if let Verdict::Ran(run) = &verdict {
        println!("  (regraded in {:.2} s)", run.elapsed.as_secs_f64());
    }
    if !verdict.passed() {
        print_failure(session, exercise, &verdict)?;
    }
    Ok(())
}

/// Blocks until a file under one of `directories` is added, removed or
/// changed. `tests/` is watched too, so that restoring a changed test file
/// regrades at once.
fn wait_for_change(directories: &[PathBuf]) -> Result<()> {
    let before = snapshot(directories);
    loop {
        std::thread::sleep(POLL_INTERVAL);
        if snapshot(directories) != before {
            return Ok(());
        }
    }
}

fn snapshot(directories: &[PathBuf]) -> Snapshot {
    let mut files = Snapshot::new();
    for directory in directories {
        collect(directory, &mut files);
    }
    files
}

fn collect(directory: &Path, files: &mut Snapshot) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if metadata.is_dir() {
            collect(&path, files);
        } else {
            files.insert(path, (metadata.modified().ok(), metadata.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_edits_additions_and_removals() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let file = directory.path().join("lib.rs");
        std::fs::write(&file, "fn a() {}").expect("write");
        let watched = [directory.path().to_owned()];
        let first = snapshot(&watched);
        assert_eq!(first, snapshot(&watched), "nothing changed");
        std::fs::write(&file, "fn ab() {}").expect("write");
        let second = snapshot(&watched);
        assert_ne!(
            first, second,
            "a longer file is a change even within one mtime tick"
        );
        std::fs::create_dir(directory.path().join("nested")).expect("mkdir");
        std::fs::write(directory.path().join("nested/more.rs"), "").expect("write");
        assert_ne!(second, snapshot(&watched), "a new file in a subdirectory");
    }
}
