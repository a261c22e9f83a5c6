//! Fixtures: a store in a temporary directory, and a room that builds real,
//! signed events the way a server would (parents, depth, state).

use lostfound_protocol::ids::{EventId, RoomId, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use lostfound_store::{EventWrite, SqliteStore, Store, StreamPosition, TransactionKey};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A closed store holding a room with a few hundred messages: a
/// database worth damaging, copying or checking.
pub fn closed_store_with_history() -> TempDir {
    let (dir, store) = new_store();
    let alice = user("alice");
    let mut room = TestRoom::create(&store, "hypha", &alice);
    for n in 0..300 {
        room.message(
            &store,
            &alice,
            &format!("message {n} {}", "padding ".repeat(20)),
        );
    }
    drop(store); // checkpoints the WAL into homeserver.db
    dir
}

/// A new store in its own temporary data directory (deleted on drop).
pub fn new_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path()).expect("a new store opens");
    (dir, store)
}

/// The lab server's seeded signing key: the same events every run.
pub fn key() -> SigningKey {
    SigningKey::from_seed(
        "tomesh.lab".parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        [7; 32],
    )
}

pub fn user(localpart: &str) -> UserId {
    format!("@{localpart}:tomesh.lab").parse().unwrap()
}

/// A room as one server sees it: its state and newest events so far.
pub struct TestRoom {
    pub room_id: RoomId,
    pub state: StateMap<EventId>,
    pub extremities: Vec<EventId>,
    depth: u64,
    clock: u64,
}

impl TestRoom {
    /// A room with no events yet.
    pub fn new(name: &str) -> Self {
        Self {
            room_id: format!("!{name}:tomesh.lab").parse().unwrap(),
            state: StateMap::new(),
            extremities: Vec::new(),
            depth: 0,
            clock: 1_609_718_400_000, // 4 January 2021, the backup's date
        }
    }

    /// A room created by `creator`, who has joined; both events persisted.
    pub fn create(store: &dyn Store, name: &str, creator: &UserId) -> Self {
        let mut room = Self::new(name);
        room.state_event(
            store,
            creator,
            "m.room.create",
            "",
            json!({"room_version": "10"}),
        );
        room.member(store, creator, creator, "join");
        room
    }

    /// The next event on top of the room's extremities, not yet applied.
    pub fn build(
        &mut self,
        sender: &UserId,
        event_type: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        self.clock += 1;
        let mut builder =
            PduBuilder::new(self.room_id.clone(), sender.clone(), event_type, content)
                .prev_events(self.extremities.clone())
                .depth(self.depth + 1)
                .origin_server_ts(self.clock);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        builder.sign(&key()).expect("a valid event")
    }

    /// Makes `event` the room's newest: its state and extremities follow.
    pub fn apply(&mut self, event: &Pdu) {
        if let Some(slot) = slot_of(event) {
            self.state.insert(slot, event.event_id().clone());
        }
        self.extremities = vec![event.event_id().clone()];
        self.depth = self.depth.max(event.depth());
    }

    /// Applies and persists `event` as a timeline event.
    pub fn persist(&mut self, store: &dyn Store, event: &Pdu) -> StreamPosition {
        self.persist_with(store, event, None)
    }

    pub fn persist_with(
        &mut self,
        store: &dyn Store,
        event: &Pdu,
        transaction: Option<&TransactionKey>,
    ) -> StreamPosition {
        self.apply(event);
        store
            .persist_event(&EventWrite {
                event,
                state_after: &self.state,
                forward_extremities: &self.extremities,
                current_state: None,
                outlier: false,
                transaction,
            })
            .expect("persist")
    }

    pub fn message(
        &mut self,
        store: &dyn Store,
        sender: &UserId,
        body: &str,
    ) -> (Pdu, StreamPosition) {
        let event = self.build(
            sender,
            "m.room.message",
            None,
            json!({"msgtype": "m.text", "body": body}),
        );
        let position = self.persist(store, &event);
        (event, position)
    }

    pub fn state_event(
        &mut self,
        store: &dyn Store,
        sender: &UserId,
        event_type: &str,
        state_key: &str,
        content: Value,
    ) -> (Pdu, StreamPosition) {
        let event = self.build(sender, event_type, Some(state_key), content);
        let position = self.persist(store, &event);
        (event, position)
    }

    pub fn member(
        &mut self,
        store: &dyn Store,
        sender: &UserId,
        target: &UserId,
        membership: &str,
    ) -> (Pdu, StreamPosition) {
        self.state_event(
            store,
            sender,
            "m.room.member",
            target.as_str(),
            json!({"membership": membership}),
        )
    }
}

/// The event IDs of stored events, for comparing timelines.
pub fn ids(events: &[lostfound_store::StoredEvent]) -> Vec<EventId> {
    events
        .iter()
        .map(|stored| stored.event.event_id().clone())
        .collect()
}
