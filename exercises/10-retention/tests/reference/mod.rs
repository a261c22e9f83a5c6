//! The reference answer: the workbench's `lostfound_protocol::retention`,
//! behind the exercise's signatures.

use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::retention::{self, Purge, Recoverability, RetentionPolicy};
use lostfound_protocol::state::StateMap;
use std::collections::{BTreeMap, BTreeSet};

pub fn purge(
    events: &[Pdu],
    current_state: &StateMap<EventId>,
    policy: &RetentionPolicy,
    now_ms: u64,
) -> Purge {
    retention::purge(events, current_state, policy, now_ms)
}

pub fn recoverable(
    purged_here: &BTreeSet<EventId>,
    held_by_peers: &BTreeMap<ServerName, BTreeSet<EventId>>,
) -> Recoverability {
    retention::recoverable(purged_here, held_by_peers)
}
