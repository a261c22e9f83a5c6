//! Exercise 5: backfill, the walk back from an event through its
//! predecessors.
//!
//! A server restored from an old backup holds a room's history with a
//! hole in it. When one of its users scrolls back to the edge of the
//! hole, it asks a server of the room: "give me these events and what
//! came before them" (`GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=…`).
//! You write the answer to that request: the walk the *serving* server
//! does through its copy of the room.
//!
//! Read `exercises/05-backfill/README.md` first, and the book chapter *How
//! servers share a room*, section on backfill.

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;

/// The events `from` and their predecessors in `room_id`, **newest
/// first**, at most `limit` of them: the answer to a `/backfill` request.
///
/// `lookup(id)` gives an event this server holds, or `None`. It answers for
/// every room the server holds, so it may give an event of another room.
///
/// The walk:
///
/// - The `from` events come first (they count towards `limit`). A `from`
///   event the lookup does not give, or that belongs to another room than
///   `room_id`, is skipped: the asking server knows the edge of *its*
///   copy, not of ours.
/// - Then their `prev_events`, and theirs, and so on back to the create
///   event, which has none. A parent the lookup does not give, or of
///   another room, is skipped, and nothing is walked through it.
/// - **Newest first** means *deepest first*: at each step, of all the
///   events found so far and not yet returned, return the one with the
///   greatest `depth()`. On equal depth, the one with the greater event
///   ID (comparing `EventId`s) comes first. So when the history forked and
///   merged, the two branches interleave by depth, as a client scrolling
///   back wants them.
/// - Every event appears once, even when several children name it (after
///   a merge, two branches lead back to the same event).
/// - Stop after `limit` events (`limit` 0 gives nothing), or when there is
///   nothing left to walk.
///
/// ```text
///   create ← join ← A ← B ← D        from = [D], limit = 4
///                    ↖ C ↙           answer: D, then B and C (depth 4,
///                                    greater ID first), then A
/// ```
///
/// Returns event IDs; the server sends the events themselves.
pub fn backfill(
    room_id: &RoomId,
    from: &[EventId],
    limit: usize,
    lookup: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Vec<EventId> {
    let _ = (room_id, from, limit, lookup);
    todo!(
        "keep the candidate events (start with `from`, as far as lookup gives them in \
         room_id), repeatedly return the deepest one (greater event ID on a tie) and add \
         its prev_events as candidates, each event at most once, until `limit`"
    )
}
