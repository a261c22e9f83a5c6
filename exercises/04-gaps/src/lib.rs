//! Exercise 4: spotting the gaps in a room's event graph.
//!
//! Every event names, in `prev_events`, the latest events its server had
//! seen in the room, so a room's history is a graph whose edges point back
//! in time. A server that holds an event but not one of its parents knows
//! it has a hole in its history: that parent is a *gap*, and it is what
//! the server asks its peers for (`get_missing_events`, `backfill`).
//!
//! Read `exercises/04-gaps/README.md` first, and the book chapter *How
//! servers share a room*, section "prev_events: the thread through the
//! room".

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use std::collections::BTreeSet;

/// The gaps: every event ID that some event in `events` names in its
/// `prev_events`, but that is neither one of `events` itself nor already
/// held by the server (`is_known(id)` returns true for events the server
/// has stored).
///
/// - An ID counts as present if *any* event in `events` has it, wherever
///   it is in the slice: a child may come before its parent.
/// - Every entry of `prev_events` counts, not only the first: a merge
///   event has several parents, and any of them may be missing.
/// - The answer is a set: a parent named by many events, or named twice,
///   appears once. Duplicate events in `events` change nothing.
/// - Only `prev_events` matter here, not `auth_events`.
/// - No events, no gaps: an empty slice gives an empty set.
///
/// ```text
///   ?X        never received: X is missing
///    |
///    B        B.prev_events = [X]
///    |
///    C        C.prev_events = [B]: B is present, so not missing
/// ```
pub fn missing_prev_events(
    events: &[Pdu],
    is_known: &dyn Fn(&EventId) -> bool,
) -> BTreeSet<EventId> {
    let _ = (events, is_known);
    todo!(
        "collect the IDs of `events`, then every ID in their prev_events that is \
         neither one of them nor known (is_known), as a BTreeSet"
    )
}

/// The forward extremities of `events`: the IDs of the events that no
/// event in `events` names in its `prev_events`. They are the tips of the
/// graph, where the server's next event will attach (it names them all in
/// its own `prev_events`, merging any forks).
///
/// - One extremity means a linear history; two or more mean the room has
///   forked (two servers sent at the same time).
/// - Only the events given count: an ID that is not in `events` is never
///   an extremity. And an event whose children are all missing *is* one:
///   with B missing from `A <- B <- C`, nothing given names A, so the
///   extremities are A and C. (That is how a gap shows from this side.)
/// - The answer is a set; an empty slice gives an empty set.
pub fn forward_extremities(events: &[Pdu]) -> BTreeSet<EventId> {
    let _ = events;
    todo!(
        "return the IDs of the events in `events` that no event in `events` \
         names in its prev_events"
    )
}
