//! Files `open` must refuse, with a reason, before writing to them: the
//! incident's server ran on a database a full disk had cut short.

use crate::common::{closed_store_with_history, new_store};
use lostfound_store::{DATABASE_FILE, SqliteStore, Store, StoreError};
use std::path::Path;

/// Opens `dir`, expecting `Unusable`; checks the file was left as it was.
fn refused(dir: &Path) -> String {
    let database = dir.join(DATABASE_FILE);
    let before = std::fs::read(&database).unwrap();
    let reason = match SqliteStore::open(dir) {
        Err(StoreError::Unusable { path, reason }) => {
            assert_eq!(path, database.display().to_string());
            reason
        }
        other => panic!("expected Unusable, got {other:?}"),
    };
    assert_eq!(
        std::fs::read(&database).unwrap(),
        before,
        "open wrote to a file it refused"
    );
    reason
}

#[test]
fn a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(DATABASE_FILE),
        "these are my notes, not a database\n".repeat(200),
    )
    .unwrap();
    assert_eq!(refused(dir.path()), "file is not a database");
}

#[test]
fn a_database_cut_short() {
    let dir = closed_store_with_history();
    let database = dir.path().join(DATABASE_FILE);
    let bytes = std::fs::read(&database).unwrap();
    std::fs::write(&database, &bytes[..bytes.len() / 2]).unwrap();
    let reason = refused(dir.path());
    assert!(
        reason.contains("database disk image is malformed"),
        "{reason}"
    );
}

#[test]
fn a_database_with_damaged_pages() {
    let dir = closed_store_with_history();
    let database = dir.path().join(DATABASE_FILE);
    let mut bytes = std::fs::read(&database).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0x55);
    std::fs::write(&database, &bytes).unwrap();
    let reason = refused(dir.path());
    assert!(reason.contains("malformed"), "{reason}");
}

#[test]
fn a_newer_schema_version() {
    let (dir, store) = new_store();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute(
        "INSERT INTO schema_version VALUES (7, 'from the future')",
        [],
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        refused(dir.path()),
        "schema version 7 is newer than this program's 1"
    );
}

#[test]
fn another_programs_database() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('bread');")
        .unwrap();
    drop(conn);
    let reason = refused(dir.path());
    assert!(
        reason.starts_with("no schema: not a Lost & Found database"),
        "{reason}"
    );
}

#[test]
fn a_copy_that_stopped_half_way() {
    // The version row is there, a table is not: the shape check catches it.
    let (dir, store) = new_store();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute_batch("DROP TABLE outbox").unwrap();
    drop(conn);
    assert_eq!(refused(dir.path()), "the schema lacks table outbox");
}

#[test]
fn an_empty_file_becomes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DATABASE_FILE), b"").unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.current_position().unwrap(), 0);
}

/// Edits the JSON of the event whose body is `message {n} …` with `edit`;
/// returns its event ID and room ID.
fn tamper(dir: &Path, n: u32, edit: &str) -> (String, String) {
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let (event_id, room_id): (String, String) = conn
        .query_row(
            "SELECT event_id, room_id FROM events WHERE json LIKE ?1",
            [format!("%message {n} %")],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    conn.execute(
        &format!("UPDATE events SET json = {edit} WHERE event_id = ?1"),
        [&event_id],
    )
    .unwrap();
    (event_id, room_id)
}

#[test]
fn an_event_whose_json_no_longer_hashes_to_its_id_is_corrupt() {
    let dir = closed_store_with_history();
    let (event_id, room_id) = tamper(dir.path(), 7, "replace(json, '\"depth\":', '\"depth\":1')");
    let store = SqliteStore::open(dir.path()).unwrap();
    let read = store.event(&event_id.parse().unwrap());
    assert!(
        matches!(&read, Err(StoreError::Corrupt(m)) if m.contains(&event_id)),
        "{read:?}"
    );
    let page = store.room_events_before(&room_id.parse().unwrap(), i64::MAX, 1000);
    assert!(matches!(page, Err(StoreError::Corrupt(_))), "{page:?}");
}

#[test]
fn json_that_does_not_parse_is_corrupt() {
    let dir = closed_store_with_history();
    let (event_id, _) = tamper(dir.path(), 8, "substr(json, 1, 40)");
    let store = SqliteStore::open(dir.path()).unwrap();
    let read = store.event(&event_id.parse().unwrap());
    assert!(
        matches!(&read, Err(StoreError::Corrupt(m)) if m.contains(&event_id)),
        "{read:?}"
    );
}

#[test]
fn an_edited_body_keeps_its_id_and_only_the_content_hash_tells() {
    // The event ID hashes the redacted event, which has no content. The
    // store serves the edited event; the server's content-hash check is
    // what would catch it (see the `events` module documentation).
    let dir = closed_store_with_history();
    let (event_id, _) = tamper(dir.path(), 9, "replace(json, 'message 9 ', 'massage 9 ')");
    let store = SqliteStore::open(dir.path()).unwrap();
    let read = store.event(&event_id.parse().unwrap()).unwrap().unwrap();
    assert!(!read.event.content_hash_check().matches());
}
