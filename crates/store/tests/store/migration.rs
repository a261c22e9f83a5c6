//! Copying a database as the incident's upgrade did: a capped new file
//! that fills up for real, the refusal to open what it leaves, and the
//! verification the upgrade guide left out.

use crate::common::closed_store_with_history;
use lostfound_store::{DATABASE_FILE, SqliteStore, StoreError};
use tempfile::TempDir;

#[test]
fn an_uncapped_copy_is_complete_stamped_and_verified() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join(DATABASE_FILE);

    let report = SqliteStore::copy_database(&original, &copy, None).unwrap();
    assert!(report.is_complete(), "{report:?}");
    let events = report.tables.iter().find(|t| t.table == "events").unwrap();
    assert!(events.rows_in_original > 300);
    assert_eq!(events.rows_copied, events.rows_in_original);
    assert!(
        report
            .tables
            .iter()
            .all(|t| t.rows_copied == t.rows_in_original)
    );

    assert_eq!(
        SqliteStore::verify_copy(&original, &copy).unwrap().problems,
        Vec::<String>::new()
    );
    // The copy is a database the server accepts.
    SqliteStore::open(copy_dir.path()).unwrap();
}

#[test]
fn a_capped_copy_fails_for_real_and_the_server_refuses_what_it_left() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let size = std::fs::metadata(&original).unwrap().len();
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join(DATABASE_FILE);

    let report = SqliteStore::copy_database(&original, &copy, Some(size / 2)).unwrap();
    let failure = report
        .failure
        .clone()
        .expect("half the space cannot hold the copy");
    assert!(failure.contains("database or disk is full"), "{failure}");
    assert!(report.bytes_written <= size / 2, "{report:?}");
    // Tables before the failure are complete, the events are not.
    let events = report.tables.iter().find(|t| t.table == "events").unwrap();
    assert!(events.rows_copied < events.rows_in_original, "{report:?}");
    assert!(copy.exists(), "the incomplete file stays, as in 2021");

    let check = SqliteStore::verify_copy(&original, &copy).unwrap();
    assert!(!check.is_sound());
    assert!(check.problems[0].contains("unfinished copy"), "{check:?}");

    match SqliteStore::open(copy_dir.path()) {
        Err(StoreError::Unusable { reason, .. }) => {
            assert!(reason.starts_with("an unfinished copy"), "{reason}");
        }
        other => panic!("expected the unfinished copy to be refused, got {other:?}"),
    }
}

/// Runs one statement on a database file, as a careless hand would.
fn tamper(path: &std::path::Path, sql: &str) -> usize {
    rusqlite::Connection::open(path)
        .and_then(|conn| conn.execute(sql, []))
        .expect("the statement runs")
}

fn complete_copy(original: &std::path::Path) -> (TempDir, std::path::PathBuf) {
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join(DATABASE_FILE);
    SqliteStore::copy_database(original, &copy, None).unwrap();
    (copy_dir, copy)
}

#[test]
fn verification_names_tables_whose_rows_differ() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);

    // A copy that lost rows but kept its stamp: only counting tells.
    let (_kept, copy) = complete_copy(&original);
    assert!(tamper(&copy, "DELETE FROM events WHERE rowid % 2 = 0") > 0);
    let check = SqliteStore::verify_copy(&original, &copy).unwrap();
    assert_eq!(check.problems.len(), 1, "{check:?}");
    assert!(check.problems[0].starts_with("table events: "), "{check:?}");

    // The same number of rows, different contents: only hashing tells.
    let (_kept, copy) = complete_copy(&original);
    assert_eq!(
        tamper(&copy, "UPDATE schema_version SET description = 'edited'"),
        1
    );
    let check = SqliteStore::verify_copy(&original, &copy).unwrap();
    assert_eq!(
        check.problems,
        ["table schema_version: the same number of rows (1) but different contents"]
    );
}

#[test]
fn a_missing_copy_is_a_problem_and_an_existing_target_is_never_overwritten() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let missing = dir.path().join("nowhere.db");
    let check = SqliteStore::verify_copy(&original, &missing).unwrap();
    assert!(check.problems[0].contains("does not exist"), "{check:?}");
    assert!(matches!(
        SqliteStore::copy_database(&original, &original, None),
        Err(StoreError::Io { .. })
    ));
}

#[test]
fn check_file_makes_the_checks_of_open_without_writing() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let before = std::fs::read(&original).unwrap();
    SqliteStore::check_file(&original).unwrap();
    assert!(std::fs::read(&original).unwrap() == before);

    let (_kept, copy) = complete_copy(&original);
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.pragma_update(None, "application_id", 0).unwrap();
    drop(conn);
    match SqliteStore::check_file(&copy) {
        Err(StoreError::Unusable { reason, .. }) => {
            assert!(reason.starts_with("an unfinished copy"), "{reason}")
        }
        other => panic!("expected an unstamped copy to be refused, got {other:?}"),
    }

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, "not a database\n".repeat(300)).unwrap();
    assert!(matches!(
        SqliteStore::check_file(&garbage),
        Err(StoreError::Unusable { .. })
    ));
}

/// A "disk" with room for the file header only: the copy stops before its
/// first table. It must still be refused, never taken for a new server's
/// empty database (which would start with no accounts and no rooms).
#[test]
fn a_copy_that_stopped_before_its_first_table_is_refused_too() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join(DATABASE_FILE);
    let report = SqliteStore::copy_database(&original, &copy, Some(1)).unwrap();
    assert!(
        report.tables.iter().all(|t| t.rows_copied == 0),
        "{report:?}"
    );
    let failure = report.failure.expect("one page holds no table");
    assert!(failure.contains("database or disk is full"), "{failure}");
    match SqliteStore::open(copy_dir.path()) {
        Err(StoreError::Unusable { reason, .. }) => {
            assert!(reason.starts_with("an unfinished copy"), "{reason}");
        }
        other => panic!("expected the unfinished copy to be refused, got {other:?}"),
    }
}

/// The AUTOINCREMENT counters travel with the copy and are verified: a
/// copy that forgot them would hand out outbox IDs and stream positions
/// that were already used.
#[test]
fn autoincrement_counters_are_copied_and_verified() {
    let dir = closed_store_with_history();
    let original = dir.path().join(DATABASE_FILE);
    let (_kept, copy) = complete_copy(&original);
    assert!(
        SqliteStore::verify_copy(&original, &copy)
            .unwrap()
            .is_sound()
    );
    assert_eq!(
        tamper(
            &copy,
            "UPDATE sqlite_sequence SET seq = 1 WHERE name = 'events'"
        ),
        1
    );
    let check = SqliteStore::verify_copy(&original, &copy).unwrap();
    assert_eq!(
        check.problems,
        ["table sqlite_sequence: the same number of rows (2) but different contents"]
    );
}

/// The size a copy needs is the database as SQLite sees it: while the
/// server runs, most of it may still sit in the write-ahead log, and the
/// file alone would say far less (a quota computed from it would make the
/// replay's copy succeed or fail depending on a checkpoint's timing).
#[test]
fn database_size_counts_what_is_still_in_the_write_ahead_log() {
    let (dir, store) = crate::common::new_store();
    let alice = crate::common::user("alice");
    let mut room = crate::common::TestRoom::create(&store, "hypha", &alice);
    for n in 0..200 {
        room.message(
            &store,
            &alice,
            &format!("message {n} {}", "padding ".repeat(20)),
        );
    }
    let path = dir.path().join(DATABASE_FILE);
    let file = std::fs::metadata(&path).unwrap().len();
    let logical = SqliteStore::database_size(&path).unwrap();
    assert!(logical > file, "logical {logical} bytes, file {file} bytes");
    drop(store); // checkpoints: now the file holds it all
    assert_eq!(SqliteStore::database_size(&path).unwrap(), logical);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), logical);
}
