//! The graded tests for exercise 9. Each builds a real Lost & Found
//! database (a closed `SqliteStore` with a few hundred accounts and some
//! media), copies it with `SqliteStore::copy_database` as the upgrade
//! did, spoils the copy one way or another, and asks your `verify_copy`
//! whether the copy may replace the original.

#[cfg(not(feature = "reference"))]
use ex09_verified_migration as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_protocol::ids::UserId;
use lostfound_store::{Account, CopyCheck, DATABASE_FILE, Media, SqliteStore, Store, StoreError};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// How many accounts the original holds: enough pages that half the
/// space cannot hold a copy.
const ACCOUNTS: usize = 300;

fn user(n: usize) -> UserId {
    format!("@user{n}:tomesh.lab")
        .parse()
        .expect("a valid user ID")
}

/// A closed store, as a stopped server leaves it: accounts and media.
fn original() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path()).expect("a new store opens");
    for n in 0..ACCOUNTS {
        let account = Account {
            user_id: user(n),
            password_hash: format!(
                "$argon2id$v=19$m=19456,t=2,p=1${}",
                "salt-and-hash".repeat(4)
            ),
            created_ts: 1_609_459_200_000 + n as u64,
        };
        store
            .create_account(&account)
            .expect("the account is stored");
    }
    for n in 0..3 {
        let media = Media {
            origin: "tomesh.lab".parse().expect("a valid server name"),
            media_id: format!("avatar{n}"),
            content_type: "image/png".to_owned(),
            filename: Some(format!("avatar{n}.png")),
            uploader: user(n),
            created_ts: 1_609_459_300_000 + n as u64,
        };
        store
            .put_media(&media, b"not really a png")
            .expect("the upload is stored");
    }
    drop(store);
    let path = dir.path().join(DATABASE_FILE);
    (dir, path)
}

/// A copy of `original` in a directory of its own, complete unless
/// `max_bytes` caps it.
fn copy_of(original: &Path, max_bytes: Option<u64>) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let copy = dir.path().join(DATABASE_FILE);
    let report = SqliteStore::copy_database(original, &copy, max_bytes).expect("the copy runs");
    assert_eq!(
        report.is_complete(),
        max_bytes.is_none(),
        "the test's copy should be complete exactly when uncapped: {report:?}"
    );
    (dir, copy)
}

/// Runs one statement on a database file, as a careless hand would.
fn tamper(path: &Path, sql: &str) -> usize {
    rusqlite::Connection::open(path)
        .and_then(|conn| conn.execute(sql, []))
        .expect("the statement runs")
}

/// Your answer for a copy; an `Err` here is a failure, since the
/// original is always readable in these tests.
fn check(original: &Path, copy: &Path) -> CopyCheck {
    answer::verify_copy(original, copy).unwrap_or_else(|error| {
        panic!("verify_copy returned Err({error}), but the original is a sound database")
    })
}

/// The check must refuse the copy, with a problem that contains `needle`.
fn assert_refused_naming(check: &CopyCheck, needle: &str, why: &str) {
    assert!(
        !check.is_sound(),
        "{why}: the copy must be refused, but verify_copy found no problem"
    );
    assert!(
        check
            .problems
            .iter()
            .any(|problem| problem.contains(needle)),
        "{why}: the copy was refused, but no problem names {needle:?}; problems: {:#?}",
        check.problems
    );
}

/// Why `SqliteStore::check_file` refuses `copy`: SQLite's words or ours,
/// which the problem must carry.
fn refusal(copy: &Path) -> String {
    match SqliteStore::check_file(copy) {
        Err(StoreError::Unusable { reason, .. }) => reason,
        other => panic!("the test's copy should be unusable, check_file gave {other:?}"),
    }
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("the file is readable")
}

#[test]
fn a_complete_copy_is_sound() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    let found = check(&original, &copy);
    assert!(
        found.is_sound(),
        "a complete, stamped copy with every row must be sound; problems: {:#?}",
        found.problems
    );
}

#[test]
fn neither_file_is_written_to() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    let (original_before, copy_before) = (bytes(&original), bytes(&copy));
    check(&original, &copy);
    tamper(&copy, "DELETE FROM accounts WHERE rowid = 7");
    let spoiled = bytes(&copy);
    check(&original, &copy);
    assert!(
        bytes(&original) == original_before,
        "verify_copy changed the original database file: open it read-only"
    );
    assert!(
        bytes(&copy) == spoiled && spoiled != copy_before,
        "verify_copy changed the copy: open it read-only"
    );
}

#[test]
fn the_incidents_copy_cut_short_by_a_full_disk_is_refused() {
    let (_dir, original) = original();
    let half = std::fs::metadata(&original).expect("a file").len() / 2;
    let (_copy_dir, copy) = copy_of(&original, Some(half));
    let found = check(&original, &copy);
    assert_refused_naming(
        &found,
        &refusal(&copy),
        "the copy stopped half way on a full disk (it has no stamp)",
    );
    assert_eq!(
        found.problems.len(),
        1,
        "a copy that fails SqliteStore::check_file is one problem, nothing more: {:#?}",
        found.problems
    );
}

#[test]
fn a_copy_without_the_stamp_is_refused_even_with_every_row() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    let conn = rusqlite::Connection::open(&copy).expect("the copy opens");
    conn.pragma_update(None, "application_id", 0)
        .expect("the stamp is removed");
    drop(conn);
    let found = check(&original, &copy);
    assert_refused_naming(
        &found,
        &refusal(&copy),
        "every row is there but the stamp is not: this file is not known to be a finished copy",
    );
}

#[test]
fn a_copy_that_lost_one_row_is_refused_and_the_table_named() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    assert_eq!(tamper(&copy, "DELETE FROM accounts WHERE rowid = 150"), 1);
    let found = check(&original, &copy);
    assert_refused_naming(&found, "accounts", "one account is missing from the copy");
    assert_eq!(
        found.problems.len(),
        1,
        "only the accounts table differs: {:#?}",
        found.problems
    );
}

#[test]
fn a_copy_with_the_same_count_but_a_changed_row_is_refused() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    assert_eq!(
        tamper(
            &copy,
            "UPDATE accounts SET password_hash = 'changed' WHERE rowid = 42"
        ),
        1
    );
    let found = check(&original, &copy);
    assert_refused_naming(
        &found,
        "accounts",
        "the copy has as many accounts, but one of them differs: counting is not enough",
    );
}

#[test]
fn a_copy_that_swapped_a_row_for_another_is_refused() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    tamper(&copy, "DELETE FROM media WHERE media_id = 'avatar1'");
    tamper(
        &copy,
        "INSERT INTO media SELECT origin, 'avatar9', content_type, filename, uploader, created_ts \
         FROM media WHERE media_id = 'avatar0'",
    );
    let found = check(&original, &copy);
    assert_refused_naming(
        &found,
        "media",
        "one upload is missing and another appeared: the same count, different rows",
    );
}

#[test]
fn a_copy_missing_a_table_is_refused_and_the_table_named() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    tamper(&copy, "DROP TABLE media");
    let found = check(&original, &copy);
    assert_refused_naming(&found, "media", "the copy has no media table at all");
}

#[test]
fn every_table_that_differs_is_named() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    tamper(&copy, "DROP TABLE media");
    tamper(&copy, "DELETE FROM accounts WHERE rowid > 290");
    let found = check(&original, &copy);
    assert_refused_naming(&found, "media", "the media table is gone");
    assert_refused_naming(
        &found,
        "accounts",
        "ten accounts are gone too (report every table, not only the first)",
    );
    assert_eq!(
        found.problems.len(),
        2,
        "two tables differ, so two problems: {:#?}",
        found.problems
    );
}

#[test]
fn a_missing_copy_is_refused_and_named() {
    let (dir, original) = original();
    let missing = dir.path().join("upgrade").join(DATABASE_FILE);
    let found = check(&original, &missing);
    assert_refused_naming(
        &found,
        &missing.display().to_string(),
        "there is no copy at all",
    );
    assert_eq!(found.problems.len(), 1, "{:#?}", found.problems);
}

#[test]
fn a_garbage_file_is_refused_and_named() {
    let (_dir, original) = original();
    let garbage_dir = tempfile::tempdir().expect("a temporary directory");
    let garbage = garbage_dir.path().join(DATABASE_FILE);
    std::fs::write(
        &garbage,
        "this is not a database, it is a shopping list\n".repeat(200),
    )
    .expect("the file is written");
    let found = check(&original, &garbage);
    assert_refused_naming(
        &found,
        &refusal(&garbage),
        "the copy is not a SQLite database at all",
    );
    assert_eq!(found.problems.len(), 1, "{:#?}", found.problems);
}

#[test]
fn an_unreadable_original_is_an_error_not_a_verdict() {
    let (_dir, original) = original();
    let (_copy_dir, copy) = copy_of(&original, None);
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let missing = elsewhere.path().join(DATABASE_FILE);
    assert!(
        answer::verify_copy(&missing, &copy).is_err(),
        "the original does not exist: nothing can be verified, so verify_copy must return Err"
    );
    let garbage = elsewhere.path().join("garbage.db");
    std::fs::write(&garbage, "not a database either\n".repeat(200)).expect("written");
    assert!(
        answer::verify_copy(&garbage, &copy).is_err(),
        "the original is not a database: nothing can be verified, so verify_copy must return Err"
    );
}
