//! Publishing our key, and remembering our peers' keys.
//!
//! `GET /_matrix/key/v2/server` answers with our self-signed key document
//! (<https://spec.matrix.org/v1.16/server-server-api/#publishing-keys>),
//! valid for 24 hours: long enough that peers do not ask on every request,
//! short enough that a rotated key is noticed within a day.
//!
//! The [`KeyRing`] is the other side: the keys of peers, fetched from their
//! own `/_matrix/key/v2/server` through the directory, checked (self-signed,
//! right name, not expired) and kept in memory until their `valid_until_ts`.
//! A restart forgets them; they are fetched again on first use.
//! A key ID the cache lacks triggers a fresh fetch (the peer may have
//! rotated its key), but at most once per [`REFETCH_INTERVAL_MS`] per
//! server: key IDs come from whoever writes the request or event, and must
//! not let them make us fetch at will. A peer's announced validity is
//! capped at a week ([`lostfound_protocol::server_keys::MAX_KEY_VALIDITY_MS`]).
//!
//! Not implemented: notary servers and `/_matrix/key/v2/query`, through
//! which real servers ask a third party for keys of a server that is
//! offline (or that they cannot reach directly). Here, a peer that is down
//! cannot have its signatures checked until it is back: in the lab that
//! is part of what a partition means.

use super::FederationError;
use super::client::FederationClient;
use crate::error::ApiError;
use crate::state::Homeserver;
use axum::Json;
use axum::extract::State;
use lostfound_protocol::ids::{KeyId, ServerName};
use lostfound_protocol::server_keys::{ServerKeys, signed_key_document};
use lostfound_protocol::signing::{SigningKey, VerifyKey};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long others may cache our key document.
pub const KEY_VALIDITY_MS: u64 = 24 * 60 * 60 * 1000;

/// The path of the key document.
pub const SERVER_KEYS_PATH: &str = "/_matrix/key/v2/server";

/// `GET /_matrix/key/v2/server` (and the deprecated
/// `/_matrix/key/v2/server/{keyId}`, which answers the same document):
/// our keys, signed by themselves. No authentication, by design.
pub async fn get_server_keys(
    State(homeserver): State<Homeserver>,
) -> Result<Json<Value>, ApiError> {
    let valid_until_ts = homeserver.now_ms().saturating_add(KEY_VALIDITY_MS);
    let document = signed_key_document(homeserver.signing_key(), valid_until_ts)
        .map_err(|e| ApiError::unknown(format!("cannot sign our key document: {e}")))?;
    Ok(Json(Value::Object(document)))
}

/// The least time between two fetches of one server's key document:
/// [`REFETCH_INTERVAL`] in milliseconds.
///
/// A key ID we do not know may mean the peer rotated its key, so it is
/// worth one fetch; but key IDs are chosen by whoever sends us a request
/// or an event. Without this limit, an event carrying ten made-up key IDs
/// cost ten fetches, and anyone who can reach us could make us hammer any
/// server in our directory by sending requests with `origin=` that server
/// and a random `key=`. With it, a server's document is fetched at most
/// once a minute: a key ID missing from a fresh document is simply unknown
/// until the next allowed fetch. Failed fetches count too, so a peer that
/// is down is not asked again on every request either.
///
/// Measured on the machine's monotonic clock, not the homeserver's
/// [`Clock`](crate::state::Clock): the limit protects real networks in
/// real time, and the lab's virtual clock may stand still (a failed fetch
/// would then block fetching that server forever) or jump.
pub const REFETCH_INTERVAL_MS: u64 = 60 * 1000;
/// [`REFETCH_INTERVAL_MS`] as a [`Duration`].
pub const REFETCH_INTERVAL: Duration = Duration::from_millis(REFETCH_INTERVAL_MS);

/// What the key ring remembers, under one lock.
#[derive(Debug, Default)]
struct Cache {
    /// Checked key documents, by server.
    keys: BTreeMap<ServerName, ServerKeys>,
    /// When we last tried to fetch each server's document.
    last_fetch: BTreeMap<ServerName, Instant>,
    /// Servers whose last fetch failed (they may be down).
    failed: BTreeSet<ServerName>,
    /// When (on the homeserver's clock) each held document was fetched.
    fetched_at_ms: BTreeMap<ServerName, u64>,
    /// One async lock per server, held while its document is fetched, so
    /// that concurrent verifications wait for one fetch instead of each
    /// starting its own (or finding the rate limit and failing).
    fetching: BTreeMap<ServerName, Arc<tokio::sync::Mutex<()>>>,
}

/// Our peers' keys, fetched on demand and cached until they expire.
#[derive(Debug)]
pub struct KeyRing {
    own: ServerKeys,
    cache: Mutex<Cache>,
    /// How many key documents we have tried to fetch, for tests and logs.
    fetches: AtomicU64,
}

impl KeyRing {
    /// A key ring that knows our own key without asking anyone.
    pub fn new(own_key: &SigningKey) -> Self {
        let own = ServerKeys {
            server_name: own_key.server_name(),
            verify_keys: BTreeMap::from([(own_key.key_id().clone(), own_key.verify_key())]),
            old_verify_keys: BTreeMap::new(),
            valid_until_ts: u64::MAX,
        };
        Self {
            own,
            cache: Mutex::new(Cache::default()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times this key ring has tried to fetch a key document.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key that must have signed a *request* from `server`.
    pub async fn request_key(
        &self,
        client: &FederationClient,
        server: &ServerName,
        key_id: &KeyId,
        now_ms: u64,
    ) -> Result<VerifyKey, FederationError> {
        let keys = self
            .keys(client, server, now_ms, |keys| {
                keys.request_key(key_id).is_some()
            })
            .await?;
        keys.request_key(key_id)
            .cloned()
            .ok_or_else(|| unknown(server, key_id.as_str()))
    }

    /// The key that must have signed an *event* from `server` at
    /// `origin_server_ts` (old, retired keys count for older events).
    pub async fn event_key(
        &self,
        client: &FederationClient,
        server: &ServerName,
        key_id: &KeyId,
        origin_server_ts: u64,
        now_ms: u64,
    ) -> Result<VerifyKey, FederationError> {
        let keys = self
            .keys(client, server, now_ms, |keys| {
                keys.event_key(key_id, origin_server_ts).is_some()
            })
            .await?;
        keys.event_key(key_id, origin_server_ts)
            .cloned()
            .ok_or_else(|| unknown(server, key_id.as_str()))
    }

    /// `server`'s key document: the cached one if it is valid and
    /// `enough` says it holds what the caller needs; else a fresh one,
    /// unless we fetched (or tried to) less than [`REFETCH_INTERVAL_MS`]
    /// ago, in which case the cached document is all there is (the caller
    /// then finds its key missing), or [`FederationError::UnknownKey`] if
    /// there is none.
    ///
    /// A caller fetches at most once: whatever one call returns is what
    /// the caller checks every key ID against.
    pub async fn keys(
        &self,
        client: &FederationClient,
        server: &ServerName,
        now_ms: u64,
        enough: impl Fn(&ServerKeys) -> bool,
    ) -> Result<ServerKeys, FederationError> {
        if *server == self.own.server_name {
            return Ok(self.own.clone());
        }
        if let Some(keys) = self.cached(server, now_ms).filter(|keys| enough(keys)) {
            return Ok(keys);
        }
        let fetching = Arc::clone(self.lock().fetching.entry(server.clone()).or_default());
        let _fetching = fetching.lock().await;
        // Another task may have fetched while we waited.
        let cached = self.cached(server, now_ms);
        if let Some(keys) = cached.as_ref().filter(|keys| enough(keys)) {
            return Ok(keys.clone());
        }
        let started = Instant::now();
        if !self.may_fetch(server, now_ms, started) {
            return cached.ok_or_else(|| unknown(server, "(none: refetch rate-limited)"));
        }
        self.lock().last_fetch.insert(server.clone(), started);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch(client, server, now_ms).await;
        let mut cache = self.lock();
        match fetched {
            Ok(keys) => {
                cache.failed.remove(server);
                cache.fetched_at_ms.insert(server.clone(), now_ms);
                cache.keys.insert(server.clone(), keys.clone());
                Ok(keys)
            }
            // A name outside our directory is answered without a request;
            // remembering it would let any sender of made-up origins grow
            // these maps without bound.
            Err(error @ FederationError::UnknownServer(_)) => {
                cache.last_fetch.remove(server);
                cache.fetching.remove(server);
                Err(error)
            }
            Err(error) => {
                cache.failed.insert(server.clone());
                Err(error)
            }
        }
    }

    /// Whether we may fetch `server`'s keys at `now` (`now_ms` on the
    /// homeserver's clock). The one-a-minute limit applies unless the
    /// document we hold has expired after being valid for at least that
    /// minute: then a fetch is due, not wasted, and waiting would leave a
    /// healthy peer unverifiable (the lab's clock jumps days between
    /// steps). Everything else stays limited: a valid document (a key ID
    /// missing from it is someone's invention, or a rotation the next
    /// allowed fetch will find), a failed last fetch (the server may be
    /// down), and a document that claimed to be valid for less than the
    /// interval (a peer could otherwise make us fetch on every request).
    fn may_fetch(&self, server: &ServerName, now_ms: u64, now: Instant) -> bool {
        let cache = self.lock();
        let due = !cache.failed.contains(server)
            && cache
                .keys
                .get(server)
                .zip(cache.fetched_at_ms.get(server))
                .is_some_and(|(keys, fetched_at)| {
                    keys.valid_until_ts <= now_ms
                        && keys.valid_until_ts.saturating_sub(*fetched_at) >= REFETCH_INTERVAL_MS
                });
        match cache.last_fetch.get(server) {
            Some(&last) if !due => now.saturating_duration_since(last) >= REFETCH_INTERVAL,
            _ => true,
        }
    }

    /// Forgets that fetching `server`'s keys failed, and when we last
    /// tried: it is known to be up again, so the next fetch need not wait
    /// out the interval.
    pub fn forget_failure(&self, server: &ServerName) {
        let mut cache = self.lock();
        if cache.failed.remove(server) {
            cache.last_fetch.remove(server);
        }
    }

    fn cached(&self, server: &ServerName, now_ms: u64) -> Option<ServerKeys> {
        self.lock()
            .keys
            .get(server)
            .filter(|keys| keys.valid_until_ts > now_ms)
            .cloned()
    }

    /// The cache stays usable even if a thread panicked while holding it:
    /// it only ever holds complete entries.
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn unknown(server: &ServerName, key_id: &str) -> FederationError {
    FederationError::UnknownKey {
        server: server.clone(),
        key_id: key_id.to_owned(),
    }
}

/// Fetches and checks `server`'s key document from the server itself.
async fn fetch(
    client: &FederationClient,
    server: &ServerName,
    now_ms: u64,
) -> Result<ServerKeys, FederationError> {
    let document = client.get_unsigned(server, SERVER_KEYS_PATH).await?;
    ServerKeys::from_document(&document, server, now_ms).map_err(|e| FederationError::BadResponse {
        server: server.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_may_be_fetched_again_only_after_the_interval() {
        let key = SigningKey::from_seed(
            "b.lab".parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [1; 32],
        );
        let ring = KeyRing::new(&key);
        let a: ServerName = "a.lab".parse().unwrap();
        let now = Instant::now();
        let day = 24 * 3600 * 1000;
        assert!(ring.may_fetch(&a, 0, now), "never fetched");
        ring.lock().last_fetch.insert(a.clone(), now);
        let document = |valid_until_ts| ServerKeys {
            server_name: a.clone(),
            verify_keys: BTreeMap::new(),
            old_verify_keys: BTreeMap::new(),
            valid_until_ts,
        };
        ring.lock().keys.insert(a.clone(), document(day));
        ring.lock().fetched_at_ms.insert(a.clone(), 0);
        // Holding a valid document: a refetch waits for the interval.
        assert!(!ring.may_fetch(&a, 1, now));
        assert!(!ring.may_fetch(&a, 1, now + REFETCH_INTERVAL / 2));
        assert!(ring.may_fetch(&a, 1, now + REFETCH_INTERVAL));
        // It expired after a day of validity: due at once.
        assert!(ring.may_fetch(&a, 2 * day, now));
        // A document valid for a millisecond earns no such exemption.
        ring.lock().keys.insert(a.clone(), document(1));
        assert!(!ring.may_fetch(&a, 2, now));
        // The last fetch failed: the peer may be down, wait.
        ring.lock().keys.insert(a.clone(), document(day));
        ring.lock().failed.insert(a.clone());
        assert!(!ring.may_fetch(&a, 2 * day, now));
        assert!(ring.may_fetch(&a, 2 * day, now + REFETCH_INTERVAL));
        let other: ServerName = "c.lab".parse().unwrap();
        assert!(ring.may_fetch(&other, 1, now), "the limit is per server");
    }

    /// Made-up origin names (outside our directory) leave no trace: a
    /// sender of random `origin=` values cannot grow the key ring.
    #[tokio::test]
    async fn names_outside_the_directory_are_not_remembered() {
        let key = SigningKey::from_seed(
            "b.lab".parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [1; 32],
        );
        let client =
            FederationClient::new(key.clone(), super::super::directory::Directory::default());
        let ring = KeyRing::new(&key);
        for n in 0..50 {
            let server: ServerName = format!("made-up-{n}.example").parse().unwrap();
            let result = ring.keys(&client, &server, 0, |_| true).await;
            assert!(
                matches!(result, Err(FederationError::UnknownServer(_))),
                "{result:?}"
            );
        }
        let cache = ring.lock();
        assert!(
            cache.last_fetch.is_empty() && cache.failed.is_empty() && cache.fetching.is_empty()
        );
    }
}
