//! The test fixture: rooms built by replaying a legal history.
//!
//! Every event a fixture room applies goes through [`check`] first and
//! must be allowed, so the fixture doubles as a test of the happy paths:
//! creating a room, joining, inviting, banning, knocking, changing rules.

use super::*;
use crate::state::{slot, slot_of};

/// The lobby's power levels: moderators (50) may edit power levels, so
/// that rule 9 has something to decide.
pub(super) fn lobby_power_levels() -> Value {
    json!({
        "users": {ADA: 100, MO: 50},
        "users_default": 0,
        "events_default": 0,
        "state_default": 50,
        "ban": 50, "kick": 50, "redact": 50, "invite": 0,
        "events": {
            "m.room.power_levels": 50,
            "m.room.name": 50,
            "m.room.tombstone": 100,
            "org.example.status": 0,
        },
        "notifications": {"room": 50},
    })
}

/// A server's signing key, seeded from its name so every run is the same.
pub(super) fn key(server: &str) -> SigningKey {
    let mut seed = [0; 32];
    for (byte, name_byte) in seed.iter_mut().zip(server.bytes()) {
        *byte = name_byte;
    }
    SigningKey::from_seed(
        server.parse().expect("test server name"),
        "ed25519:1".parse().expect("test key ID"),
        seed,
    )
}

fn server_of(user: &str) -> &str {
    user.split_once(':').map_or(user, |(_, server)| server)
}

/// Adds `server`'s signature to an event, as a resident server does when
/// it vouches for a restricted join.
pub(super) fn cosigned(event: Pdu, server: &str) -> Pdu {
    let mut json = event.into_json();
    signing::hash_and_sign_event(&mut json, &key(server)).expect("cosign");
    Pdu::from_json(Value::Object(json)).expect("cosigned event")
}

/// A room under construction: its state, and every event it has seen.
pub(super) struct Room {
    room_id: RoomId,
    pub(super) state: StateMap<Pdu>,
    pub(super) events: BTreeMap<EventId, Pdu>,
    last: Option<EventId>,
    depth: u64,
}

impl Room {
    /// Just the create event, by ada, for room v10, plus `extra` content.
    pub(super) fn created(room_id: &str, extra: Value) -> Room {
        let mut room = Room {
            room_id: room_id.parse().expect("test room ID"),
            state: StateMap::new(),
            events: BTreeMap::new(),
            last: None,
            depth: 0,
        };
        let mut content = json!({"creator": ADA, "room_version": "10"});
        if let (Some(content), Value::Object(extra)) = (content.as_object_mut(), extra) {
            content.extend(extra);
        }
        let create = room.event_with(ADA, "m.room.create", Some(""), content, |b| b);
        room.apply(create);
        room
    }

    /// Create, ada's join, the given power levels, public join rules.
    pub(super) fn started(room_id: &str, extra_create: Value, power_levels: Value) -> Room {
        let mut room = Room::created(room_id, extra_create);
        room.apply(room.member(ADA, ADA, "join"));
        room.apply(room.state_event(ADA, "m.room.power_levels", "", power_levels));
        room.apply(room.state_event(ADA, "m.room.join_rules", "", json!({"join_rule": "public"})));
        room
    }

    /// The lobby with its whole cast, ending with the given join rule.
    pub(super) fn lobby(join_rule: &str) -> Room {
        Room::lobby_with(join_rule, lobby_power_levels())
    }

    /// The lobby with other power levels.
    pub(super) fn lobby_with(join_rule: &str, power_levels: Value) -> Room {
        let mut room = Room::started("!lobby:tomesh.lab", json!({}), power_levels);
        for user in [MO, ALICE, BOB, EVE] {
            room.apply(room.member(user, user, "join"));
        }
        room.apply(room.member(ADA, EVE, "ban"));
        room.apply(room.member(ADA, IVAN, "invite"));
        room.apply(room.state_event(ADA, "m.room.join_rules", "", json!({"join_rule": "knock"})));
        room.apply(room.member(KIM, KIM, "knock"));
        let rule = json!({"join_rule": join_rule});
        room.apply(room.state_event(ADA, "m.room.join_rules", "", rule));
        room
    }

    /// The next event, citing exactly the auth events the spec selects.
    pub(super) fn event(
        &self,
        sender: &str,
        kind: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        self.event_with(sender, kind, state_key, content, |b| b)
    }

    /// [`Self::event`], then `customise` may overwrite any field.
    pub(super) fn event_with(
        &self,
        sender: &str,
        kind: &str,
        state_key: Option<&str>,
        content: Value,
        customise: impl FnOnce(PduBuilder) -> PduBuilder,
    ) -> Pdu {
        let sign = |builder: PduBuilder| builder.sign(&key(server_of(sender))).expect("test event");
        let mut builder = PduBuilder::new(
            self.room_id.clone(),
            sender.parse().expect("sender"),
            kind,
            content,
        )
        .prev_events(self.last.clone())
        .depth(self.depth + 1)
        .origin_server_ts(1_700_000_000_000 + self.depth);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        let draft = sign(builder.clone());
        let auth_events: Vec<EventId> = auth_types_for_event(&draft)
            .iter()
            .filter_map(|slot| self.state.get(slot))
            .map(|event| event.event_id().clone())
            .collect();
        sign(customise(builder.auth_events(auth_events)))
    }

    pub(super) fn state_event(
        &self,
        sender: &str,
        kind: &str,
        state_key: &str,
        content: Value,
    ) -> Pdu {
        self.event(sender, kind, Some(state_key), content)
    }

    pub(super) fn message(&self, sender: &str, body: &str) -> Pdu {
        self.event(
            sender,
            "m.room.message",
            None,
            json!({"msgtype": "m.text", "body": body}),
        )
    }

    pub(super) fn member(&self, sender: &str, target: &str, membership: &str) -> Pdu {
        self.state_event(
            sender,
            "m.room.member",
            target,
            json!({"membership": membership}),
        )
    }

    /// Power levels: the lobby's, changed by `change`.
    pub(super) fn power_levels(&self, sender: &str, change: impl FnOnce(&mut Value)) -> Pdu {
        let mut content = self
            .current("m.room.power_levels", "")
            .content()
            .clone()
            .into();
        change(&mut content);
        self.state_event(sender, "m.room.power_levels", "", content)
    }

    pub(super) fn current(&self, kind: &str, state_key: &str) -> &Pdu {
        self.state
            .get(&slot(kind, state_key))
            .expect("fixture state")
    }

    /// Every event of one slot the room has seen, oldest first.
    pub(super) fn history(&self, kind: &str, state_key: &str) -> Vec<&Pdu> {
        let mut events: Vec<&Pdu> = self
            .events
            .values()
            .filter(|e| slot_of(e) == Some(slot(kind, state_key)))
            .collect();
        events.sort_by_key(|event| event.depth());
        events
    }

    /// Lets `event` (from anywhere) be cited as an auth event.
    pub(super) fn remember(&mut self, event: &Pdu) {
        self.events.insert(event.event_id().clone(), event.clone());
    }

    /// Puts `event` into the state unchecked, as a buggy peer might.
    pub(super) fn force(&mut self, event: Pdu) {
        self.remember(&event);
        if let Some(key) = slot_of(&event) {
            self.state.insert(key, event);
        }
    }

    /// Adds an allowed event to the room; the fixture must be legal.
    pub(super) fn apply(&mut self, event: Pdu) {
        if let Err(failure) = check(self, &event) {
            panic!(
                "fixture event {} {:?}: {failure}",
                event.event_type(),
                event.content()
            );
        }
        if let Some(key) = slot_of(&event) {
            self.state.insert(key, event.clone());
        }
        self.last = Some(event.event_id().clone());
        self.depth = event.depth();
        self.events.insert(event.event_id().clone(), event);
    }
}
