//! The reference answer: the workbench's own graph functions in
//! `lostfound_protocol::dag`, behind the exercise's signatures.

use lostfound_protocol::dag;
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use std::collections::BTreeSet;

pub fn missing_prev_events(
    events: &[Pdu],
    is_known: &dyn Fn(&EventId) -> bool,
) -> BTreeSet<EventId> {
    // `dag` answers "missing from these events"; the server's store is the
    // caller's business, so what it already holds is filtered out here.
    dag::missing_prev_events(events)
        .into_iter()
        .filter(|id| !is_known(id))
        .collect()
}

pub fn forward_extremities(events: &[Pdu]) -> BTreeSet<EventId> {
    dag::forward_extremities(events)
}
