//! Loads a state resolution fixture, builds its events, resolves, and
//! compares against the fixture's expectations and a reviewed snapshot.

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use lostfound_protocol::state_res::resolve_with_rejections;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One case: events added to the base room, and the state each branch of
/// the fork ended with, written as the events it added on top of the base
/// room's state (later names replace earlier ones in the same slot).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    #[serde(default)]
    events: Vec<EventSpec>,
    state_sets: Vec<Vec<String>>,
    /// Slots (`"type|state_key"`) whose outcome is the point of the case:
    /// an event name, or `null` for "no event in this slot".
    #[serde(default)]
    expect: BTreeMap<String, Option<String>>,
    /// Events the resolving server rejected on receipt.
    #[serde(default)]
    rejected: Vec<String>,
}

/// An event, with other events referred to by name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    name: String,
    sender: String,
    #[serde(rename = "type")]
    event_type: String,
    state_key: Option<String>,
    content: Value,
    #[serde(default)]
    auth: Vec<String>,
    /// Defaults to the previous event in the file.
    prev: Option<Vec<String>>,
    /// Defaults to 1000 times the event's position among all events.
    ts: Option<u64>,
}

#[derive(Deserialize)]
struct BaseRoom {
    events: Vec<EventSpec>,
}

/// The events of a case, built and signed, addressable by name or ID.
pub struct Room {
    pub events: HashMap<EventId, Pdu>,
    pub names: HashMap<EventId, String>,
    ids: HashMap<String, EventId>,
    /// The base room's state: every base event, in its slot.
    pub base_state: StateMap<EventId>,
}

impl Room {
    pub fn id(&self, name: &str) -> EventId {
        match self.ids.get(name) {
            Some(id) => id.clone(),
            None => panic!("fixture names unknown event {name}"),
        }
    }

    pub fn name(&self, id: &EventId) -> &str {
        self.names.get(id).map_or("<unknown>", String::as_str)
    }

    fn add(&mut self, spec: &EventSpec, position: u64, previous: Option<&str>) {
        let names = |list: &[String]| list.iter().map(|n| self.id(n)).collect::<Vec<_>>();
        let prev = match &spec.prev {
            Some(prev) => names(prev),
            None => previous.map(|p| vec![self.id(p)]).unwrap_or_default(),
        };
        let depth = 1 + prev
            .iter()
            .map(|id| self.events[id].depth())
            .max()
            .unwrap_or(0);
        let sender: lostfound_protocol::ids::UserId = spec.sender.parse().unwrap();
        let key =
            SigningKey::from_seed(sender.server_name(), "ed25519:1".parse().unwrap(), [9; 32]);
        let mut builder = PduBuilder::new(
            "!lab:a.lab".parse().unwrap(),
            sender,
            &spec.event_type,
            spec.content.clone(),
        )
        .auth_events(names(&spec.auth))
        .prev_events(prev)
        .depth(depth)
        .origin_server_ts(spec.ts.unwrap_or(1000 * position));
        if let Some(state_key) = &spec.state_key {
            builder = builder.state_key(state_key);
        }
        let event = builder.sign(&key).unwrap();
        let id = event.event_id().clone();
        assert!(
            self.ids.insert(spec.name.clone(), id.clone()).is_none(),
            "duplicate event name {}",
            spec.name
        );
        self.names.insert(id.clone(), spec.name.clone());
        self.events.insert(id, event);
    }

    /// The base state with `names` applied on top, in order.
    pub fn state_after(&self, names: &[String]) -> StateMap<EventId> {
        let mut state = self.base_state.clone();
        for name in names {
            let id = self.id(name);
            let slot = slot_of(&self.events[&id]).expect("state sets hold state events");
            state.insert(slot, id);
        }
        state
    }

    /// `type|state_key -> NAME`, one slot per line.
    pub fn render(&self, state: &StateMap<EventId>) -> String {
        state
            .iter()
            .map(|((event_type, state_key), id)| {
                format!("{event_type}|{state_key} -> {}\n", self.name(id))
            })
            .collect()
    }
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/state_res")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The base room alone, plus `extra` events, in file order.
fn build(extra: &[EventSpec]) -> Room {
    let base: BaseRoom = read("base_room");
    let mut room = Room {
        events: HashMap::new(),
        names: HashMap::new(),
        ids: HashMap::new(),
        base_state: StateMap::new(),
    };
    let mut previous: Option<String> = None;
    for (position, spec) in base.events.iter().chain(extra).enumerate() {
        room.add(spec, position as u64 + 1, previous.as_deref());
        previous = Some(spec.name.clone());
    }
    for spec in &base.events {
        let id = room.id(&spec.name);
        if let Some(slot) = slot_of(&room.events[&id]) {
            room.base_state.insert(slot, id);
        }
    }
    room
}

/// The base room and nothing else, for tests that add their own events.
pub fn base_room() -> Room {
    build(&[])
}

/// Every ordering of `items` (there are at most a handful of state sets).
pub fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            all.push(tail);
        }
    }
    all
}

/// Resolves the fixture `name`, checks its `expect` entries and that every
/// order of its state sets agrees, and compares with the snapshot.
pub fn check(name: &str) {
    let fixture: Fixture = read(name);
    let room = build(&fixture.events);
    let state_sets: Vec<_> = fixture
        .state_sets
        .iter()
        .map(|names| room.state_after(names))
        .collect();

    let rejected: BTreeSet<EventId> = fixture.rejected.iter().map(|n| room.id(n)).collect();
    let resolve = |sets: &[StateMap<EventId>]| {
        resolve_with_rejections(sets, |id| room.events.get(id), |id| rejected.contains(id)).unwrap()
    };
    let resolved = resolve(&state_sets);
    for (slot, expected) in &fixture.expect {
        let (event_type, state_key) = slot
            .split_once('|')
            .expect("expect keys are type|state_key");
        let got = resolved
            .get(&(event_type.to_owned(), state_key.to_owned()))
            .map(|id| room.name(id));
        assert_eq!(got, expected.as_deref(), "{name}: slot {slot}");
    }
    for order in permutations(&state_sets) {
        let again = resolve(&order);
        assert_eq!(
            room.render(&again),
            room.render(&resolved),
            "{name}: order matters"
        );
    }

    // Snapshots live in tests/snapshots/, named state_res__<case>.snap.
    insta::with_settings!({
        description => fixture.description.as_str(),
        omit_expression => true,
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(format!("state_res__{name}"), room.render(&resolved));
    });
}
