//! The exercises, in order: every `exercises/NN-slug/` directory.
//!
//! Nothing is registered by hand. A new exercise is a directory with the
//! shape the convention fixes (`Cargo.toml`, `README.md`, `hints.md`,
//! `src/lib.rs`, `tests/`), so the order of the course is the order of the
//! numbers in the directory names.

use crate::GradeError;
use crate::repo::Repo;
use std::path::{Path, PathBuf};

/// One exercise crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// The number in the directory name: `1` for `01-canonical-json`.
    pub number: u32,
    /// The directory name, which is also the exercise's name on the
    /// command line: `01-canonical-json`.
    pub name: String,
    /// The directory, absolute.
    pub dir: PathBuf,
    /// The cargo package: `ex01-canonical-json`.
    pub package: String,
    /// The README's first heading, without the `#`.
    pub title: String,
    /// Paths whose use in `src/` would let the reference do the work
    /// (`[package.metadata.lostfound] forbidden` in its Cargo.toml).
    pub forbidden: Vec<String>,
}

impl Exercise {
    /// The file the student edits.
    pub fn stub_path(&self) -> PathBuf {
        self.dir.join("src").join("lib.rs")
    }

    /// The hints, in the order they are revealed (empty if none).
    pub fn hints(&self) -> Result<Vec<String>, GradeError> {
        let path = self.dir.join("hints.md");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(split_hints(&text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => Err(GradeError::io(path, error)),
        }
    }

    /// True if `query` names this exercise: `01-canonical-json`, `01`, `1`,
    /// `canonical-json` or the package name `ex01-canonical-json`.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().trim_end_matches('/');
        let query = query.strip_prefix("exercises/").unwrap_or(query);
        let slug = self.name.split_once('-').map_or("", |(_, slug)| slug);
        query == self.name
            || query == self.package
            || query == slug
            || query.parse::<u32>().ok() == Some(self.number)
    }
}

/// Every exercise under `exercises/`, ordered by number.
pub fn discover(repo: &Repo) -> Result<Vec<Exercise>, GradeError> {
    let directory = repo.exercises_dir();
    let entries = std::fs::read_dir(&directory).map_err(|e| GradeError::io(&directory, e))?;
    let mut exercises = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| GradeError::io(&directory, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(number) = exercise_number(&name) else {
            continue;
        };
        if path.is_dir() {
            exercises.push(load(path, name, number)?);
        }
    }
    exercises.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    Ok(exercises)
}

/// Finds the exercise `query` names (see [`Exercise::matches`]).
pub fn find<'a>(exercises: &'a [Exercise], query: &str) -> Result<&'a Exercise, GradeError> {
    exercises
        .iter()
        .find(|exercise| exercise.matches(query))
        .ok_or_else(|| GradeError::UnknownExercise(query.to_owned()))
}

/// `01-canonical-json` → 1; names without a `NN-` prefix are not exercises.
fn exercise_number(name: &str) -> Option<u32> {
    let (digits, slug) = name.split_once('-')?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if all_digits && !slug.is_empty() {
        digits.parse().ok()
    } else {
        None
    }
}

fn load(dir: PathBuf, name: String, number: u32) -> Result<Exercise, GradeError> {
    let (package, forbidden) = package_name(&dir)?;
    let title = readme_title(&dir).unwrap_or_else(|| name.clone());
    Ok(Exercise {
        number,
        name,
        dir,
        package,
        title,
        forbidden,
    })
}

/// `[package] name` from the exercise's Cargo.toml, and its
/// `[package.metadata.lostfound] forbidden` list.
fn package_name(dir: &Path) -> Result<(String, Vec<String>), GradeError> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| GradeError::io(&path, e))?;
    let bad = |message: String| GradeError::BadExercise {
        path: path.clone(),
        message,
    };
    let manifest: toml::Table = text.parse().map_err(|e| bad(format!("not TOML: {e}")))?;
    let package = manifest.get("package");
    let name = package
        .and_then(|package| package.get("name"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| bad("no [package] name".into()))?;
    let forbidden = package
        .and_then(|package| package.get("metadata"))
        .and_then(|metadata| metadata.get("lostfound"))
        .and_then(|lostfound| lostfound.get("forbidden"))
        .and_then(toml::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok((name, forbidden))
}

/// The first `# ` heading of the README, if there is one.
fn readme_title(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("README.md")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("# "))
        .map(|title| title.trim().to_owned())
}

/// Splits `hints.md` at its `## Hint N` headings; each hint keeps its
/// heading line so that it can be shown as it is.
pub fn split_hints(text: &str) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("## Hint") {
            hints.extend(current.take());
            current = Some(String::new());
        }
        if let Some(hint) = current.as_mut() {
            hint.push_str(line);
            hint.push('\n');
        }
    }
    hints.extend(current);
    hints
        .into_iter()
        .map(|hint| hint.trim_end().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise() -> Exercise {
        Exercise {
            number: 1,
            name: "01-canonical-json".into(),
            dir: PathBuf::from("/nowhere/exercises/01-canonical-json"),
            package: "ex01-canonical-json".into(),
            title: "Exercise 1: Canonical JSON".into(),
            forbidden: Vec::new(),
        }
    }

    #[test]
    fn an_exercise_answers_to_several_names() {
        let exercise = exercise();
        for name in [
            "01-canonical-json",
            "01",
            "1",
            "canonical-json",
            "ex01-canonical-json",
            "exercises/01-canonical-json/",
        ] {
            assert!(exercise.matches(name), "{name}");
        }
        for name in ["2", "canonical", "json", ""] {
            assert!(!exercise.matches(name), "{name}");
        }
    }

    #[test]
    fn only_numbered_directories_are_exercises() {
        assert_eq!(exercise_number("01-canonical-json"), Some(1));
        assert_eq!(exercise_number("11-report"), Some(11));
        assert_eq!(exercise_number("README.md"), None);
        assert_eq!(exercise_number("01-"), None);
        assert_eq!(exercise_number("x1-thing"), None);
        assert_eq!(exercise_number("target"), None);
    }

    #[test]
    fn hints_split_at_their_headings() {
        let text = "# Hints\n\nintro text\n\n## Hint 1\n\ngentle\n\n## Hint 2\n\n```rust\nlet x = 1;\n```\n\n## Hint 3\nanswer\n";
        let hints = split_hints(text);
        assert_eq!(hints.len(), 3, "{hints:#?}");
        assert_eq!(hints[0], "## Hint 1\n\ngentle");
        assert!(hints[1].contains("let x = 1;"));
        assert!(hints[2].ends_with("answer"));
        assert!(split_hints("no hints here").is_empty());
    }
}
