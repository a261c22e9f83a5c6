//! Three homeservers in one process that a test can stop and restart on the
//! same port and data directory (a partition, then its repair), a user on
//! each, and bounded polling until the federation has quiesced.

use lostfound_protocol::ids::{EventId, RoomId, ServerName};
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{SqliteStore, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long settling may take before the test gives up: longer than the
/// sender's backoff reaches in a short run, far shorter than a hang.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One homeserver, running or stopped, and its one user.
pub struct Node {
    pub name: String,
    pub address: SocketAddr,
    pub store: Arc<SqliteStore>,
    pub user_id: String,
    token: String,
    config: Config,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The running server, to tell it that a peer is back.
    homeserver: Option<Homeserver>,
    _dir: tempfile::TempDir,
}

fn seed_of(name: &str) -> [u8; 32] {
    let mut seed = [0x33; 32];
    for (index, byte) in name.bytes().enumerate() {
        seed[index % 32] ^= byte;
    }
    seed
}

/// Starts one server per name, every one knowing every address, and
/// registers `user` on each (`users[i]` on `names[i]`).
pub async fn start(names: &[&str], users: &[&str]) -> Vec<Node> {
    let mut listeners = Vec::new();
    let mut peers: BTreeMap<ServerName, String> = BTreeMap::new();
    for name in names {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        peers.insert(
            name.parse().unwrap(),
            listener.local_addr().unwrap().to_string(),
        );
        listeners.push(listener);
    }
    let mut nodes = Vec::new();
    for ((name, listener), user) in names.iter().zip(listeners).zip(users) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(
            name.parse().unwrap(),
            dir.path().to_path_buf(),
            seed_of(name),
        );
        config.peers = peers.clone();
        let mut node = Node {
            name: (*name).to_owned(),
            address: listener.local_addr().unwrap(),
            store: Arc::new(SqliteStore::open(dir.path()).unwrap()),
            user_id: String::new(),
            token: String::new(),
            config,
            http: reqwest::Client::new(),
            stop: None,
            task: None,
            homeserver: None,
            _dir: dir,
        };
        node.serve(listener);
        node.register(user).await;
        nodes.push(node);
    }
    nodes
}

impl Node {
    fn serve(&mut self, listener: TcpListener) {
        let store = self.store.clone();
        let homeserver =
            Homeserver::new(self.config.clone(), store, Arc::new(SystemClock)).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.homeserver = Some(homeserver.clone());
        self.task = Some(tokio::spawn(lostfound_server::serve(
            listener,
            homeserver,
            async {
                let _ = stopped.await;
            },
        )));
    }

    /// Tells this server that `peer` is up again (as the lab does after a
    /// restart), so that a delivery waiting out its backoff retries now.
    pub fn peer_is_back(&self, peer: &str) {
        if let (Some(homeserver), Ok(peer)) = (&self.homeserver, peer.parse()) {
            homeserver.peer_is_back(&peer);
        }
    }

    pub fn is_up(&self) -> bool {
        self.task.is_some()
    }

    /// Stops the server, its sender included; the data directory stays.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.homeserver = None;
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Starts it again on the same port and data directory, with a freshly
    /// opened store, as after a restart of the process. The client starts
    /// afresh too: a kept-alive connection to the old process may not have
    /// seen its close yet, and a request on it would fail.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.http = reqwest::Client::new();
        self.store = Arc::new(SqliteStore::open(&self.config.data_dir).unwrap());
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    /// A client-server API request as this node's user.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("http://{}{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn register(&mut self, username: &str) {
        let path = "/_matrix/client/v3/register";
        let mut body = json!({"username": username, "password": "correct horse"});
        let (_, challenge) = self.request("POST", path, Some(body.clone())).await;
        body["auth"] = json!({"type": "m.login.dummy", "session": challenge["session"]});
        let (status, registered) = self.request("POST", path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{registered}");
        self.user_id = registered["user_id"].as_str().unwrap().to_owned();
        self.token = registered["access_token"].as_str().unwrap().to_owned();
    }

    /// Whether this server holds `event_id` (in its timeline or as an outlier).
    pub fn holds(&self, event_id: &str) -> bool {
        let event_id: EventId = event_id.parse().unwrap();
        self.store.event(&event_id).unwrap().is_some()
    }

    /// How many events wait in this server's outbox, all destinations.
    pub fn queued(&self) -> usize {
        let destinations = self.store.outgoing_destinations().unwrap();
        destinations
            .iter()
            .map(|destination| self.store.outgoing(destination, 10_000).unwrap().len())
            .sum()
    }

    /// The room's current state as this server's client API reports it:
    /// `type|state_key` → event ID.
    pub async fn state(&self, room_id: &str) -> BTreeMap<String, String> {
        let (status, events) = self
            .request(
                "GET",
                &format!("/_matrix/client/v3/rooms/{room_id}/state"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{events}");
        events
            .as_array()
            .expect("a list of state events")
            .iter()
            .map(|event| {
                let slot = format!(
                    "{}|{}",
                    event["type"].as_str().unwrap(),
                    event["state_key"].as_str().unwrap()
                );
                (slot, event["event_id"].as_str().unwrap().to_owned())
            })
            .collect()
    }

    /// Every event ID `/messages` gives, paging backwards to the start of
    /// the room (backfilling across holes, as a client scrolling up would).
    pub async fn timeline(&self, room_id: &str) -> Vec<String> {
        let mut events = Vec::new();
        let mut from = String::new();
        for _ in 0..100 {
            let path = format!("/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=20{from}");
            let (status, page) = self.request("GET", &path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let chunk = page["chunk"].as_array().expect("a chunk");
            events.extend(
                chunk
                    .iter()
                    .map(|event| event["event_id"].as_str().unwrap().to_owned()),
            );
            match page["end"].as_str() {
                Some(end) if !chunk.is_empty() => from = format!("&from={end}"),
                _ => return events,
            }
        }
        panic!(
            "{}: /messages never reached the start of {room_id}",
            self.name
        );
    }

    /// The room's forward extremities in this server's store.
    pub fn extremities(&self, room_id: &str) -> Vec<String> {
        let room_id: RoomId = room_id.parse().unwrap();
        let extremities = self.store.forward_extremities(&room_id).unwrap();
        extremities.iter().map(ToString::to_string).collect()
    }
}

/// Polls `condition` every 50 ms until it holds; `Err(what)` after
/// [`PATIENCE`]. No assertion depends on how fast anything is.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("gave up after {PATIENCE:?} waiting until {what}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
