//! A fake federation for the receive pipeline: the rest of the room's
//! servers, answering from a [`TestRoom`] the way the spec says a peer
//! answers, and counting every request so a test can prove *how* a gap was
//! filled. And server B, the real homeserver under test.

use super::room::{TestRoom, key_of};
use lostfound_protocol::dag::auth_chain;
use lostfound_protocol::ids::{EventId, RoomId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use lostfound_server::federation::{FederationError, Peers, StateIds};
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{EventWrite, Room, SqliteStore, Store};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// How many times each federation request was made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Calls {
    pub get_missing_events: usize,
    pub get_event: usize,
    pub get_state_ids: usize,
}

/// The other servers of the room, as the receiving server sees them.
pub struct FakePeers {
    events: HashMap<EventId, Pdu>,
    state_before: HashMap<EventId, StateMap<EventId>>,
    servers: Vec<ServerName>,
    pub calls: Mutex<Calls>,
}

impl FakePeers {
    /// Peers that hold every event of `room` and know its servers' keys.
    pub fn holding(room: &TestRoom) -> Self {
        Self {
            events: room.events.clone(),
            state_before: room.state_before.clone(),
            servers: room.servers(),
            calls: Mutex::default(),
        }
    }

    pub fn calls(&self) -> Calls {
        self.calls.lock().unwrap().clone()
    }

    fn event_json(&self, id: &EventId) -> Option<Value> {
        self.events
            .get(id)
            .map(|event| Value::Object(event.json().clone()))
    }
}

impl Peers for FakePeers {
    /// Checks the sender's server's signature with its one key.
    async fn verify_event_signatures(&self, event: &Pdu) -> Result<(), FederationError> {
        let server = event.sender().server_name();
        if !self.servers.contains(&server) {
            return Err(FederationError::UnknownServer(server));
        }
        let key = key_of(server.as_str());
        event.verify_signature(&server, key.key_id(), &key.verify_key())?;
        Ok(())
    }

    /// The spec's walk: breadth first over `prev_events` from `latest`,
    /// not past `earliest`, at most `limit` events, newest first (the
    /// receiver must order them itself).
    async fn get_missing_events(
        &self,
        _server: &ServerName,
        _room_id: &RoomId,
        earliest_events: &[EventId],
        latest_events: &[EventId],
        limit: u32,
    ) -> Result<Vec<Value>, FederationError> {
        self.calls.lock().unwrap().get_missing_events += 1;
        let mut seen: BTreeSet<EventId> = earliest_events.iter().cloned().collect();
        seen.extend(latest_events.iter().cloned());
        let mut queue: VecDeque<EventId> = latest_events.iter().cloned().collect();
        let mut found = Vec::new();
        while let Some(id) = queue.pop_front() {
            let Some(event) = self.events.get(&id) else {
                continue;
            };
            for prev in event.prev_events() {
                if found.len() < limit as usize && seen.insert(prev.clone()) {
                    found.extend(self.event_json(prev));
                    queue.push_back(prev.clone());
                }
            }
        }
        Ok(found)
    }

    async fn get_event(
        &self,
        server: &ServerName,
        event_id: &EventId,
    ) -> Result<Value, FederationError> {
        self.calls.lock().unwrap().get_event += 1;
        self.event_json(event_id)
            .ok_or_else(|| FederationError::Refused {
                server: server.clone(),
                status: 404,
                errcode: "M_NOT_FOUND".into(),
                message: format!("no event {event_id}"),
            })
    }

    async fn get_state_ids(
        &self,
        server: &ServerName,
        _room_id: &RoomId,
        event_id: &EventId,
    ) -> Result<StateIds, FederationError> {
        self.calls.lock().unwrap().get_state_ids += 1;
        let state =
            self.state_before
                .get(event_id)
                .ok_or_else(|| FederationError::BadResponse {
                    server: server.clone(),
                    reason: format!("no state at {event_id}"),
                })?;
        let pdu_ids: Vec<EventId> = state.values().cloned().collect();
        let chain = auth_chain(&pdu_ids, |id| self.events.get(id));
        Ok(StateIds {
            pdu_ids,
            auth_chain_ids: chain.events.into_iter().collect(),
        })
    }
}

/// Server B: a real homeserver on SQLite in a temporary directory.
pub struct ServerB {
    pub homeserver: Homeserver,
    pub store: Arc<SqliteStore>,
    pub origin: ServerName,
    _dir: tempfile::TempDir,
}

impl ServerB {
    /// `event`, as `origin` sends it to B in a transaction, through the
    /// receive pipeline with `peers` to ask for what B lacks.
    pub async fn receive(
        &self,
        peers: &FakePeers,
        event: &Pdu,
    ) -> Result<
        lostfound_server::federation::receive::Outcome,
        lostfound_server::federation::receive::ReceiveError,
    > {
        lostfound_server::federation::receive::receive_pdu(
            &self.homeserver,
            peers,
            &self.origin,
            Value::Object(event.json().clone()),
        )
        .await
    }

    /// B, holding the first `count` events of `room`, as if it had been in
    /// the room that long (or was restored from a backup made then).
    pub fn holding(room: &TestRoom, count: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let config = Config::new("b.lab".parse().unwrap(), dir.path().to_path_buf(), [2; 32]);
        let homeserver = Homeserver::new(config, store.clone(), Arc::new(SystemClock)).unwrap();
        give(store.as_ref(), room, count);
        Self {
            homeserver,
            store,
            origin: "a.lab".parse().unwrap(),
            _dir: dir,
        }
    }

    /// The room's timeline as clients see it, oldest first.
    pub fn timeline(&self, room: &TestRoom) -> Vec<EventId> {
        self.store
            .room_events_after(&room.room_id, 0, i64::MAX, 1000)
            .unwrap()
            .into_iter()
            .map(|stored| stored.event.event_id().clone())
            .collect()
    }

    pub fn current_state(&self, room: &TestRoom) -> StateMap<EventId> {
        self.store.current_state(&room.room_id).unwrap()
    }
}

/// Writes the first `count` events of `room` (a linear history) straight
/// into `store`, as if the server had been in the room that long.
pub fn give(store: &dyn Store, room: &TestRoom, count: usize) {
    let create = room.event(&room.order[0]);
    let federate = create.content().get("m.federate") != Some(&Value::Bool(false));
    store
        .create_room(&Room {
            room_id: room.room_id.clone(),
            room_version: "10".into(),
            federate,
        })
        .unwrap();
    for id in &room.order[..count] {
        store
            .persist_event(&EventWrite {
                event: room.event(id),
                state_after: &room.state_after[id],
                forward_extremities: std::slice::from_ref(id),
                current_state: None,
                outlier: false,
                transaction: None,
            })
            .unwrap();
    }
}
