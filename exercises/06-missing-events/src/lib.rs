//! Exercise 6: `get_missing_events`, the breadth-first walk from the
//! events a server just received back to the events it already holds.
//!
//! When a server receives an event whose parents it lacks, it asks the
//! sender: "I hold these (`earliest_events`) and just received these
//! (`latest_events`): give me what lies between"
//! (`POST /_matrix/federation/v1/get_missing_events/{roomId}`). You write
//! the answer to that request: the walk the *serving* server does through
//! its copy of the room.
//!
//! Read `exercises/06-missing-events/README.md` first, and the book
//! chapter *How servers share a room*, section "Gaps, and how they are
//! filled".

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;

/// The events of `room_id` between `earliest` (which the asking server
/// holds) and `latest` (which it just received), at most `limit` of them,
/// none below `min_depth`, **parents before children**.
///
/// `lookup(id)` gives an event this server holds, or `None`. It answers for
/// every room the server holds, so it may give an event of another room.
///
/// The walk is **breadth first**, from `latest` back along `prev_events`:
///
/// - Start with the `prev_events` of each `latest` event, in order (a
///   `latest` event the lookup does not give, or of another room, adds
///   nothing). The `latest` events themselves are never returned: the
///   asking server has them.
/// - Take the events in the order they were found (a queue, first in,
///   first out). Skip an event that is an `earliest` or a `latest` event,
///   or that was already taken: the asking server holds the former, and
///   after a merge two branches reach the same event. Skip one the lookup
///   does not give, or of another room: the walk cannot go past it.
/// - Skip an event whose `depth()` is below `min_depth`, and do not walk
///   past it either (its parents are deeper than nothing the peer wants).
/// - Otherwise keep it, and queue its `prev_events` behind what is queued.
/// - Stop once `limit` events are kept (`limit` 0 gives nothing), or the
///   queue is empty.
///
/// Breadth first means the events nearest `latest` are found first, so
/// when `limit` cuts the walk short, the asking server gets the part of
/// the gap right behind the event it is trying to accept.
///
/// Return the kept events' IDs **parents before children**: every event
/// after those of its `prev_events` that are in the answer (the order in
/// which the asking server can check them). Any such order is accepted.
///
/// ```text
///   first ← A ← B ← D        earliest = [A], latest = [D]
///            ↖ C ↙           answer: B and C (either order); limit 1:
///                            only the first found, B (D names B first)
/// ```
pub fn get_missing_events(
    room_id: &RoomId,
    earliest: &[EventId],
    latest: &[EventId],
    limit: usize,
    min_depth: u64,
    lookup: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Vec<EventId> {
    let _ = (room_id, earliest, latest, limit, min_depth, lookup);
    todo!(
        "queue the prev_events of the latest events, then take them first in first out: \
         skip earliest/latest/already-taken events, events the lookup lacks or of another \
         room, and events below min_depth; keep the others and queue their prev_events, \
         until `limit`; return the kept IDs with parents before children"
    )
}
