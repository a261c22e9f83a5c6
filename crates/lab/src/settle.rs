//! Settling: waiting until the federation has nothing left to do.
//!
//! After a step of a scenario (alice sends, bob joins), events are still
//! on their way: queued in an outbox, in a transaction in flight, being
//! persisted by the receiver. A scenario that read the servers' state
//! right away would see a different picture depending on how fast the
//! machine is. So between steps the lab *settles*: it polls every running
//! server until
//!
//! - no outbox holds an event for a running server (an event owed to a
//!   stopped server cannot be delivered until it is back: that is the
//!   partition, not unfinished business), and
//! - no server persisted anything since the previous poll.
//!
//! Outbox entries leave the queue only once the receiver has answered
//! `200`, after persisting, so an empty outbox means delivered. Settling
//! is bounded: a lab that never goes quiet is reported as an error that
//! names the busy servers, rather than hanging the test.

use crate::error::LabError;
use crate::node::Node;
use lostfound_protocol::ids::ServerName;
use lostfound_store::{SqliteStore, Store, StreamPosition};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// How often `settle` looks.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// What one poll saw of one running server.
#[derive(Debug, PartialEq, Eq)]
struct Look {
    position: StreamPosition,
    owes_a_running_server: bool,
}

/// One poll of every running server, by name.
async fn look(
    nodes: &BTreeMap<String, Node>,
    reachable: &BTreeSet<String>,
) -> Result<BTreeMap<String, Look>, LabError> {
    let running: BTreeSet<ServerName> = nodes
        .values()
        .filter(|node| reachable.contains(&node.config.server_name.to_string()))
        .map(|node| node.config.server_name.clone())
        .collect();
    let mut looks = BTreeMap::new();
    for (name, node) in nodes {
        let Some(run) = &node.running else { continue };
        // A server cut off by a partition owes nothing it could deliver.
        let running = if reachable.contains(name) {
            running.clone()
        } else {
            BTreeSet::new()
        };
        let store = Arc::clone(&run.store);
        let seen = tokio::task::spawn_blocking(move || look_at(&store, &running))
            .await
            .map_err(|e| LabError::Stopped {
                server: name.clone(),
                message: e.to_string(),
            })?
            .map_err(|source| LabError::Store {
                server: name.clone(),
                source,
            })?;
        looks.insert(name.clone(), seen);
    }
    Ok(looks)
}

fn look_at(
    store: &SqliteStore,
    running: &BTreeSet<ServerName>,
) -> Result<Look, lostfound_store::StoreError> {
    let mut owes_a_running_server = false;
    for destination in store.outgoing_destinations()? {
        if running.contains(&destination) && !store.outgoing(&destination, 1)?.is_empty() {
            owes_a_running_server = true;
        }
    }
    Ok(Look {
        position: store.current_position()?,
        owes_a_running_server,
    })
}

/// Polls until two consecutive looks agree and nobody owes anybody, or
/// `patience` runs out.
pub(crate) async fn settle(
    nodes: &BTreeMap<String, Node>,
    reachable: &BTreeSet<String>,
    patience: Duration,
) -> Result<(), LabError> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut previous = look(nodes, reachable).await?;
    loop {
        tokio::time::sleep(POLL_INTERVAL).await;
        let current = look(nodes, reachable).await?;
        let busy: Vec<String> = current
            .iter()
            .filter(|(name, now)| now.owes_a_running_server || previous.get(*name) != Some(*now))
            .map(|(name, _)| name.clone())
            .collect();
        if busy.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LabError::Unsettled { patience, busy });
        }
        previous = current;
    }
}
