//! `lostfound grade`: grade the exercises, in order, and help along the way.
//!
//! The work is done by `lostfound-grader` (finding exercises, running
//! cargo, checking the manifest, remembering progress); this module decides
//! what to run and prints it for a person.

mod actions;
mod watch;

use anyhow::{Context, Result};
use clap::{ArgGroup, Args};
use lostfound_grader::integrity;
use lostfound_grader::manifest::Manifest;
use lostfound_grader::progress::Progress;
use lostfound_grader::registry::{self, Exercise};
use lostfound_grader::repo::Repo;
use lostfound_grader::runner::{self, Outcome, Run, RunOptions};
use std::process::ExitCode;

/// Grade your exercises: run each one's tests against your code, in order.
///
/// Each exercise in exercises/NN-name/ asks you to write one piece of a
/// Matrix homeserver in its src/lib.rs. `lostfound grade` runs the
/// exercises' tests in order (`cargo test -p exNN-name --features graded`),
/// prints a table (✓ passed, ✗ failing, · not yet), and stops at the first
/// failing exercise with the part of the test output worth reading.
///
/// Typical session:
///
///   lostfound grade                  where am I? grade everything, in order
///   lostfound grade --watch          regrade the current exercise on every save
///   lostfound grade --hint           stuck: show the next hint (up to 3)
///   lostfound grade --only 02        grade one exercise (by number or name)
///   lostfound grade --solution 01    after passing: read the reference
///   lostfound grade --reset 01       start an exercise over from its stub
///
/// The tests, hints and Cargo.toml of each exercise are protected:
/// exercises/manifest.toml records their git blob IDs, and a pass does not
/// count while any of them was changed. Your progress (passes, hints seen)
/// is kept in .lostfound/progress.json, which git ignores.
///
/// Exit status: 0 every graded exercise passes, 1 an exercise fails (or its
/// tests were changed), 2 a usage or setup error.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
#[command(group(ArgGroup::new("action").args(["hint", "watch", "list", "reset", "solution", "write_manifest"])))]
pub struct GradeArgs {
    /// Grade only this exercise: its directory name (01-canonical-json),
    /// its number (1 or 01) or its slug (canonical-json). With --hint or
    /// --watch: the exercise to work on.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "reset", "solution", "write_manifest"])]
    only: Option<String>,

    /// Show the next hint of the current exercise (the first one you have
    /// not passed). Hints go from gentle to nearly the answer; each --hint
    /// reveals one more, and `--list` shows how many you have seen.
    #[arg(long)]
    hint: bool,

    /// Regrade the current exercise every time a file in its src/ changes
    /// (checked every 200 ms), printing how long each regrade took. Moves
    /// on to the next exercise when one passes. Stop with Ctrl-C.
    #[arg(long)]
    watch: bool,

    /// List the exercises with what you have done: passed, hints seen.
    /// Runs nothing.
    #[arg(long)]
    list: bool,

    /// Put back the original stub of exercise NAME (its src/lib.rs),
    /// from git's object store, after asking. Your version is lost.
    #[arg(long, value_name = "NAME")]
    reset: Option<String>,

    /// With --reset: do not ask.
    #[arg(long, requires = "reset")]
    yes: bool,

    /// Show how the workbench itself answers exercise NAME: its reference
    /// adapter and where the real implementation lives. Only once your own
    /// code has passed that exercise.
    #[arg(long, value_name = "NAME")]
    solution: Option<String>,

    /// For maintainers: record the current tests, hints and stubs in
    /// exercises/manifest.toml. Run it after changing an exercise, on a
    /// tree whose stubs are pristine, and commit the result (passes do not
    /// count while the manifest differs from the last commit).
    #[arg(long, hide = true)]
    write_manifest: bool,
}

/// What every action needs: the checkout, its exercises, the student's progress.
struct Session {
    repo: Repo,
    exercises: Vec<Exercise>,
    progress: Progress,
}

impl Session {
    fn open() -> Result<Self> {
        let repo = Repo::discover()?;
        let exercises = registry::discover(&repo)?;
        if exercises.is_empty() {
            anyhow::bail!("{} holds no exercises", repo.exercises_dir().display());
        }
        let progress = Progress::load(repo.root())?;
        Ok(Self {
            repo,
            exercises,
            progress,
        })
    }

    fn find(&self, name: &str) -> Result<&Exercise> {
        Ok(registry::find(&self.exercises, name)?)
    }

    /// `--only NAME`, or the first exercise not yet passed (the last one
    /// if all have passed).
    fn current(&self, only: Option<&str>) -> Result<&Exercise> {
        if let Some(name) = only {
            return self.find(name);
        }
        let first_open = self
            .exercises
            .iter()
            .find(|exercise| !self.progress.has_passed(&exercise.name));
        first_open.or(self.exercises.last()).context("no exercises")
    }

    fn save(&self) -> Result<()> {
        Ok(self.progress.save(self.repo.root())?)
    }
}

pub fn run(args: GradeArgs) -> Result<ExitCode> {
    let mut session = Session::open()?;
    if args.write_manifest {
        return actions::write_manifest(&session);
    }
    if args.list {
        return actions::list(&session);
    }
    if let Some(name) = &args.reset {
        return actions::reset(&mut session, name, args.yes);
    }
    if let Some(name) = &args.solution {
        return actions::solution(&session, name);
    }
    if args.hint {
        return actions::hint(&mut session, args.only.as_deref());
    }
    if args.watch {
        return watch::watch(&mut session, args.only.as_deref());
    }
    grade_in_order(&mut session, args.only.as_deref())
}

/// Grades the exercises in order (or only one), printing a row for each,
/// and stops at the first that fails.
fn grade_in_order(session: &mut Session, only: Option<&str>) -> Result<ExitCode> {
    let manifest = Manifest::load(&session.repo)?;
    let selected: Vec<Exercise> = match only {
        Some(name) => vec![session.find(name)?.clone()],
        None => session.exercises.clone(),
    };
    let mut failure: Option<(Exercise, Verdict)> = None;
    for exercise in &selected {
        if failure.is_some() {
            print_row('·', exercise, "");
            continue;
        }
        let verdict = grade_one(session, &manifest, exercise)?;
        session
            .progress
            .record_result(&exercise.name, verdict.passed());
        session.save()?;
        print_row(verdict.mark(), exercise, &verdict.summary());
        if !verdict.passed() {
            failure = Some((exercise.clone(), verdict));
        }
    }
    match failure {
        Some((exercise, verdict)) => {
            print_failure(session, &exercise, &verdict)?;
            Ok(ExitCode::from(1))
        }
        None => {
            let what = match only {
                Some(_) => "This exercise passes.".to_owned(),
                None => format!("All {} exercises pass. Well done.", selected.len()),
            };
            println!("\n{what} `lostfound grade --solution NAME` shows how the workbench does it.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One exercise's grade: its tests were changed, or the run's outcome.
enum Verdict {
    TestsChanged(Vec<String>),
    Ran(Run),
}

impl Verdict {
    fn passed(&self) -> bool {
        matches!(self, Verdict::Ran(run) if run.outcome.passed())
    }

    fn mark(&self) -> char {
        if self.passed() { '✓' } else { '✗' }
    }

    fn summary(&self) -> String {
        match self {
            Verdict::TestsChanged(_) => "not graded (see below)".into(),
            Verdict::Ran(run) => {
                let seconds = run.elapsed.as_secs_f64();
                let what = match &run.outcome {
                    Outcome::Passed(counts) => format!("{0}/{0} tests", counts.passed),
                    Outcome::Failed { counts, .. } => {
                        format!("{}/{} tests", counts.passed, counts.total())
                    }
                    Outcome::CompileError { .. } => "does not compile".into(),
                    Outcome::TimedOut { limit } => format!("stopped after {} s", limit.as_secs()),
                    Outcome::CargoFailed { .. } => "cargo failed".into(),
                };
                format!("{what:<18} {seconds:>5.1} s")
            }
        }
    }
}

/// Checks the exercise's protected files and what else could make a pass
/// dishonest ([`integrity`]), then runs its tests.
fn grade_one(session: &Session, manifest: &Manifest, exercise: &Exercise) -> Result<Verdict> {
    let tampering = manifest.check(&session.repo, exercise)?;
    let mut sentences: Vec<String> = tampering.iter().map(|t| t.explain(exercise)).collect();
    sentences.extend(integrity::problems(&session.repo, exercise)?);
    if !sentences.is_empty() {
        return Ok(Verdict::TestsChanged(sentences));
    }
    let run = runner::run(session.repo.root(), exercise, &RunOptions::default())?;
    Ok(Verdict::Ran(run))
}

fn print_row(mark: char, exercise: &Exercise, summary: &str) {
    let title = short_title(exercise);
    let row = format!("  {mark} {:<24} {title:<34} {summary}", exercise.name);
    println!("{}", row.trim_end());
}

/// "Exercise 1: Canonical JSON" → "Canonical JSON".
fn short_title(exercise: &Exercise) -> &str {
    match exercise.title.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("Exercise") => rest,
        _ => &exercise.title,
    }
}

/// The failing exercise's story: what failed, the output worth reading,
/// and what to do next.
fn print_failure(session: &Session, exercise: &Exercise, verdict: &Verdict) -> Result<()> {
    println!();
    match verdict {
        Verdict::TestsChanged(sentences) => {
            println!(
                "{}: not graded, because a pass could not count:",
                exercise.name
            );
            for sentence in sentences {
                println!("  {sentence}");
            }
            return Ok(());
        }
        Verdict::Ran(run) => print_outcome(exercise, &run.outcome),
    }
    let hints = exercise.hints()?;
    let seen = session.progress.hints_revealed(&exercise.name);
    println!(
        "\nYour code: exercises/{}/src/lib.rs; the task: exercises/{}/README.md",
        exercise.name, exercise.name
    );
    if seen < hints.len() {
        println!(
            "Run `lostfound grade --hint` for a hint ({seen} of {} seen), or \
             `lostfound grade --watch` to regrade on every save.",
            hints.len()
        );
    } else {
        println!("Run `lostfound grade --watch` to regrade on every save.");
    }
    Ok(())
}

fn print_outcome(exercise: &Exercise, outcome: &Outcome) {
    match outcome {
        Outcome::Passed(_) => {}
        Outcome::Failed { counts, excerpt } => {
            println!(
                "{}: {} of {} tests fail.\n\n{excerpt}",
                exercise.name,
                counts.failed,
                counts.total()
            );
        }
        Outcome::CompileError { excerpt } => {
            println!(
                "{}: your code does not compile.\n\n{excerpt}",
                exercise.name
            );
        }
        Outcome::TimedOut { limit } => println!(
            "{}: the tests ran for more than {} s and were stopped. An infinite loop, \
             or a recursion that never reaches its base case?",
            exercise.name,
            limit.as_secs()
        ),
        Outcome::CargoFailed { excerpt } => {
            println!(
                "{}: cargo failed before the tests ran:\n\n{excerpt}",
                exercise.name
            );
        }
    }
}
