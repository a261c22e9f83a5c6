//! The background task that empties the outbox.
//!
//! One *supervisor* per homeserver lists the destinations with queued
//! events, at start (so a restarted server resumes what it owed) and each
//! time [`Homeserver::wake_sender`] says something was queued. It gives
//! every destination its own *worker*, so that one server's outage never
//! holds up the others: a worker waiting out a dead peer's backoff blocks
//! nobody but itself.
//!
//! A worker sends the oldest queued events, at most
//! [`MAX_PDUS_PER_TRANSACTION`] at a time, as one transaction, and removes
//! them from the queue once the peer answers `200`, whatever it thought of
//! each PDU: a PDU it rejected will not become acceptable by being sent
//! again, and resending it forever would block everything behind it. A
//! failed transaction (the peer is down, times out, or answers an error
//! status) is retried after a pause that doubles each time, from
//! [`INITIAL_BACKOFF`] up to [`MAX_BACKOFF`]: quick to notice a peer that
//! restarted, gentle with one that is down for the night.

use crate::federation::{FederationError, encode};
use crate::state::Homeserver;
use lostfound_protocol::ids::ServerName;
use lostfound_store::OutboxEntry;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// The spec's limit on PDUs in one transaction.
pub const MAX_PDUS_PER_TRANSACTION: usize = 50;
/// The first pause after a failed transaction.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// The longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Starts the sender of `homeserver`; it stops when the homeserver begins
/// to shut down ([`Homeserver::shutting_down`]).
pub fn spawn_sender(homeserver: Homeserver) -> JoinHandle<()> {
    tokio::spawn(supervise(homeserver))
}

/// Why one transaction was not delivered.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("the store failed: {0}")]
    Store(String),
    #[error(transparent)]
    Federation(#[from] FederationError),
}

async fn supervise(homeserver: Homeserver) {
    let mut workers: HashMap<ServerName, Wakeups> = HashMap::new();
    let mut tasks = JoinSet::new();
    loop {
        for destination in homeserver.take_peers_back() {
            if let Some(worker) = workers.get(&destination) {
                worker.retry.notify_one();
            }
        }
        let listed = homeserver
            .store(|store| store.outgoing_destinations())
            .await;
        let pause = match listed {
            Ok(destinations) => {
                for destination in destinations {
                    let worker = workers.entry(destination.clone()).or_insert_with(|| {
                        let wakeups = Wakeups::default();
                        let worker = deliver_to(homeserver.clone(), destination, wakeups.clone());
                        tasks.spawn(worker);
                        wakeups
                    });
                    // Stores a permit if the worker is busy: it looks
                    // again once done, so nothing queued is overlooked.
                    worker.queued.notify_one();
                }
                None
            }
            Err(error) => {
                tracing::error!(
                    "federation sender: cannot list destinations: {}",
                    error.message
                );
                Some(INITIAL_BACKOFF)
            }
        };
        tokio::select! {
            () = homeserver.sender_wakeups().notified() => {}
            () = sleep_or_forever(pause) => {}
            () = homeserver.shutting_down() => break,
        }
    }
    // Workers watch for shutdown themselves; wait for them to finish.
    while tasks.join_next().await.is_some() {}
}

async fn sleep_or_forever(pause: Option<Duration>) {
    match pause {
        Some(pause) => tokio::time::sleep(pause).await,
        None => std::future::pending().await,
    }
}

/// The two reasons a destination's worker wakes up.
#[derive(Clone, Default)]
struct Wakeups {
    /// Something new was queued for the destination.
    queued: Arc<Notify>,
    /// The destination is known to be up again: cut the backoff short.
    retry: Arc<Notify>,
}

/// Delivers everything queued for `destination`, then waits for a wake-up.
async fn deliver_to(homeserver: Homeserver, destination: ServerName, wakeups: Wakeups) {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let announced = homeserver.times_back(&destination);
        let attempt = tokio::select! {
            attempt = send_transaction(&homeserver, &destination) => attempt,
            () = homeserver.shutting_down() => return,
        };
        match attempt {
            Ok(0) => {
                tokio::select! {
                    () = wakeups.queued.notified() => {}
                    () = homeserver.shutting_down() => return,
                }
            }
            Ok(_) => backoff = INITIAL_BACKOFF,
            Err(error) => {
                tracing::warn!(
                    "federation sender: delivery to {destination} failed, retrying in {:.1}s: {error}",
                    backoff.as_secs_f64()
                );
                homeserver.set_backing_off(&destination, true);
                // Back since this attempt began (announced before we were
                // marked as backing off, so no wake-up came): wait the
                // shortest backoff only.
                if homeserver.times_back(&destination) != announced {
                    backoff = INITIAL_BACKOFF;
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(MAX_BACKOFF),
                    () = wakeups.retry.notified() => backoff = INITIAL_BACKOFF,
                    () = homeserver.shutting_down() => return,
                }
                homeserver.set_backing_off(&destination, false);
            }
        }
    }
}

/// Sends the oldest queued events for `destination` as one transaction and
/// removes them from the queue once delivered; returns how many were
/// queued (0: nothing to do).
async fn send_transaction(
    homeserver: &Homeserver,
    destination: &ServerName,
) -> Result<usize, DeliveryError> {
    let queued = destination.clone();
    let (entries, pdus) = homeserver
        .store(move |store| {
            let entries = store.outgoing(&queued, MAX_PDUS_PER_TRANSACTION)?;
            let mut pdus = Vec::with_capacity(entries.len());
            for entry in &entries {
                // The outbox refers to stored events, so each is there;
                // one that is not cannot be sent, and is dropped with the
                // rest of the transaction once it is acknowledged.
                if let Some(stored) = store.event(&entry.event_id)? {
                    pdus.push(Value::Object(stored.event.json().clone()));
                }
            }
            Ok((entries, pdus))
        })
        .await
        .map_err(|error| DeliveryError::Store(error.message))?;
    let Some(last) = entries.last() else {
        return Ok(0);
    };
    let txn_id = transaction_id(&entries);
    let body = json!({
        "origin": homeserver.config().server_name,
        "origin_server_ts": homeserver.now_ms(),
        "pdus": pdus,
    });
    let path = format!("/_matrix/federation/v1/send/{}", encode(&txn_id));
    let answer = homeserver
        .federation()
        .client()
        .put_json(destination, &path, &body)
        .await?;
    tracing::info!(
        "federation sender: PUT /send/{txn_id} to {destination}: {} PDUs delivered",
        pdus.len()
    );
    log_refused_pdus(destination, &answer);
    let (acknowledged, up_to) = (destination.clone(), last.id);
    homeserver
        .store(move |store| store.acknowledge_outgoing(&acknowledged, up_to))
        .await
        .map_err(|error| DeliveryError::Store(error.message))?;
    Ok(entries.len())
}

/// A transaction ID for a batch of outbox entries: unique, because outbox
/// IDs only grow, and stable, because a retried batch starts and ends at
/// the same entries (unless more were queued meanwhile, which makes it a
/// new transaction). The end of the last event ID guards against IDs
/// reused after a database was restored from a backup.
pub fn transaction_id(entries: &[OutboxEntry]) -> String {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return "empty".to_owned();
    };
    let tag: String = last
        .event_id
        .as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!("{}-{}-{tag}", first.id, last.id)
}

/// The peer accepted the transaction but may have refused some of its
/// PDUs: say which, and why, once. They are not resent.
fn log_refused_pdus(destination: &ServerName, answer: &Value) {
    let Some(results) = answer.get("pdus").and_then(Value::as_object) else {
        return;
    };
    for (event_id, result) in results {
        if let Some(error) = result.get("error") {
            tracing::warn!("federation sender: {destination} refused {event_id}: {error}");
        }
    }
}
