//! The reference answer: the walk the workbench's server runs behind
//! `POST /get_missing_events`
//! (`lostfound_server::federation::serve::history`), over a lookup
//! instead of its store.

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;

pub fn get_missing_events(
    room_id: &RoomId,
    earliest: &[EventId],
    latest: &[EventId],
    limit: usize,
    min_depth: u64,
    lookup: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Vec<EventId> {
    lostfound_server::hooks::reference::get_missing_events(
        room_id, earliest, latest, limit, min_depth, lookup,
    )
}
