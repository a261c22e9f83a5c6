//! The grader behind `lostfound grade`.
//!
//! Each exercise under `exercises/NN-slug/` is a crate whose graded tests
//! run against the student's `src/lib.rs`. This crate finds the exercises,
//! runs their tests through `cargo` (as a subprocess, the way a student
//! would), reads libtest's report, and keeps the two things a grader must
//! keep: honest tests and the student's progress.
//!
//! | module | what it is for |
//! |---|---|
//! | [`repo`] | the checkout: finding its root, and the two `git` plumbing commands we need |
//! | [`registry`] | the exercises, in order, with their titles and hints |
//! | [`manifest`] | `exercises/manifest.toml`: the git blob IDs of tests, hints and pristine stubs |
//! | [`integrity`] | what else could make a pass dishonest: build overrides, an edited manifest, calls to the reference |
//! | [`runner`] | running `cargo test -p exNN --features graded`, with a time limit |
//! | [`libtest`] | reading libtest's and rustc's output: counts, and a short excerpt worth showing |
//! | [`progress`] | `.lostfound/progress.json`: which exercises passed, which hints were shown |
//!
//! Why blob IDs: `git hash-object` of a file is the ID git stores it
//! under, so a changed test file is detected without any network, and the
//! pristine stub can be restored with `git cat-file blob ID` in any clone.

pub mod integrity;
pub mod libtest;
pub mod manifest;
pub mod progress;
pub mod registry;
pub mod repo;
pub mod runner;

use std::path::PathBuf;

/// Why grading could not even start, or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// `git` says the current directory is not inside a checkout.
    #[error(
        "this is not a git checkout of Lost & Found ({0}); run `lostfound grade` inside your \
         clone of the repository, where exercises/ lives"
    )]
    NotACheckout(String),
    /// A checkout, but not of this project.
    #[error("{0} has no exercises/ directory: is this a clone of Lost & Found?")]
    NoExercises(PathBuf),
    /// `git` could not be started.
    #[error("could not run git ({0}); the grader needs git installed")]
    GitMissing(std::io::Error),
    /// A `git` command failed.
    #[error("`git {command}` failed: {stderr}")]
    Git { command: String, stderr: String },
    /// `cargo` could not be started.
    #[error("could not run cargo ({0}); is the Rust toolchain on your PATH?")]
    CargoMissing(std::io::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An exercise directory is not shaped as the convention says.
    #[error("{path}: {message}")]
    BadExercise { path: PathBuf, message: String },
    /// `exercises/manifest.toml` is missing or unreadable.
    #[error("{path}: {message}; maintainers regenerate it with `lostfound grade --write-manifest`")]
    BadManifest { path: PathBuf, message: String },
    /// The progress file is damaged.
    #[error("{path} is damaged ({message}); delete it to start your progress over")]
    BadProgress { path: PathBuf, message: String },
    /// No exercise matches a name the user typed.
    #[error("no exercise called {0:?}; `lostfound grade --list` shows them all")]
    UnknownExercise(String),
}

impl GradeError {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GradeError::Io {
            path: path.into(),
            source,
        }
    }
}
