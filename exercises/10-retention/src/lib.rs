//! Exercise 10: retention versus healing.
//!
//! Every server in a room keeps its own copy of the room's history, under
//! a retention policy it sets for itself, and deletes what is older. That
//! protects privacy. It also decides what can heal: when a server loses
//! its history, the only copies left are its peers', and a peer cannot give
//! back what it has already forgotten. Read
//! `exercises/10-retention/README.md` first.
//!
//! The data types come from the workbench (`lostfound_protocol::retention`)
//! and are re-exported here; you write the two functions.

use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use std::collections::{BTreeMap, BTreeSet};

pub use lostfound_protocol::retention::{DAY_MS, Purge, Recoverability, RetentionPolicy};

/// Decides which of `events` (one room's events, as one server holds them)
/// the server deletes under `policy` at time `now_ms`.
///
/// **Expired**: an event is expired when it is *strictly* older than
/// `policy.max_lifetime_ms`, by its `origin_server_ts`:
/// `now_ms - origin_server_ts > max_lifetime_ms`. An event stamped after
/// `now_ms` has age zero (mind the subtraction).
///
/// **Purged**: an expired event, unless the room cannot do without it:
///
/// 1. an `m.room.create` event (every auth chain ends there);
/// 2. an event whose ID is a value of `current_state`, the room's state
///    now (its members, power levels, join rules...), since every new
///    event is checked against it;
/// 3. a forward extremity of `events`: an event that no event in `events`
///    names in its `prev_events`. The server's next event will name it, so
///    a quiet room keeps its last message however old.
///
/// Superseded state (an old topic, a membership since changed) is not
/// protected: it expires like any message.
///
/// **Result**: every distinct event ID of `events` is in exactly one of
/// `Purge::kept` and `Purge::purged`, and nothing else is in either (an ID
/// of `current_state` that is not among `events` appears in neither).
pub fn purge(
    events: &[Pdu],
    current_state: &StateMap<EventId>,
    policy: &RetentionPolicy,
    now_ms: u64,
) -> Purge {
    let _ = (events, current_state, policy, now_ms);
    todo!(
        "collect the protected IDs (create events, current_state's values, forward \
         extremities), then put each event in `purged` if it is expired and not \
         protected, else in `kept`"
    )
}

/// Splits `purged_here`, the events this server no longer has (whether its
/// retention deleted them or a disaster did), by whether another server
/// could send them back.
///
/// `held_by_peers` maps each other server to the event IDs it still holds.
///
/// - `Recoverability::recoverable`: each event of `purged_here` that at
///   least one peer holds, mapped to *all* the peers that hold it (so the
///   set is never empty);
/// - `Recoverability::lost`: each event of `purged_here` that no peer holds.
///
/// Events that peers hold but that were not purged here appear in neither.
pub fn recoverable(
    purged_here: &BTreeSet<EventId>,
    held_by_peers: &BTreeMap<ServerName, BTreeSet<EventId>>,
) -> Recoverability {
    let _ = (purged_here, held_by_peers);
    todo!(
        "for each purged event, collect the servers whose set contains it: none \
         means lost, otherwise recoverable from those servers"
    )
}
