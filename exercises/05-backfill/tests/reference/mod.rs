//! The reference answer: the walk the workbench's server runs behind
//! `GET /backfill` (`lostfound_server::federation::serve::history`), over
//! a lookup instead of its store.

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;

pub fn backfill(
    room_id: &RoomId,
    from: &[EventId],
    limit: usize,
    lookup: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Vec<EventId> {
    lostfound_server::hooks::reference::backfill(room_id, from, limit, lookup)
}
