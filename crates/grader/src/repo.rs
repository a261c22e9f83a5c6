//! The checkout the grader works in, and the `git` plumbing it needs.
//!
//! The grader shells out to `git` rather than linking a git library: the
//! two commands it needs (`hash-object` and `cat-file`) are stable
//! plumbing, present wherever the student cloned the repository.

use crate::GradeError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The root of a Lost & Found checkout.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    /// The checkout that contains the current directory.
    pub fn discover() -> Result<Self, GradeError> {
        let current = std::env::current_dir().map_err(|e| GradeError::io(".", e))?;
        Self::discover_from(&current)
    }

    /// The checkout that contains `directory`.
    pub fn discover_from(directory: &Path) -> Result<Self, GradeError> {
        let output = Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .current_dir(directory)
            .output()
            .map_err(GradeError::GitMissing)?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            return Err(GradeError::NotACheckout(stderr));
        }
        let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        Self::at(root)
    }

    /// A checkout rooted at `root` (which must hold `exercises/`).
    pub fn at(root: PathBuf) -> Result<Self, GradeError> {
        if !root.join("exercises").is_dir() {
            return Err(GradeError::NoExercises(root));
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn exercises_dir(&self) -> PathBuf {
        self.root.join("exercises")
    }

    /// Runs `git ARGS` at the root and returns its standard output.
    fn git(&self, args: &[&str]) -> Result<Vec<u8>, GradeError> {
        let output = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .output()
            .map_err(GradeError::GitMissing)?;
        if !output.status.success() {
            return Err(GradeError::Git {
                command: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(output.stdout)
    }

    /// The blob IDs git would store `paths` under (relative to the root),
    /// in the same order: `git hash-object`, which applies the same
    /// line-ending filters as `git add`.
    pub fn hash_objects(&self, paths: &[String]) -> Result<Vec<String>, GradeError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["hash-object", "--"];
        args.extend(paths.iter().map(String::as_str));
        let stdout = self.git(&args)?;
        let ids: Vec<String> = String::from_utf8_lossy(&stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        if ids.len() != paths.len() {
            return Err(GradeError::Git {
                command: "hash-object".into(),
                stderr: format!("{} IDs for {} files", ids.len(), paths.len()),
            });
        }
        Ok(ids)
    }

    /// Whether `path` (relative to the root) differs from the last commit.
    pub fn has_uncommitted_changes(&self, path: &str) -> Result<bool, GradeError> {
        let status = Command::new("git")
            .args(["diff", "--quiet", "HEAD", "--", path])
            .current_dir(&self.root)
            .status()
            .map_err(GradeError::GitMissing)?;
        match status.code() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(GradeError::Git {
                command: format!("diff --quiet HEAD -- {path}"),
                stderr: format!("exited with {status}"),
            }),
        }
    }

    /// The content of the blob `id` from git's object store.
    pub fn read_blob(&self, id: &str) -> Result<Vec<u8>, GradeError> {
        self.git(&["cat-file", "blob", id])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_checkout_is_a_clear_error() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        match Repo::discover_from(directory.path()) {
            Err(GradeError::NotACheckout(_)) => {}
            other => panic!("expected NotACheckout, got {other:?}"),
        }
    }

    #[test]
    fn hash_object_matches_git_for_a_known_blob() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(directory.path().join("exercises")).expect("mkdir");
        std::fs::write(directory.path().join("hello.txt"), "hello\n").expect("write");
        let repo = Repo::at(directory.path().to_owned()).expect("has exercises/");
        // `printf 'hello\n' | git hash-object --stdin`, a well-known ID.
        assert_eq!(
            repo.hash_objects(&["hello.txt".into()]).expect("git runs"),
            ["ce013625030ba8dba906f756967f9e9ca394464a"]
        );
    }
}
