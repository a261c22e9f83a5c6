//! `.lostfound/progress.json`: what the student has done so far.
//!
//! The file lives at the repository root and is ignored by git: it is the
//! student's, not the course's. It records which exercises passed (so
//! `--solution` can tell whether it may show the reference) and how many
//! hints of each exercise were revealed (so `--hint` shows the next one).

use crate::GradeError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the progress file lives, relative to the repository root.
pub const PROGRESS_PATH: &str = ".lostfound/progress.json";

/// Everything remembered, by exercise directory name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseProgress>,
}

/// What is remembered of one exercise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseProgress {
    /// True once the graded tests passed with untouched tests.
    #[serde(default)]
    pub passed: bool,
    /// How many hints were shown (the next `--hint` shows hint n + 1).
    #[serde(default)]
    pub hints_revealed: usize,
}

impl Progress {
    /// The progress file of the checkout at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(PROGRESS_PATH)
    }

    /// Reads the progress file; a missing file is a fresh start.
    pub fn load(root: &Path) -> Result<Self, GradeError> {
        let path = Self::path(root);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => return Err(GradeError::io(path, error)),
        };
        serde_json::from_str(&text).map_err(|error| GradeError::BadProgress {
            path,
            message: error.to_string(),
        })
    }

    /// Writes the progress file, creating `.lostfound/` if needed. The
    /// file is written beside and renamed into place, so an interrupted
    /// save never leaves half a file.
    pub fn save(&self, root: &Path) -> Result<(), GradeError> {
        let path = Self::path(root);
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory).map_err(|e| GradeError::io(directory, e))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|error| GradeError::BadProgress {
            path: path.clone(),
            message: error.to_string(),
        })?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text + "\n").map_err(|e| GradeError::io(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| GradeError::io(&path, e))
    }

    pub fn has_passed(&self, exercise: &str) -> bool {
        self.exercises
            .get(exercise)
            .is_some_and(|progress| progress.passed)
    }

    pub fn hints_revealed(&self, exercise: &str) -> usize {
        self.exercises
            .get(exercise)
            .map_or(0, |progress| progress.hints_revealed)
    }

    /// Records a graded result (a pass can be lost again: the student may
    /// break working code).
    pub fn record_result(&mut self, exercise: &str, passed: bool) {
        self.exercises
            .entry(exercise.to_owned())
            .or_default()
            .passed = passed;
    }

    /// Records that one more hint was shown; returns the new count.
    pub fn reveal_hint(&mut self, exercise: &str) -> usize {
        let progress = self.exercises.entry(exercise.to_owned()).or_default();
        progress.hints_revealed += 1;
        progress.hints_revealed
    }

    /// Forgets the pass (after `--reset`), keeping the hints seen.
    pub fn forget_pass(&mut self, exercise: &str) {
        if let Some(progress) = self.exercises.get_mut(exercise) {
            progress.passed = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_through_the_file() {
        let root = tempfile::tempdir().expect("a temporary directory");
        assert_eq!(
            Progress::load(root.path()).expect("missing is fresh"),
            Progress::default()
        );
        let mut progress = Progress::default();
        progress.record_result("01-canonical-json", true);
        assert_eq!(progress.reveal_hint("02-event-id"), 1);
        assert_eq!(progress.reveal_hint("02-event-id"), 2);
        progress.save(root.path()).expect("saves");
        let loaded = Progress::load(root.path()).expect("loads");
        assert_eq!(loaded, progress);
        assert!(loaded.has_passed("01-canonical-json"));
        assert!(!loaded.has_passed("02-event-id"));
        assert_eq!(loaded.hints_revealed("02-event-id"), 2);
        assert_eq!(loaded.hints_revealed("03-signing"), 0);
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let root = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(root.path().join(".lostfound")).expect("mkdir");
        std::fs::write(Progress::path(root.path()), "{not json").expect("write");
        match Progress::load(root.path()) {
            Err(GradeError::BadProgress { .. }) => {}
            other => panic!("expected BadProgress, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_and_missing_fields_are_tolerated() {
        let progress: Progress =
            serde_json::from_str(r#"{"exercises": {"01-x": {"passed": true}}, "later": 1}"#)
                .expect("older and newer files still load");
        assert!(progress.has_passed("01-x"));
        assert_eq!(progress.hints_revealed("01-x"), 0);
    }

    #[test]
    fn reset_forgets_the_pass_but_not_the_hints() {
        let mut progress = Progress::default();
        progress.record_result("01-x", true);
        progress.reveal_hint("01-x");
        progress.forget_pass("01-x");
        assert!(!progress.has_passed("01-x"));
        assert_eq!(progress.hints_revealed("01-x"), 1);
    }
}
