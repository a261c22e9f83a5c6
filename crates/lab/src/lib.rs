//! The lab: many Lost & Found homeservers in one process, on ephemeral
//! `127.0.0.1` ports, that replay the same story the same way every time.
//!
//! ```
//! use lostfound_lab::{Lab, LabError};
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), LabError> {
//! let mut lab = Lab::new(2021).server("tomesh.lab").server("hypha.lab");
//! lab.start().await?;
//! let alice = lab.register("tomesh.lab", "alice").await?;
//! let bob = lab.register("hypha.lab", "bob").await?;
//!
//! let room = alice.create_public_room("garden").await?;
//! bob.join(&room, "tomesh.lab").await?;
//! alice.send_text(&room, "the backup is from January").await?;
//! lab.settle().await?; // every outbox empty, every server idle
//!
//! assert_eq!(bob.texts(&room).await?, ["the backup is from January"]);
//! lab.restart("hypha.lab").await?; // same port, same data directory
//! assert_eq!(bob.texts(&room).await?, ["the backup is from January"]);
//! # Ok(())
//! # }
//! ```
//!
//! **Why the same every time.** An event ID is a hash of the whole event:
//! its room ID, its timestamp, its `prev_events`, its signatures. The lab
//! fixes each of them. Room IDs and signing keys are derived from one
//! seed and the server's name ([`seeds`]); every server reads the time
//! from one [`VirtualClock`] that moves only when told; and
//! [`Lab::settle`] waits between steps until the federation is quiet, so
//! that each event is built on the same `prev_events` whatever the speed
//! of the machine.
//!
//! | module | what it is for |
//! |---|---|
//! | [`clock`] | [`VirtualClock`]: the lab's shared "now" |
//! | [`seeds`] | signing keys and room IDs derived from the seed: [`SeededIds`] |
//! | [`node`] | one homeserver: port, data directory, start, stop |
//! | [`settle`](mod@settle) | waiting until no outbox owes a running server and nothing new was persisted |
//! | [`client`] | [`User`]: a user driven over the real client-server API |
//! | [`error`] | [`LabError`] |
//! | [`hooks`] | servers running exercise hooks (a student's code) in place of parts of federation |
//! | [`live`] | the stories live exercises run: a server restored from a backup, a fork |
//!
//! **Simplification.** Servers find each other through the lab's
//! directory (name → `127.0.0.1:port`, in every server's `config.peers`),
//! over plain HTTP: no DNS, no TLS, no `.well-known`.

pub mod chaos;
pub mod client;
pub mod clock;
pub mod error;
pub mod hooks;
pub mod live;
pub mod network;
pub mod node;
pub mod scenario;
pub mod seeds;
pub mod settle;

pub use chaos::{Backup, Cleanup, Quota};
pub use client::User;
pub use clock::VirtualClock;
pub use error::LabError;
pub use hooks::Hooks;
pub use seeds::SeededIds;

use lostfound_protocol::ids::ServerName;
use lostfound_server::Config;
use lostfound_store::SqliteStore;
use network::Network;
use node::Node;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long [`Lab::settle`] waits by default: longer than the federation
/// sender's longest backoff (60 s) after a peer comes back, far shorter
/// than a hung test.
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(90);

/// Many homeservers, one seed, one clock.
pub struct Lab {
    seed: u64,
    clock: Arc<VirtualClock>,
    patience: Duration,
    /// Names in the order they were added, before [`Lab::start`].
    planned: Vec<String>,
    /// Exercise hooks of the servers that have some (see [`hooks`]).
    hooks: BTreeMap<String, Hooks>,
    nodes: BTreeMap<String, Node>,
    /// The relays between servers (see [`network`]), once started.
    pub(crate) network: Option<Network>,
    /// The backups taken, per server, oldest first.
    backups: BTreeMap<String, Vec<Backup>>,
    /// Every server's data directory lives in here: `<dir>/<name>`.
    dir: tempfile::TempDir,
}

impl Lab {
    /// An empty lab whose every random choice derives from `seed`, with a
    /// clock at 2021-01-01T00:00:00Z.
    ///
    /// # Panics
    /// If no temporary directory can be created.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            clock: Arc::new(VirtualClock::default()),
            patience: DEFAULT_PATIENCE,
            planned: Vec::new(),
            hooks: BTreeMap::new(),
            nodes: BTreeMap::new(),
            network: None,
            backups: BTreeMap::new(),
            dir: tempfile::tempdir().expect("a temporary directory for the lab"),
        }
    }

    /// Adds a homeserver named `name` (started by [`Lab::start`]).
    pub fn server(mut self, name: &str) -> Self {
        self.planned.push(name.to_owned());
        self
    }

    /// How long [`Lab::settle`] may take before it gives up.
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Starts every server. All listeners are bound first, so that every
    /// server's directory knows every address before any server starts.
    pub async fn start(&mut self) -> Result<(), LabError> {
        if !self.nodes.is_empty() {
            return Err(LabError::AlreadyStarted);
        }
        let mut bound: Vec<(ServerName, TcpListener)> = Vec::new();
        for name in &self.planned {
            let server: ServerName = name
                .parse()
                .map_err(|e| LabError::BadServerName(name.clone(), format!("{e}")))?;
            if bound.iter().any(|(other, _)| other == &server) {
                return Err(LabError::DuplicateServer(name.clone()));
            }
            let listener =
                TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|source| LabError::Listen {
                        server: name.clone(),
                        source,
                    })?;
            bound.push((server, listener));
        }
        let mut directory = BTreeMap::new();
        for (server, listener) in &bound {
            let address = listener.local_addr().map_err(|source| LabError::Listen {
                server: server.to_string(),
                source,
            })?;
            directory.insert(server.clone(), address);
        }
        let addresses = directory
            .iter()
            .map(|(server, address)| (server.to_string(), *address))
            .collect();
        let (network, mut directories) = Network::wire(&addresses).await?;
        self.network = Some(network);
        for (server, listener) in bound {
            let name = server.to_string();
            let key_seed = seeds::signing_key_seed(self.seed, &name);
            let mut config = Config::new(server.clone(), self.dir.path().join(&name), key_seed);
            config.peers = peers_of(directories.remove(&name).unwrap_or_default());
            config.hooks = self.hooks.get(&name).cloned().unwrap_or_default();
            let ids = SeededIds::new(self.seed, &name);
            let mut node = Node::new(config, directory[&server], ids);
            node.start(listener, self.clock.clone())?;
            self.nodes.insert(name, node);
        }
        Ok(())
    }

    /// The lab's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The clock every server reads.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// Moves the lab's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The servers' names, in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    fn node(&self, name: &str) -> Result<&Node, LabError> {
        self.nodes
            .get(name)
            .ok_or_else(|| LabError::UnknownServer(name.to_owned()))
    }

    pub(crate) fn node_mut(&mut self, name: &str) -> Result<&mut Node, LabError> {
        self.nodes
            .get_mut(name)
            .ok_or_else(|| LabError::UnknownServer(name.to_owned()))
    }

    /// Where clients reach `name`: `http://127.0.0.1:PORT`.
    pub fn base_url(&self, name: &str) -> Result<String, LabError> {
        Ok(format!("http://{}", self.node(name)?.address))
    }

    /// The data directory of `name` (its database and media).
    pub fn data_dir(&self, name: &str) -> Result<&Path, LabError> {
        Ok(&self.node(name)?.config.data_dir)
    }

    /// The store of a running server, for inspecting what it holds.
    pub fn store(&self, name: &str) -> Result<Arc<SqliteStore>, LabError> {
        let running = self.node(name)?.running.as_ref();
        let running = running.ok_or_else(|| LabError::NotRunning(name.to_owned()))?;
        Ok(Arc::clone(&running.store))
    }

    pub fn is_running(&self, name: &str) -> bool {
        self.nodes
            .get(name)
            .is_some_and(|node| node.running.is_some())
    }

    /// Stops `name` and its federation sender; its data stays on disk.
    pub async fn stop(&mut self, name: &str) -> Result<(), LabError> {
        self.node_mut(name)?.stop().await
    }

    /// Stops `name` if it runs, then starts it again on the same port and
    /// data directory, with its store opened afresh from disk.
    pub async fn restart(&mut self, name: &str) -> Result<(), LabError> {
        self.node_mut(name)?.stop().await?;
        self.start_server(name).await
    }

    /// Starts the stopped server `name` on its port and data directory. A
    /// store that refuses its database (an unfinished copy, a damaged file)
    /// is [`LabError::Store`], and the server stays stopped. Running peers
    /// are told it is back, so that they retry their deliveries now rather
    /// than at the end of their backoff.
    pub async fn start_server(&mut self, name: &str) -> Result<(), LabError> {
        let clock = self.clock.clone();
        let node = self.node_mut(name)?;
        if node.running.is_some() {
            return Ok(());
        }
        node.start_again(clock).await?;
        self.announce_back(name);
        Ok(())
    }

    /// Cuts `name` off from every other server; it keeps running.
    pub fn partition(&self, name: &str) -> Result<(), LabError> {
        self.node(name)?;
        if let Some(network) = &self.network {
            network.partition(name);
        }
        Ok(())
    }

    /// Reconnects `name` to the others (see [`Lab::partition`]).
    pub fn heal(&self, name: &str) -> Result<(), LabError> {
        self.node(name)?;
        if self
            .network
            .as_ref()
            .is_some_and(|network| network.heal(name))
        {
            self.announce_back(name);
        }
        Ok(())
    }

    /// Whether `name` can reach the others: running and not cut off.
    pub fn is_reachable(&self, name: &str) -> bool {
        self.is_running(name)
            && !self
                .network
                .as_ref()
                .is_some_and(|network| network.is_cut_off(name))
    }

    /// Tells every running server that `name` is reachable again, and
    /// `name` that they are: each retries its deliveries at once.
    fn announce_back(&self, name: &str) {
        let Ok(back) = name.parse::<ServerName>() else {
            return;
        };
        for (other, node) in &self.nodes {
            let Some(running) = &node.running else {
                continue;
            };
            if other == name {
                for peer in self.nodes.values() {
                    running.homeserver.peer_is_back(&peer.config.server_name);
                }
            } else {
                running.homeserver.peer_is_back(&back);
            }
        }
    }

    /// Waits until every outbox is empty (of events for running servers)
    /// and no server persisted anything since the previous look; see
    /// [`settle`](mod@settle).
    pub async fn settle(&self) -> Result<(), LabError> {
        let reachable: std::collections::BTreeSet<String> = self
            .names()
            .filter(|name| self.is_reachable(name))
            .map(str::to_owned)
            .collect();
        settle::settle(&self.nodes, &reachable, self.patience).await
    }

    /// Registers `username` on the server `name`.
    pub async fn register(&self, name: &str, username: &str) -> Result<User, LabError> {
        if !self.is_running(name) {
            return Err(LabError::NotRunning(name.to_owned()));
        }
        client::register(&self.base_url(name)?, username).await
    }
}

/// A server's directory as its configuration takes it.
fn peers_of(directory: BTreeMap<String, std::net::SocketAddr>) -> BTreeMap<ServerName, String> {
    directory
        .into_iter()
        .filter_map(|(name, address)| Some((name.parse().ok()?, address.to_string())))
        .collect()
}
