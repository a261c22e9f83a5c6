//! What survives: closing and reopening the store, and restoring a backup.

use crate::common::{TestRoom, new_store, user};
use lostfound_protocol::ids::{RoomAlias, ServerName};
use lostfound_store::{
    Account, DATABASE_FILE, Device, MEDIA_DIR, Media, Profile, Room, SqliteStore, Store,
    StoreError, TransactionKey,
};
use std::path::Path;

/// Writes one of everything; returns the room for later checks.
fn fill(store: &dyn Store) -> TestRoom {
    let alice = user("alice");
    store
        .create_account(&Account {
            user_id: alice.clone(),
            password_hash: "hash".into(),
            created_ts: 1,
        })
        .unwrap();
    store
        .upsert_device(&Device {
            user_id: alice.clone(),
            device_id: "PHONE".into(),
            access_token: "token".into(),
            display_name: None,
        })
        .unwrap();
    store
        .set_profile(
            &alice,
            &Profile {
                displayname: Some("Alice".into()),
                avatar_url: None,
            },
        )
        .unwrap();
    let mut room = TestRoom::create(store, "hypha", &alice);
    store
        .create_room(&Room {
            room_id: room.room_id.clone(),
            room_version: "10".into(),
            federate: true,
        })
        .unwrap();
    store.set_alias(&alias(), &room.room_id).unwrap();
    let message = room.build(
        &alice,
        "m.room.message",
        None,
        serde_json::json!({"body": "hi"}),
    );
    room.persist_with(store, &message, Some(&txn()));
    store.enqueue_outgoing(&bob(), message.event_id()).unwrap();
    store.put_media(&avatar(), b"png").unwrap();
    room
}

fn alias() -> RoomAlias {
    "#hypha:tomesh.lab".parse().unwrap()
}
fn bob() -> ServerName {
    "bob.lab".parse().unwrap()
}
fn txn() -> TransactionKey {
    TransactionKey {
        user_id: user("alice"),
        device_id: "PHONE".into(),
        txn_id: "t1".into(),
    }
}
fn avatar() -> Media {
    Media {
        origin: "tomesh.lab".parse().unwrap(),
        media_id: "avatar".into(),
        content_type: "image/png".into(),
        filename: None,
        uploader: user("alice"),
        created_ts: 2,
    }
}

/// Checks that everything `fill` wrote is in `store`.
fn assert_filled(store: &dyn Store, room: &TestRoom) {
    let alice = user("alice");
    assert_eq!(
        store.account(&alice).unwrap().unwrap().password_hash,
        "hash"
    );
    assert_eq!(
        store.device_by_token("token").unwrap().unwrap().device_id,
        "PHONE"
    );
    assert_eq!(
        store.profile(&alice).unwrap().displayname.as_deref(),
        Some("Alice")
    );
    assert!(store.room(&room.room_id).unwrap().unwrap().federate);
    assert_eq!(
        store.resolve_alias(&alias()).unwrap(),
        Some(room.room_id.clone())
    );
    assert_eq!(store.current_state(&room.room_id).unwrap(), room.state);
    assert_eq!(
        store.forward_extremities(&room.room_id).unwrap(),
        room.extremities
    );
    let newest = &room.extremities[0];
    assert_eq!(
        store.transaction_event(&txn()).unwrap().as_ref(),
        Some(newest)
    );
    assert_eq!(
        store.state_after(newest).unwrap().as_ref(),
        Some(&room.state)
    );
    assert_eq!(store.current_position().unwrap(), 3);
    assert_eq!(
        store
            .room_events_before(&room.room_id, 4, 10)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store.rooms_with_membership(&alice, &["join"]).unwrap(),
        vec![room.room_id.clone()]
    );
    assert_eq!(store.outgoing(&bob(), 10).unwrap()[0].event_id, *newest);
    assert_eq!(
        store.media(&avatar().origin, "avatar").unwrap().unwrap().1,
        b"png"
    );
}

#[test]
fn everything_is_still_there_after_closing_and_reopening() {
    let (dir, store) = new_store();
    let room = fill(&store);
    drop(store);
    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_filled(&reopened, &room);
}

#[test]
fn open_creates_the_data_directory_and_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("servers/tomesh");
    let store = SqliteStore::open(&data_dir).unwrap();
    assert_eq!(store.database_path(), data_dir.join(DATABASE_FILE));
    assert!(data_dir.join(DATABASE_FILE).is_file());
    assert!(data_dir.join(MEDIA_DIR).is_dir());
}

#[test]
fn a_backup_restores_to_the_moment_it_was_taken() {
    let (_dir, store) = new_store();
    let room = fill(&store);
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup-2021-01-04.db");
    store.backup_to(&backup).unwrap();
    let files: Vec<_> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files,
        ["backup-2021-01-04.db"],
        "one complete file, nothing left over"
    );

    // Life goes on after the backup: a new account, a new message.
    let newcomer = Account {
        user_id: user("newcomer"),
        password_hash: "h".into(),
        created_ts: 3,
    };
    store.create_account(&newcomer).unwrap();
    let mut later = TestRoom::create(&store, "born-in-the-gap", &user("alice"));
    later.message(&store, &user("alice"), "lost");

    // Restore: a new data directory whose database is the backup, plus a
    // copy of the media directory (the backup holds only the database).
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, restored_dir.path().join(DATABASE_FILE)).unwrap();
    copy_dir(&store.media_dir(), &restored_dir.path().join(MEDIA_DIR));
    let restored = SqliteStore::open(restored_dir.path()).unwrap();
    assert_filled(&restored, &room);
    assert_eq!(restored.account(&newcomer.user_id).unwrap(), None);
    assert_eq!(
        restored
            .room_events_before(&later.room_id, i64::MAX, 10)
            .unwrap(),
        vec![]
    );
}

/// The incident's recovery, on the server's own data directory: the live
/// database is gone (its log files left behind), and the backup goes back
/// in its place. The stale log must not be replayed onto the backup.
#[test]
fn restore_puts_a_checked_backup_in_place_of_a_lost_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let room = fill(&store);
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("january.db");
    store.backup_to(&backup).unwrap();
    let mut later = TestRoom::create(&store, "born-in-the-gap", &user("alice"));
    later.message(&store, &user("alice"), "only in the log");
    // Copy the live log aside while the store is open, as a crash leaves it.
    let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
    let log = std::fs::read(&wal).unwrap();
    drop(store);
    std::fs::remove_file(dir.path().join(DATABASE_FILE)).unwrap();
    std::fs::write(&wal, log).unwrap();

    SqliteStore::restore_database(&backup, dir.path()).unwrap();
    assert!(!wal.exists(), "the stale log is gone");
    let restored = SqliteStore::open(dir.path()).unwrap();
    assert_filled(&restored, &room);
    assert_eq!(restored.room(&later.room_id).unwrap(), None);
}

#[test]
fn restore_refuses_a_bad_backup_and_leaves_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let room = fill(&store);
    drop(store);
    let garbage = dir.path().join("half-copied.db");
    std::fs::write(&garbage, vec![0x42; 10_000]).unwrap();
    let refused = SqliteStore::restore_database(&garbage, dir.path());
    assert!(
        matches!(refused, Err(StoreError::Unusable { .. })),
        "{refused:?}"
    );
    assert_filled(&SqliteStore::open(dir.path()).unwrap(), &room);
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let (dir, store) = new_store();
    let existing = dir.path().join("precious.db");
    std::fs::write(&existing, b"the only good copy").unwrap();
    let refused = store.backup_to(&existing);
    assert!(matches!(refused, Err(StoreError::Io { .. })), "{refused:?}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"the only good copy");
    // Nor may it overwrite the live database.
    assert!(store.backup_to(&store.database_path()).is_err());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
