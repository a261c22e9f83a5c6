//! A room built purely in the test, the way its home servers would have
//! built it: every event hashed and signed by its sender's server, with
//! `prev_events`, `depth` and `auth_events` filled from the state before it.
//! Branches are made by naming older events as `prev_events`.

use lostfound_protocol::auth::auth_types_for_event;
use lostfound_protocol::ids::{EventId, RoomId, ServerName, UserId};
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use lostfound_protocol::state_res::resolve;
use serde_json::{Value, json};
use std::collections::HashMap;

/// A server's key seed: its name's bytes, so runs are reproducible.
pub fn seed_of(server: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (byte, name) in seed.iter_mut().zip(server.bytes()) {
        *byte = name;
    }
    seed
}

/// A server's signing key (`ed25519:1`, as a homeserver names its key).
pub fn key_of(server: &str) -> SigningKey {
    SigningKey::from_seed(
        server.parse().unwrap(),
        "ed25519:1".parse().unwrap(),
        seed_of(server),
    )
}

pub fn user(id: &str) -> UserId {
    id.parse().unwrap()
}

/// The whole room as its senders' servers hold it.
pub struct TestRoom {
    pub room_id: RoomId,
    /// Events in the order they were created.
    pub order: Vec<EventId>,
    pub events: HashMap<EventId, Pdu>,
    pub state_before: HashMap<EventId, StateMap<EventId>>,
    pub state_after: HashMap<EventId, StateMap<EventId>>,
    clock: u64,
}

impl TestRoom {
    /// A public room created by `creator`: create, join, power levels
    /// (creator 100, `state_default` 0 so members may set the topic), and
    /// public join rules.
    pub fn public(creator: &str, federate: bool) -> Self {
        let creator_id = user(creator);
        let server = creator_id.server_name();
        let mut room = Self {
            room_id: format!("!{}:{server}", creator_id.localpart())
                .parse()
                .unwrap(),
            order: Vec::new(),
            events: HashMap::new(),
            state_before: HashMap::new(),
            state_after: HashMap::new(),
            clock: 1_610_000_000_000,
        };
        let create = json!({"creator": creator, "room_version": "10", "m.federate": federate});
        room.state(creator, "m.room.create", "", create);
        room.state(
            creator,
            "m.room.member",
            creator,
            json!({"membership": "join"}),
        );
        let levels = json!({"users": {creator: 100}, "state_default": 0});
        room.state(creator, "m.room.power_levels", "", levels);
        room.state(
            creator,
            "m.room.join_rules",
            "",
            json!({"join_rule": "public"}),
        );
        room
    }

    pub fn last(&self) -> EventId {
        self.order.last().cloned().unwrap()
    }

    pub fn event(&self, id: &EventId) -> &Pdu {
        &self.events[id]
    }

    /// A state event after the newest event.
    pub fn state(&mut self, sender: &str, kind: &str, state_key: &str, content: Value) -> Pdu {
        let prevs: Vec<EventId> = self.order.last().cloned().into_iter().collect();
        self.send_after(&prevs, sender, kind, Some(state_key), content)
    }

    /// A message after the newest event.
    pub fn message(&mut self, sender: &str, body: &str) -> Pdu {
        let prevs: Vec<EventId> = self.order.last().cloned().into_iter().collect();
        let content = json!({"msgtype": "m.text", "body": body});
        self.send_after(&prevs, sender, "m.room.message", None, content)
    }

    /// Any event, after `prevs` (several prevs merge branches).
    pub fn send_after(
        &mut self,
        prevs: &[EventId],
        sender: &str,
        kind: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        self.send_citing(prevs, prevs, sender, kind, state_key, content)
    }

    /// An event after `prevs` whose auth events come from the state after
    /// `auth_from`: honest when the two are the same, a forgery of
    /// permission when they are not.
    pub fn send_citing(
        &mut self,
        prevs: &[EventId],
        auth_from: &[EventId],
        sender: &str,
        kind: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        let cited = self.state_at(auth_from);
        let state = self.state_at(prevs);
        let depth = prevs
            .iter()
            .map(|p| self.events[p].depth())
            .max()
            .unwrap_or(0)
            + 1;
        self.clock += 1000;
        let sender_id = user(sender);
        let key = key_of(sender_id.server_name().as_str());
        let mut builder = PduBuilder::new(self.room_id.clone(), sender_id, kind, content)
            .prev_events(prevs.iter().cloned())
            .depth(depth)
            .origin_server_ts(self.clock);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        let draft = builder.clone().sign(&key).unwrap();
        let auth = auth_types_for_event(&draft)
            .into_iter()
            .filter_map(|slot| cited.get(&slot).cloned());
        let event = builder.auth_events(auth).sign(&key).unwrap();
        let mut after = state.clone();
        if let Some(slot) = slot_of(&event) {
            after.insert(slot, event.event_id().clone());
        }
        let id = event.event_id().clone();
        self.state_before.insert(id.clone(), state);
        self.state_after.insert(id.clone(), after);
        self.events.insert(id.clone(), event.clone());
        self.order.push(id);
        event
    }

    /// The state after `prevs`, resolved if there are several.
    fn state_at(&self, prevs: &[EventId]) -> StateMap<EventId> {
        let sets: Vec<_> = prevs.iter().map(|p| self.state_after[p].clone()).collect();
        resolve(&sets, |id| self.events.get(id)).unwrap()
    }

    /// The servers whose keys sign this room's events.
    pub fn servers(&self) -> Vec<ServerName> {
        let mut servers: Vec<ServerName> = self
            .events
            .values()
            .map(|event| event.sender().server_name())
            .collect();
        servers.sort();
        servers.dedup();
        servers
    }
}
