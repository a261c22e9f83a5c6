//! A homeserver that a test can stop and start again on the same port and
//! data directory, the way an operator restarts a server, plus a fake peer
//! that only records the transactions it is sent.

use axum::Json;
use axum::extract::{Path, State};
use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_server::state::SystemClock;
use lostfound_server::{Config, Homeserver};
use lostfound_store::{SqliteStore, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for something to happen before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Waits until `condition` holds, polling; panics with `what` after
/// [`PATIENCE`]. No test depends on how fast the sender is.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Binds a port for each name first, so every server knows every address.
pub async fn bind(names: &[&str]) -> (Vec<TcpListener>, BTreeMap<ServerName, String>) {
    let mut listeners = Vec::new();
    let mut peers = BTreeMap::new();
    for name in names {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        peers.insert(name.parse().unwrap(), address);
        listeners.push(listener);
    }
    (listeners, peers)
}

/// One homeserver, running or stopped.
pub struct Node {
    pub address: SocketAddr,
    pub store: Arc<SqliteStore>,
    pub client: reqwest::Client,
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Opens a fresh data directory, lets `prepare` write into the store
    /// (a room, queued events), then serves on `listener`. The signing
    /// key seed is the one `receive/room.rs` signs the room's events with.
    pub fn start(
        name: &str,
        listener: TcpListener,
        peers: &BTreeMap<ServerName, String>,
        prepare: impl FnOnce(&dyn Store),
    ) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(
            name.parse().unwrap(),
            dir.path().to_path_buf(),
            super::room::seed_of(name),
        );
        config.peers = peers.clone();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        prepare(store.as_ref());
        let mut node = Node {
            address: listener.local_addr().unwrap(),
            store,
            client: reqwest::Client::new(),
            config,
            stop: None,
            task: None,
            _dir: dir,
        };
        node.serve(listener);
        node
    }

    fn serve(&mut self, listener: TcpListener) {
        let homeserver = Homeserver::new(
            self.config.clone(),
            self.store.clone(),
            Arc::new(SystemClock),
        )
        .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(lostfound_server::serve(
            listener,
            homeserver,
            async {
                let _ = stopped.await;
            },
        )));
    }

    /// Stops the server (its sender included) and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Starts the server again on the same port and data directory, with
    /// a freshly opened store, as after a restart of the process.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.store = Arc::new(SqliteStore::open(&self.config.data_dir).unwrap());
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    /// Registers `username` (m.login.dummy); returns an access token.
    pub async fn register(&self, username: &str) -> String {
        let url = format!("http://{}/_matrix/client/v3/register", self.address);
        let mut body = json!({"username": username, "password": "correct horse"});
        let challenge = self.client.post(&url).json(&body).send().await.unwrap();
        let challenge: Value = challenge.json().await.unwrap();
        body["auth"] = json!({"type": "m.login.dummy", "session": challenge["session"]});
        let registered = self.client.post(&url).json(&body).send().await.unwrap();
        let registered: Value = registered.json().await.unwrap();
        registered["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends a text message through the client API; returns its event ID.
    pub async fn say(&self, token: &str, room_id: &str, txn_id: &str, body: &str) -> EventId {
        let url = format!(
            "http://{}/_matrix/client/v3/rooms/{}/send/m.room.message/{txn_id}",
            self.address,
            lostfound_server::federation::encode(room_id),
        );
        let response = self
            .client
            .put(url)
            .bearer_auth(token)
            .json(&json!({"msgtype": "m.text", "body": body}))
            .send()
            .await
            .unwrap();
        let answer: Value = response.json().await.unwrap();
        answer["event_id"]
            .as_str()
            .expect("an event ID")
            .parse()
            .unwrap()
    }

    /// Whether this server holds `event_id`.
    pub fn holds(&self, event_id: &EventId) -> bool {
        self.store.event(event_id).unwrap().is_some()
    }

    /// How many events are queued for `destination`.
    pub fn queued_for(&self, destination: &str) -> usize {
        let destination: ServerName = destination.parse().unwrap();
        self.store.outgoing(&destination, 1000).unwrap().len()
    }
}

/// The transactions a fake peer received: (txnId, PDUs), in order.
pub type Received = Arc<Mutex<Vec<(String, Vec<Value>)>>>;

/// A peer that answers every `PUT /send/{txnId}` with `200` and records
/// it, without checking anything: what the sender sends, seen raw.
pub fn fake_peer(listener: TcpListener) -> Received {
    let received = Received::default();
    let app = axum::Router::new()
        .route(
            "/_matrix/federation/v1/send/{txn_id}",
            axum::routing::put(record),
        )
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    received
}

async fn record(
    State(received): State<Received>,
    Path(txn_id): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let pdus = body["pdus"].as_array().cloned().unwrap_or_default();
    received.lock().unwrap().push((txn_id, pdus));
    Json(json!({"pdus": {}}))
}

/// Every PDU a fake peer received, in order.
pub fn pdus(received: &Received) -> Vec<Value> {
    let received = received.lock().unwrap();
    received.iter().flat_map(|(_, pdus)| pdus.clone()).collect()
}
