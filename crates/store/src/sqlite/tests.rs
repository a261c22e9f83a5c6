//! Tests that need the store's insides: a disk that fills up, and the
//! sharing of state groups, which the trait deliberately does not show.

use super::SqliteStore;
use crate::{Account, EventWrite, Media, Store, StoreError};
use lostfound_protocol::ids::{EventId, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use serde_json::{Value, json};

fn alice() -> UserId {
    "@alice:tomesh.lab".parse().unwrap()
}

/// A chain of events in one room, persisted as a server would.
struct Chain {
    state: StateMap<EventId>,
    previous: Vec<EventId>,
    depth: u64,
}

impl Chain {
    fn new() -> Self {
        Self {
            state: StateMap::new(),
            previous: Vec::new(),
            depth: 0,
        }
    }

    fn next(&mut self, event_type: &str, state_key: Option<&str>, content: Value) -> Pdu {
        let key = SigningKey::from_seed(
            "tomesh.lab".parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [7; 32],
        );
        self.depth += 1;
        let mut builder = PduBuilder::new(
            "!hypha:tomesh.lab".parse().unwrap(),
            alice(),
            event_type,
            content,
        )
        .prev_events(self.previous.clone())
        .depth(self.depth);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        builder.sign(&key).unwrap()
    }

    fn persist(&mut self, store: &SqliteStore, event: &Pdu) -> crate::Result<i64> {
        let mut state = self.state.clone();
        if let Some(slot) = slot_of(event) {
            state.insert(slot, event.event_id().clone());
        }
        let extremities = [event.event_id().clone()];
        let position = store.persist_event(&EventWrite {
            event,
            state_after: &state,
            forward_extremities: &extremities,
            current_state: None,
            outlier: false,
            transaction: None,
        })?;
        self.state = state;
        self.previous = extremities.to_vec();
        Ok(position)
    }
}

fn new_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    (dir, store)
}

/// Caps the database at its current number of pages (or lifts the cap):
/// the next write that needs a new page fails as if the disk were full.
/// This is how the lab's `migrate --quota` fills a disk for real.
fn cap_database(store: &SqliteStore, capped: bool) {
    store
        .with_connection(|conn| {
            let pages: i64 = conn.pragma_query_value(None, "page_count", |row| row.get(0))?;
            let limit = if capped {
                pages
            } else {
                i64::from(u32::MAX - 1)
            };
            conn.pragma_update(None, "max_page_count", limit)?;
            Ok(())
        })
        .unwrap();
}

fn count(store: &SqliteStore, table: &str) -> i64 {
    store
        .with_connection(|conn| {
            Ok(
                conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })?,
            )
        })
        .unwrap()
}

#[test]
fn a_full_disk_refuses_the_whole_write_and_the_store_carries_on() {
    let (_dir, store) = new_store();
    let mut room = Chain::new();
    let create = room.next("m.room.create", Some(""), json!({"room_version": "10"}));
    room.persist(&store, &create).unwrap();
    let position = store.current_position().unwrap();

    cap_database(&store, true);
    let long = room.next("m.room.message", None, json!({"body": "x".repeat(30_000)}));
    let refused = room.persist(&store, &long);
    assert!(
        matches!(&refused, Err(StoreError::DiskFull(m)) if m.contains("full")),
        "{refused:?}"
    );
    let account = Account {
        user_id: alice(),
        password_hash: "h".repeat(30_000),
        created_ts: 0,
    };
    let refused = store.create_account(&account);
    assert!(
        matches!(refused, Err(StoreError::DiskFull(_))),
        "{refused:?}"
    );

    // Nothing of the failed writes remains, and reads still work.
    assert_eq!(store.event(long.event_id()).unwrap(), None);
    assert_eq!(store.current_position().unwrap(), position);
    assert_eq!(
        store.forward_extremities(create.room_id()).unwrap(),
        vec![create.event_id().clone()]
    );
    assert_eq!(store.account(&alice()).unwrap(), None);

    // Space is freed: the same writes now succeed.
    cap_database(&store, false);
    assert!(room.persist(&store, &long).unwrap() > position);
    store.create_account(&account).unwrap();
}

#[test]
fn a_full_disk_leaves_no_media_file_without_its_row() {
    let (dir, store) = new_store();
    cap_database(&store, true);
    let media = Media {
        origin: "tomesh.lab".parse().unwrap(),
        media_id: "big".into(),
        content_type: "text/plain".into(),
        filename: Some("n".repeat(30_000)),
        uploader: alice(),
        created_ts: 0,
    };
    let refused = store.put_media(&media, b"bytes");
    assert!(
        matches!(refused, Err(StoreError::DiskFull(_))),
        "{refused:?}"
    );
    let origin_dir = dir.path().join("media/tomesh.lab");
    let left: Vec<_> = std::fs::read_dir(origin_dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn messages_share_their_parents_state_group_and_state_events_make_new_ones() {
    let (_dir, store) = new_store();
    let mut room = Chain::new();
    let create = room.next("m.room.create", Some(""), json!({"room_version": "10"}));
    room.persist(&store, &create).unwrap();
    let join = room.next(
        "m.room.member",
        Some(alice().as_str()),
        json!({"membership": "join"}),
    );
    room.persist(&store, &join).unwrap();
    assert_eq!(count(&store, "state_groups"), 2);

    for n in 0..10 {
        let message = room.next("m.room.message", None, json!({"body": n}));
        room.persist(&store, &message).unwrap();
    }
    assert_eq!(count(&store, "state_groups"), 2, "messages reuse the group");
    assert_eq!(count(&store, "state_group_entries"), 1 + 2);

    let name = room.next("m.room.name", Some(""), json!({"name": "Hypha"}));
    room.persist(&store, &name).unwrap();
    assert_eq!(count(&store, "state_groups"), 3);
    assert_eq!(count(&store, "state_group_entries"), 1 + 2 + 3);
}

/// SQLite's plan for `sql`: one line per step, as `EXPLAIN QUERY PLAN` says.
fn query_plan(store: &SqliteStore, sql: &str) -> String {
    store
        .with_connection(|conn| {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let nulls = std::iter::repeat_n(rusqlite::types::Null, statement.parameter_count());
            let steps = statement.query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))?;
            Ok(steps.collect::<rusqlite::Result<Vec<String>>>()?.join("\n"))
        })
        .unwrap()
}

#[test]
fn the_timeline_is_read_through_its_partial_index() {
    // Without the index, every page of /sync would scan every event of
    // every room; with it, SQLite jumps to the room and the position.
    let (_dir, store) = new_store();
    for sql in [super::events::EVENTS_AFTER, super::events::EVENTS_BEFORE] {
        let plan = query_plan(&store, sql);
        assert!(plan.contains("USING INDEX events_timeline"), "{plan}");
    }
}

/// "Acknowledged means durable" rests on two settings; a later tweak to
/// `synchronous=NORMAL` for speed would silently break the promise, so
/// this test pins them on a store as `open` returns it.
#[test]
fn the_durability_settings_are_in_force() {
    let (_dir, store) = new_store();
    let (journal, synchronous): (String, i64) = store
        .with_connection(|conn| {
            let journal = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
            let synchronous = conn.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
            Ok((journal, synchronous))
        })
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
    assert_eq!(synchronous, 2, "2 is FULL: every commit waits for fsync");
}
