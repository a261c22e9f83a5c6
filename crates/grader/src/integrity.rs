//! What besides the tests could make a pass dishonest, checked before a
//! pass counts.
//!
//! The manifest protects every file of an exercise outside `src/` and its
//! README, so a `build.rs` or a `.cargo/config.toml` added inside an
//! exercise shows up as an added file. This module covers the rest:
//!
//! - a `.cargo/config.toml` at the root of the checkout (it can set
//!   `rustflags`, and so `--cfg feature="reference"`, for every crate);
//! - `exercises/manifest.toml` edited since the last commit (regenerating
//!   it would approve changed tests);
//! - a call to the reference implementation from the student's `src/`:
//!   each exercise lists, in its protected `Cargo.toml`, the paths that
//!   would do its work for the student
//!   (`[package.metadata.lostfound] forbidden = ["dag::"]`). This is a
//!   text search that skips comments: it catches the obvious shortcut, not
//!   a determined one.
//!
//! The runner also clears `RUSTFLAGS` and its relatives from cargo's
//! environment. None of this stops someone who edits the grader itself
//! and commits; a facilitator sees that in `git log`.

use crate::GradeError;
use crate::registry::Exercise;
use crate::repo::Repo;
use std::path::Path;

/// Why a pass would not count, one sentence each; empty when nothing is
/// wrong.
pub fn problems(repo: &Repo, exercise: &Exercise) -> Result<Vec<String>, GradeError> {
    let mut problems = Vec::new();
    for name in [".cargo/config.toml", ".cargo/config"] {
        if repo.root().join(name).exists() {
            problems.push(format!(
                "{name} exists at the root of the checkout: it can change how every exercise \
                 is built (rustflags), so no pass counts while it is there; remove it"
            ));
        }
    }
    if repo.has_uncommitted_changes("exercises/manifest.toml")? {
        problems.push(
            "exercises/manifest.toml differs from the last commit: restore it with \
             `git checkout -- exercises/manifest.toml` (maintainers commit a regenerated one)"
                .to_owned(),
        );
    }
    for (file, pattern) in shortcuts(&exercise.dir.join("src"), &exercise.forbidden)? {
        problems.push(format!(
            "src/{file} uses `{pattern}`, the workbench's own answer to this exercise: write it \
             yourself (a pass does not count while src/ calls it)"
        ));
    }
    Ok(problems)
}

/// `(file, pattern)` for each forbidden pattern found outside comments in
/// the `.rs` files under `src`, in file order.
pub fn shortcuts(src: &Path, forbidden: &[String]) -> Result<Vec<(String, String)>, GradeError> {
    let mut found = Vec::new();
    if forbidden.is_empty() {
        return Ok(found);
    }
    let mut files = Vec::new();
    rust_files(src, Path::new(""), &mut files)?;
    files.sort();
    for file in files {
        let path = src.join(&file);
        let text = std::fs::read_to_string(&path).map_err(|e| GradeError::io(&path, e))?;
        let code = without_comments(&text);
        for pattern in forbidden {
            if code.contains(pattern.as_str()) {
                found.push((file.clone(), pattern.clone()));
            }
        }
    }
    Ok(found)
}

fn rust_files(base: &Path, relative: &Path, files: &mut Vec<String>) -> Result<(), GradeError> {
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
            rust_files(base, &path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let parts: Vec<_> = path.iter().map(|part| part.to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
    Ok(())
}

/// `text` without `//` comments (doc comments included) and `/* */`
/// blocks, so that a stub's documentation naming the reference does not
/// count as a call. String literals are not parsed: a `//` inside one cuts
/// the rest of its line, which can only hide a pattern, never invent one.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let line_comment = rest.find("//");
        let block_comment = rest.find("/*");
        match (line_comment, block_comment) {
            (Some(line), block) if block.is_none_or(|block| line < block) => {
                out.push_str(&rest[..line]);
                rest = rest[line..]
                    .find('\n')
                    .map_or("", |end| &rest[line + end..]);
            }
            (_, Some(block)) => {
                out.push_str(&rest[..block]);
                rest = rest[block..]
                    .find("*/")
                    .map_or("", |end| &rest[block + end + 2..]);
            }
            (None, None) => {
                out.push_str(rest);
                rest = "";
            }
            (Some(_), None) => unreachable!("handled by the first arm"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_do_not_count_and_code_does() {
        let dir = tempfile::tempdir().expect("a directory");
        std::fs::create_dir_all(dir.path().join("nested")).expect("created");
        std::fs::write(
            dir.path().join("lib.rs"),
            "//! Do not call dag::missing_prev_events.\n/* nor dag::x */\npub fn f() {}\n",
        )
        .expect("written");
        std::fs::write(
            dir.path().join("nested/more.rs"),
            "pub fn g() { lostfound_protocol::dag::missing_prev_events([]); } // dag::\n",
        )
        .expect("written");
        let forbidden = vec!["dag::".to_owned(), "state_res::".to_owned()];
        assert_eq!(
            shortcuts(dir.path(), &forbidden).expect("scanned"),
            [("nested/more.rs".to_owned(), "dag::".to_owned())]
        );
    }

    #[test]
    fn stripping_comments_keeps_the_code_around_them() {
        assert_eq!(
            without_comments("a // one\nb /* two */ c\n/* open"),
            "a \nb  c\n"
        );
    }
}
