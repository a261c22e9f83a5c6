//! The serving logic, through a real store: rooms built from signed events
//! with real `auth_events`, persisted the way the server persists them.

mod access;
mod history;
mod state_at;

use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_store::{EventWrite, Room, SqliteStore, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tempfile::TempDir;

/// A new store in its own temporary directory (deleted on drop).
pub fn new_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path()).expect("a new store opens");
    (dir, store)
}

fn key() -> SigningKey {
    SigningKey::from_seed(server("a.lab"), "ed25519:1".parse().unwrap(), [7; 32])
}

pub fn server(name: &str) -> ServerName {
    name.parse().unwrap()
}

pub fn user(id: &str) -> UserId {
    id.parse().unwrap()
}

pub fn alice() -> UserId {
    user("@alice:a.lab")
}

/// A room of server `a.lab`, built event by event. Events can go on any
/// parents, so tests can fork and merge the room.
pub struct TestRoom {
    pub room_id: RoomId,
    /// The state after each event we built.
    pub states: BTreeMap<EventId, StateMap<EventId>>,
    depths: BTreeMap<EventId, u64>,
    /// The newest event, where [`TestRoom::send`] builds on.
    pub tip: EventId,
    clock: u64,
}

impl TestRoom {
    /// A room created by Alice, who joined; `federate` is its `m.federate`.
    pub fn create(store: &dyn Store, name: &str, federate: bool) -> Self {
        let room_id: RoomId = format!("!{name}:a.lab").parse().unwrap();
        store
            .create_room(&Room {
                room_id: room_id.clone(),
                room_version: "10".into(),
                federate,
            })
            .unwrap();
        let create = PduBuilder::new(
            room_id.clone(),
            alice(),
            "m.room.create",
            json!({"creator": alice(), "room_version": "10", "m.federate": federate}),
        )
        .state_key("")
        .origin_server_ts(1)
        .sign(&key())
        .unwrap();
        let mut room = Self {
            room_id,
            states: BTreeMap::new(),
            depths: BTreeMap::new(),
            tip: create.event_id().clone(),
            clock: 1,
        };
        room.persist(store, &create, &StateMap::new());
        room.member(store, &alice(), &alice(), "join");
        room
    }

    /// Builds (does not persist) an event on `prevs`, authorised by the
    /// state after the first of them.
    pub fn build_on(
        &mut self,
        prevs: &[EventId],
        sender: &UserId,
        event_type: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        self.clock += 1;
        let state = &self.states[&prevs[0]];
        let auth_events = [
            slot("m.room.create", ""),
            slot("m.room.power_levels", ""),
            slot("m.room.member", sender.as_str()),
        ]
        .iter()
        .filter_map(|slot| state.get(slot).cloned())
        .collect::<Vec<_>>();
        let depth = prevs.iter().map(|id| self.depths[id]).max().unwrap_or(0) + 1;
        let mut builder =
            PduBuilder::new(self.room_id.clone(), sender.clone(), event_type, content)
                .prev_events(prevs.to_vec())
                .auth_events(auth_events)
                .depth(depth)
                .origin_server_ts(self.clock);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        builder.sign(&key()).unwrap()
    }

    /// Persists `event` as a timeline event, with the state after it being
    /// `state_before` plus the event itself; it becomes the tip.
    pub fn persist(&mut self, store: &dyn Store, event: &Pdu, state_before: &StateMap<EventId>) {
        let mut state = state_before.clone();
        if let Some(slot) = slot_of(event) {
            state.insert(slot, event.event_id().clone());
        }
        let id = event.event_id().clone();
        store
            .persist_event(&EventWrite {
                event,
                state_after: &state,
                forward_extremities: std::slice::from_ref(&id),
                current_state: None,
                outlier: false,
                transaction: None,
            })
            .unwrap();
        self.states.insert(id.clone(), state);
        self.depths.insert(id.clone(), event.depth());
        self.tip = id;
    }

    /// Builds and persists an event on `prevs`, its state before being the
    /// state after the first of them.
    pub fn send_on(
        &mut self,
        store: &dyn Store,
        prevs: &[EventId],
        event_type: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        let event = self.build_on(prevs, &alice(), event_type, state_key, content);
        let state_before = self.states[&prevs[0]].clone();
        self.persist(store, &event, &state_before);
        event
    }

    /// A message from Alice on the tip.
    pub fn message(&mut self, store: &dyn Store, body: &str) -> Pdu {
        let tip = self.tip.clone();
        let content = json!({"msgtype": "m.text", "body": body});
        self.send_on(store, &[tip], "m.room.message", None, content)
    }

    /// A membership event on the tip.
    pub fn member(
        &mut self,
        store: &dyn Store,
        sender: &UserId,
        target: &UserId,
        membership: &str,
    ) -> Pdu {
        let tip = self.tip.clone();
        let event = self.build_on(
            std::slice::from_ref(&tip),
            sender,
            "m.room.member",
            Some(target.as_str()),
            json!({"membership": membership}),
        );
        let state_before = self.states[&tip].clone();
        self.persist(store, &event, &state_before);
        event
    }
}

/// The event IDs of `events`, for comparing answers.
pub fn ids(events: &[Pdu]) -> Vec<EventId> {
    events
        .iter()
        .map(|event| event.event_id().clone())
        .collect()
}
