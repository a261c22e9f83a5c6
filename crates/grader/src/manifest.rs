//! `exercises/manifest.toml`: what the tests, hints and stubs must be.
//!
//! A grader that runs the student's tests must make sure they are the
//! course's tests: it is too easy to "fix" a failing assertion instead of
//! the code. For every exercise the manifest records the git blob ID (what
//! `git hash-object` prints) of each protected file (every file of the
//! exercise but `src/` and the README: `Cargo.toml`, `hints.md`, `tests/`,
//! and any `build.rs` someone adds) and of the pristine stub
//! `src/lib.rs`. Grading compares the files on disk with those IDs before
//! it counts a pass; `--reset` restores the stub with `git cat-file blob`,
//! which works offline in any clone that has the commit.
//!
//! Maintainers regenerate the file with `lostfound grade --write-manifest`
//! after changing an exercise; a test in this crate fails while it is stale.

use crate::GradeError;
use crate::registry::Exercise;
use crate::repo::Repo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the manifest lives, relative to the repository root.
pub const MANIFEST_PATH: &str = "exercises/manifest.toml";

const HEADER: &str = "\
# Git blob IDs (`git hash-object FILE`) of each exercise's protected files and
# of its pristine stub src/lib.rs. The grader refuses to count a pass while a
# protected file differs, and `lostfound grade --reset NAME` restores the stub
# from the blob recorded here. Generated: after changing an exercise, run
#   cargo run --release -- grade --write-manifest
# (a test in crates/grader fails while this file is out of date).
";

/// The whole manifest: one entry per exercise directory name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub exercises: BTreeMap<String, ExerciseEntry>,
}

/// One exercise's recorded blob IDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseEntry {
    /// The pristine `src/lib.rs`.
    pub stub: String,
    /// Protected files, by path relative to the exercise directory
    /// (`tests/grade.rs`), always with `/` separators.
    pub protected: BTreeMap<String, String>,
}

/// One way a protected file differs from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tampering {
    Changed(String),
    Deleted(String),
    /// A Rust file in `tests/` that is not part of the exercise: cargo
    /// would compile and run it with the graded tests.
    Added(String),
    /// The exercise has no entry in the manifest at all.
    Unlisted,
}

impl Tampering {
    /// A few words for maintainers: what differs from the manifest.
    pub fn describe(&self) -> String {
        match self {
            Tampering::Changed(path) => format!("{path} changed"),
            Tampering::Deleted(path) => format!("{path} deleted"),
            Tampering::Added(path) => format!("{path} is new"),
            Tampering::Unlisted => "not in the manifest".to_owned(),
        }
    }

    /// A sentence for the student, naming the file and the way back.
    pub fn explain(&self, exercise: &Exercise) -> String {
        let directory = format!("exercises/{}", exercise.name);
        let restore_target = |path: &str| {
            if path.starts_with("tests/") {
                format!("{directory}/tests")
            } else {
                format!("{directory}/{path}")
            }
        };
        match self {
            Tampering::Changed(path) => format!(
                "{path} was changed — restore it with `git checkout -- {}`",
                restore_target(path)
            ),
            Tampering::Deleted(path) => format!(
                "{path} was deleted — restore it with `git checkout -- {}`",
                restore_target(path)
            ),
            Tampering::Added(path) => format!(
                "{path} is not part of the exercise — delete it (your work belongs in src/)"
            ),
            Tampering::Unlisted => format!(
                "{directory} is not in {MANIFEST_PATH}, so its tests cannot be checked \
                 (maintainers: `lostfound grade --write-manifest`)"
            ),
        }
    }
}

impl Manifest {
    /// Reads the manifest of `repo`.
    pub fn load(repo: &Repo) -> Result<Self, GradeError> {
        let path = repo.root().join(MANIFEST_PATH);
        let bad = |message: String| GradeError::BadManifest {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        Self::parse(&text).map_err(bad)
    }

    /// Parses manifest text.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The manifest as text, with its explanatory header.
    pub fn render(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| e.to_string())?;
        Ok(format!("{HEADER}\n{body}"))
    }

    /// The manifest the working tree implies: blob IDs of the files as they
    /// are on disk now (stubs included, so run it on pristine stubs).
    pub fn compute(repo: &Repo, exercises: &[Exercise]) -> Result<Self, GradeError> {
        let mut manifest = Manifest::default();
        for exercise in exercises {
            let protected = hash_files(repo, exercise, &protected_files(exercise)?)?;
            let stub = hash_files(repo, exercise, &["src/lib.rs".to_owned()])?
                .into_values()
                .next()
                .unwrap_or_default();
            manifest
                .exercises
                .insert(exercise.name.clone(), ExerciseEntry { stub, protected });
        }
        Ok(manifest)
    }

    /// Writes [`Manifest::compute`]'s result to `exercises/manifest.toml`.
    pub fn write(repo: &Repo, exercises: &[Exercise]) -> Result<PathBuf, GradeError> {
        let path = repo.root().join(MANIFEST_PATH);
        let text = Self::compute(repo, exercises)?
            .render()
            .map_err(|message| GradeError::BadManifest {
                path: path.clone(),
                message,
            })?;
        std::fs::write(&path, text).map_err(|e| GradeError::io(&path, e))?;
        Ok(path)
    }

    /// How `exercise`'s protected files on disk differ from the manifest.
    /// Empty means the tests are the course's tests.
    pub fn check(&self, repo: &Repo, exercise: &Exercise) -> Result<Vec<Tampering>, GradeError> {
        let Some(entry) = self.exercises.get(&exercise.name) else {
            return Ok(vec![Tampering::Unlisted]);
        };
        let on_disk = hash_files(repo, exercise, &protected_files(exercise)?)?;
        Ok(compare(&entry.protected, &on_disk))
    }

    /// The recorded blob ID of `exercise`'s pristine stub.
    pub fn stub_blob(&self, exercise: &Exercise) -> Option<&str> {
        self.exercises
            .get(&exercise.name)
            .map(|entry| entry.stub.as_str())
    }

    /// Every difference between this manifest and `current` (a freshly
    /// computed one), as sentences; stubs are compared only if asked
    /// (a student's edited stub is not a stale manifest).
    pub fn differences(&self, current: &Manifest, compare_stubs: bool) -> Vec<String> {
        let mut differences = Vec::new();
        for (name, entry) in &current.exercises {
            let Some(recorded) = self.exercises.get(name) else {
                differences.push(format!("{name}: not in the manifest"));
                continue;
            };
            for tampering in compare(&recorded.protected, &entry.protected) {
                differences.push(format!("{name}: {}", tampering.describe()));
            }
            if compare_stubs && recorded.stub != entry.stub {
                differences.push(format!("{name}: src/lib.rs differs from the recorded stub"));
            }
        }
        for name in self.exercises.keys() {
            if !current.exercises.contains_key(name) {
                differences.push(format!("{name}: in the manifest but not on disk"));
            }
        }
        differences
    }
}

/// Compares recorded blob IDs with the ones on disk. Files on disk but not
/// recorded count only if cargo would compile them (`.rs` files), so an
/// editor's backup file does not block grading.
fn compare(
    recorded: &BTreeMap<String, String>,
    on_disk: &BTreeMap<String, String>,
) -> Vec<Tampering> {
    let mut found = Vec::new();
    for (path, id) in recorded {
        match on_disk.get(path) {
            None => found.push(Tampering::Deleted(path.clone())),
            Some(disk_id) if disk_id != id => found.push(Tampering::Changed(path.clone())),
            Some(_) => {}
        }
    }
    for path in on_disk.keys() {
        if !recorded.contains_key(path) && path.ends_with(".rs") {
            found.push(Tampering::Added(path.clone()));
        }
    }
    found
}

/// The protected files of `exercise`: every file in its directory except
/// the student's `src/` and the README, relative to the exercise, sorted.
/// So `Cargo.toml`, `hints.md` and `tests/` are protected, and a file that
/// could change the build (`build.rs`, `.cargo/config.toml`, `examples/`)
/// shows up as added.
pub fn protected_files(exercise: &Exercise) -> Result<Vec<String>, GradeError> {
    let mut files = Vec::new();
    collect_files(&exercise.dir, Path::new(""), &mut files)?;
    files.retain(|file| {
        file != "README.md" && !file.starts_with("src/") && !file.starts_with("target/")
    });
    files.sort();
    Ok(files)
}

fn collect_files(base: &Path, relative: &Path, files: &mut Vec<String>) -> Result<(), GradeError> {
    let directory = base.join(relative);
    let entries = match std::fs::read_dir(&directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(GradeError::io(directory, error)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| GradeError::io(&directory, e))?;
        let path = relative.join(entry.file_name());
        if entry.path().is_dir() {
            collect_files(base, &path, files)?;
        } else {
            let parts: Vec<_> = path.iter().map(|part| part.to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Blob IDs of `files` (relative to the exercise), keyed by those paths.
fn hash_files(
    repo: &Repo,
    exercise: &Exercise,
    files: &[String],
) -> Result<BTreeMap<String, String>, GradeError> {
    let existing: Vec<String> = files
        .iter()
        .filter(|file| exercise.dir.join(file).is_file())
        .cloned()
        .collect();
    let from_root: Vec<String> = existing
        .iter()
        .map(|file| exercise.dir.join(file).to_string_lossy().into_owned())
        .collect();
    let ids = repo.hash_objects(&from_root)?;
    Ok(existing.into_iter().zip(ids).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(path, id)| (path.to_string(), id.to_string()))
            .collect()
    }

    #[test]
    fn changed_deleted_and_added_tests_are_found() {
        let recorded = ids(&[
            ("tests/grade.rs", "aaa"),
            ("hints.md", "bbb"),
            ("Cargo.toml", "ccc"),
        ]);
        let on_disk = ids(&[
            ("tests/grade.rs", "zzz"),
            ("Cargo.toml", "ccc"),
            ("tests/extra.rs", "ddd"),
            ("tests/grade.rs~", "eee"),
        ]);
        assert_eq!(
            compare(&recorded, &on_disk),
            [
                Tampering::Deleted("hints.md".into()),
                Tampering::Changed("tests/grade.rs".into()),
                Tampering::Added("tests/extra.rs".into()),
            ]
        );
        assert!(compare(&recorded, &recorded).is_empty());
    }

    #[test]
    fn the_manifest_round_trips_through_its_text() {
        let mut manifest = Manifest::default();
        manifest.exercises.insert(
            "01-canonical-json".into(),
            ExerciseEntry {
                stub: "0123abcd".into(),
                protected: ids(&[("tests/grade.rs", "aaa"), ("tests/reference/mod.rs", "bbb")]),
            },
        );
        let text = manifest.render().expect("renders");
        assert!(text.starts_with("# Git blob IDs"), "{text}");
        assert_eq!(Manifest::parse(&text), Ok(manifest));
        assert!(Manifest::parse("exercises = 3").is_err());
    }

    #[test]
    fn differences_ignore_stubs_unless_asked() {
        let entry = |stub: &str| ExerciseEntry {
            stub: stub.into(),
            protected: ids(&[("tests/grade.rs", "aaa")]),
        };
        let mut recorded = Manifest::default();
        recorded.exercises.insert("01-a".into(), entry("pristine"));
        recorded.exercises.insert("09-gone".into(), entry("x"));
        let mut current = Manifest::default();
        current.exercises.insert("01-a".into(), entry("edited"));
        current.exercises.insert("02-new".into(), entry("y"));
        let loose = recorded.differences(&current, false);
        assert_eq!(
            loose,
            [
                "02-new: not in the manifest",
                "09-gone: in the manifest but not on disk"
            ]
        );
        assert_eq!(recorded.differences(&current, true).len(), 3);
    }

    #[test]
    fn explanations_name_the_way_back() {
        let exercise = Exercise {
            number: 1,
            name: "01-canonical-json".into(),
            dir: PathBuf::from("/x/exercises/01-canonical-json"),
            package: "ex01-canonical-json".into(),
            title: "t".into(),
            forbidden: Vec::new(),
        };
        assert_eq!(
            Tampering::Changed("tests/grade.rs".into()).explain(&exercise),
            "tests/grade.rs was changed — restore it with \
             `git checkout -- exercises/01-canonical-json/tests`"
        );
        assert!(
            Tampering::Deleted("hints.md".into())
                .explain(&exercise)
                .ends_with("`git checkout -- exercises/01-canonical-json/hints.md`")
        );
    }
}
