//! [`Homeserver`]: what every request handler shares.

use crate::config::Config;
use crate::error::ApiError;
use crate::federation::Federation;
use crate::federation::directory::Directory;
use lostfound_protocol::ids::ServerName;
use lostfound_protocol::signing::SigningKey;
use lostfound_store::{SqliteStore, Store, StoreError, StreamPosition};
use std::sync::Arc;
use tokio::sync::watch;

/// Where "now" comes from. The real server uses the system clock; the lab
/// substitutes a virtual clock so that `origin_server_ts` (and so event
/// IDs) are the same in every run.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Where the random part of new room IDs comes from. The real server asks
/// the operating system ([`SystemIds`]); the lab substitutes a seeded
/// source so that room IDs, which every event of a room carries (and so
/// its event IDs), are the same in every run. Access tokens, device IDs,
/// media IDs and password salts never appear in events and stay random.
pub trait IdSource: Send + Sync {
    /// Fills `bytes` with random bytes, or says why it cannot.
    fn fill(&self, bytes: &mut [u8]) -> Result<(), String>;
}

/// The operating system's random source (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemIds;

impl IdSource for SystemIds {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), String> {
        getrandom::fill(bytes).map_err(|e| e.to_string())
    }
}

/// One homeserver: its configuration, key, store and clock. Cheap to
/// clone; clones share everything.
#[derive(Clone)]
pub struct Homeserver {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    signing_key: SigningKey,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    /// Talking to other servers: directory, signed client, key ring.
    federation: Federation,
    /// The newest stream position; `/sync` long-polls wait for it to move.
    newest: watch::Sender<StreamPosition>,
    /// Becomes true when the server begins to shut down, so that long
    /// polls answer at once instead of holding the shutdown up.
    stopping: watch::Sender<bool>,
    /// Rung when events are queued in the federation outbox, to wake the
    /// sender (`federation::sender`).
    sender_wakeups: tokio::sync::Notify,
    /// Destinations known to be reachable again, for the sender to retry
    /// at once instead of waiting out their backoff.
    peers_back: std::sync::Mutex<std::collections::BTreeSet<ServerName>>,
    /// Destinations whose delivery worker is waiting out a backoff.
    backing_off: std::sync::Mutex<std::collections::BTreeSet<ServerName>>,
    /// How many times each destination was reported back (see
    /// [`Homeserver::times_back`]).
    times_back: std::sync::Mutex<std::collections::BTreeMap<ServerName, u64>>,
}

impl Homeserver {
    /// Opens (or creates) the SQLite store in the configured data directory.
    pub fn open(config: Config) -> Result<Self, StoreError> {
        let store = SqliteStore::open(&config.data_dir)?;
        Self::new(config, Arc::new(store), Arc::new(SystemClock))
    }

    /// A homeserver over any store and clock, with random room IDs.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        Self::with_ids(config, store, clock, Arc::new(SystemIds))
    }

    /// A homeserver over any store, clock and source of room IDs (the lab
    /// uses this, with a virtual clock and seeded IDs).
    pub fn with_ids(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Result<Self, StoreError> {
        let key_id = "ed25519:1"
            .parse()
            .unwrap_or_else(|e| unreachable!("constant key ID: {e}"));
        let signing_key =
            SigningKey::from_seed(config.server_name.clone(), key_id, config.signing_key_seed);
        let (newest, _) = watch::channel(store.current_position()?);
        let directory = Directory::new(&config.peers);
        let federation = Federation::new(&signing_key, directory, Arc::clone(&clock));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                signing_key,
                store,
                clock,
                ids,
                federation,
                newest,
                stopping: watch::channel(false).0,
                sender_wakeups: tokio::sync::Notify::new(),
                peers_back: Default::default(),
                backing_off: Default::default(),
                times_back: Default::default(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.inner.signing_key
    }

    /// Our side of the federation: signed requests, peers' keys.
    pub fn federation(&self) -> &Federation {
        &self.inner.federation
    }

    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Where new room IDs get their random part.
    pub fn ids(&self) -> &dyn IdSource {
        self.inner.ids.as_ref()
    }

    /// Runs `operation` on the store on a blocking thread: SQLite calls
    /// (and their fsyncs) must not stall the async runtime.
    pub async fn store<T, F>(&self, operation: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.inner.store);
        tokio::task::spawn_blocking(move || operation(store.as_ref()))
            .await
            .map_err(|e| ApiError::unknown(format!("storage task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// Tells waiting `/sync` requests that events up to `position` exist.
    pub fn announce(&self, position: StreamPosition) {
        self.inner.newest.send_if_modified(|newest| {
            let moved = position > *newest;
            if moved {
                *newest = position;
            }
            moved
        });
    }

    /// A receiver that changes whenever new events are persisted.
    pub fn subscribe(&self) -> watch::Receiver<StreamPosition> {
        self.inner.newest.subscribe()
    }

    /// Tells long-running requests that the server is shutting down.
    pub fn begin_shutdown(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Wakes the federation sender: events were queued in the outbox.
    /// Callable from any thread; a wake-up while the sender is busy is
    /// remembered, not lost.
    pub fn wake_sender(&self) {
        self.inner.sender_wakeups.notify_one();
    }

    /// Tells this server that `server` is reachable again (it just sent us
    /// a signed request, or the lab healed a partition): a delivery to it
    /// waiting out its backoff is retried now, and a failed key fetch no
    /// longer holds back the next one. Costs nothing when no delivery to
    /// `server` is backing off.
    pub fn peer_is_back(&self, server: &ServerName) {
        self.federation().key_ring().forget_failure(server);
        *lock(&self.inner.times_back)
            .entry(server.clone())
            .or_default() += 1;
        let backing_off = lock(&self.inner.backing_off).contains(server);
        if backing_off {
            lock(&self.inner.peers_back).insert(server.clone());
            self.wake_sender();
        }
    }

    /// How many times `server` was reported back by [`Self::peer_is_back`]:
    /// a delivery worker compares it across an attempt, so that a report
    /// made between a failure and its backoff is not missed.
    pub fn times_back(&self, server: &ServerName) -> u64 {
        lock(&self.inner.times_back)
            .get(server)
            .copied()
            .unwrap_or(0)
    }

    /// Records whether the delivery worker for `destination` is waiting
    /// out a backoff (see [`Self::peer_is_back`]).
    pub fn set_backing_off(&self, destination: &ServerName, waiting: bool) {
        let mut backing_off = lock(&self.inner.backing_off);
        if waiting {
            backing_off.insert(destination.clone());
        } else {
            backing_off.remove(destination);
        }
    }

    /// The destinations reported by [`Self::peer_is_back`] since the last
    /// call, for the sender.
    pub fn take_peers_back(&self) -> std::collections::BTreeSet<ServerName> {
        std::mem::take(&mut *lock(&self.inner.peers_back))
    }

    /// What the federation sender waits on (see [`Self::wake_sender`]).
    pub fn sender_wakeups(&self) -> &tokio::sync::Notify {
        &self.inner.sender_wakeups
    }

    /// Resolves once [`Self::begin_shutdown`] has been called.
    pub async fn shutting_down(&self) {
        let mut stopping = self.inner.stopping.subscribe();
        // An error means the sender is gone, which also means stopping.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }
}

/// The lock, even if a thread panicked while holding it: these sets hold
/// only complete entries.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
