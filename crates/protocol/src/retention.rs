//! Retention: which events a server deletes under a maximum-age policy,
//! and what a server that lost events could still get back from its peers.
//!
//! Every server in a room keeps its own copy of the room's history, under
//! a retention policy that it sets for itself. Deleting old messages is a
//! privacy feature: words said in a room should not live forever on
//! servers their author has never heard of. It is also the opposite of
//! healing. When `tomesh.net` lost five months of history in 2021, the
//! only copies left were on the other servers in its rooms, so every
//! message a peer had already forgotten was one it could no longer give
//! back. This module makes that trade-off computable:
//!
//! - [`purge`]: what a server deletes, given its policy and the clock;
//! - [`recoverable`]: of the events a server lost, which some peer still
//!   holds (and could send back with `backfill`) and which are gone
//!   everywhere.
//!
//! Both are pure: no store, no clock, no network. The caller says what it
//! holds and what time it is.

use crate::dag;
use crate::ids::{EventId, ServerName};
use crate::pdu::Pdu;
use crate::state::StateMap;
use std::collections::{BTreeMap, BTreeSet};

/// Milliseconds in a day, the unit policies are usually written in.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// How long a server keeps a room's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// An event older than this (by `origin_server_ts`) may be deleted.
    pub max_lifetime_ms: u64,
}

impl RetentionPolicy {
    /// Keep events for `days` days, like Hypha's three months of chat.
    pub fn days(days: u64) -> Self {
        Self {
            max_lifetime_ms: days.saturating_mul(DAY_MS),
        }
    }

    /// Whether an event sent at `origin_server_ts` has outlived the policy
    /// at `now_ms`: strictly older than the maximum lifetime. An event
    /// stamped in the future has age zero.
    pub fn is_expired(&self, origin_server_ts: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(origin_server_ts) > self.max_lifetime_ms
    }
}

/// What a purge does with each event it was given: every distinct event
/// ID is in exactly one of the two sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    pub kept: BTreeSet<EventId>,
    pub purged: BTreeSet<EventId>,
}

/// Decides which of `events` (one room's events, as a server holds them)
/// the server deletes under `policy` at `now_ms`.
///
/// An expired event is purged unless the room cannot do without it:
///
/// - the `m.room.create` event, which every auth chain ends at;
/// - events in `current_state`, the room's state now (the current
///   members, power levels, join rules...): the server checks every new
///   event against them;
/// - forward extremities (see [`dag::forward_extremities`]): the server's
///   next event names them in its `prev_events`, so a quiet room keeps its
///   last message however old it is.
///
/// Superseded state (an old topic, a membership since changed) expires
/// like any message. Events that have not expired are kept.
pub fn purge(
    events: &[Pdu],
    current_state: &StateMap<EventId>,
    policy: &RetentionPolicy,
    now_ms: u64,
) -> Purge {
    let protected = protected_events(events, current_state);
    let mut result = Purge::default();
    for event in events {
        let id = event.event_id().clone();
        if policy.is_expired(event.origin_server_ts(), now_ms) && !protected.contains(&id) {
            result.purged.insert(id);
        } else {
            result.kept.insert(id);
        }
    }
    result
}

/// The events a purge must keep whatever their age.
fn protected_events(events: &[Pdu], current_state: &StateMap<EventId>) -> BTreeSet<EventId> {
    let mut protected: BTreeSet<EventId> = current_state.values().cloned().collect();
    protected.extend(dag::forward_extremities(events));
    protected.extend(
        events
            .iter()
            .filter(|event| event.event_type() == "m.room.create")
            .map(|event| event.event_id().clone()),
    );
    protected
}

/// Which of a server's lost events its peers could give back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recoverability {
    /// Each lost event that at least one peer still holds, with every peer
    /// that holds it (never an empty set).
    pub recoverable: BTreeMap<EventId, BTreeSet<ServerName>>,
    /// Lost events that no peer holds: gone everywhere.
    pub lost: BTreeSet<EventId>,
}

impl Recoverability {
    /// The fraction of `purged_here` that could come back, from 0.0 to 1.0
    /// (1.0 when nothing was lost at all).
    pub fn recovered_fraction(&self) -> f64 {
        let total = self.recoverable.len() + self.lost.len();
        if total == 0 {
            return 1.0;
        }
        self.recoverable.len() as f64 / total as f64
    }
}

/// Splits `purged_here` (events this server no longer has, whether its
/// retention deleted them or a disaster did) into those some peer in
/// `held_by_peers` (each other server and the event IDs it still holds)
/// could send back, and those no peer has.
///
/// Events that peers hold but that were not lost here are not mentioned.
pub fn recoverable(
    purged_here: &BTreeSet<EventId>,
    held_by_peers: &BTreeMap<ServerName, BTreeSet<EventId>>,
) -> Recoverability {
    let mut result = Recoverability::default();
    for event_id in purged_here {
        let holders: BTreeSet<ServerName> = held_by_peers
            .iter()
            .filter(|(_, held)| held.contains(event_id))
            .map(|(server, _)| server.clone())
            .collect();
        if holders.is_empty() {
            result.lost.insert(event_id.clone());
        } else {
            result.recoverable.insert(event_id.clone(), holders);
        }
    }
    result
}

#[cfg(test)]
mod tests;
