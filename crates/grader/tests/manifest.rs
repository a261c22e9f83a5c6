//! `exercises/manifest.toml` must describe the exercises as they are: a
//! stale manifest would make the grader refuse honest students ("tests
//! changed") or wave through edited tests. This test fails until a
//! maintainer who changed an exercise runs
//! `cargo run --release -- grade --write-manifest`.
//!
//! Stubs are compared only when `LOSTFOUND_STRICT_MANIFEST` is set (CI's
//! `.ci/exercises.sh` sets it): a student's edited `src/lib.rs` is their
//! work, not a stale manifest. In strict mode every recorded stub must also
//! be readable from git's objects, or `--reset` could not restore it.

use lostfound_grader::manifest::Manifest;
use lostfound_grader::registry;
use lostfound_grader::repo::Repo;
use std::path::Path;

fn workspace_repo() -> Repo {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists");
    Repo::at(root).expect("the workspace has exercises/")
}

#[test]
fn the_manifest_matches_the_exercises() {
    let repo = workspace_repo();
    let exercises = registry::discover(&repo).expect("exercises are readable");
    let recorded = Manifest::load(&repo).expect("exercises/manifest.toml is readable");
    let current = Manifest::compute(&repo, &exercises).expect("git hash-object runs");
    let strict = std::env::var_os("LOSTFOUND_STRICT_MANIFEST").is_some();
    let differences = recorded.differences(&current, strict);
    assert!(
        differences.is_empty(),
        "exercises/manifest.toml is out of date:\n  {}\nAfter changing an exercise (with \
         pristine stubs), run `cargo run --release -- grade --write-manifest` and commit it.",
        differences.join("\n  ")
    );
    if strict {
        for (name, entry) in &recorded.exercises {
            assert!(
                repo.read_blob(&entry.stub).is_ok(),
                "{name}: the stub blob {} is not in git's objects: commit the stub, then \
                 regenerate the manifest",
                entry.stub
            );
        }
    }
}
