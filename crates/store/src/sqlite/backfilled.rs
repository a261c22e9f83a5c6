//! Backfilled events: history older than anything already in the timeline,
//! fetched from a peer when a client scrolls back past what we hold.
//!
//! A stream position says *when this server learnt of* an event, and
//! `/sync` hands out "everything after position N". Backfilled events are
//! learnt late but are old: if they took the next positions, every client
//! would receive last year's messages as news on its next sync, and
//! `/messages?dir=b` would find them *before* (newer than) the events they
//! precede. So, as Synapse does, they get **negative** positions, counting
//! down from the lowest position in the store: each batch sits below
//! everything already stored, in the order given (oldest first, so the
//! oldest event gets the lowest position). `/sync` reads positions above a
//! token, which is never negative, so it never sees them; `/messages`
//! reads below its token and walks into them naturally.
//!
//! No schema change is needed: an `INTEGER PRIMARY KEY AUTOINCREMENT`
//! column takes any explicit value, and AUTOINCREMENT's counter
//! (`sqlite_sequence`) only follows the *highest* value, so positive
//! positions go on growing as before and `current_position` (the maximum)
//! is untouched.
//!
//! Backfilled events are history: they change neither the room's current
//! state nor its forward extremities (new events still build on the
//! newest ones). And an event we already held as an **outlier** (an auth
//! event or a piece of state fetched earlier, kept out of the timeline) is
//! *promoted*: it takes its place in the timeline at a backfilled position.

use super::state;
use crate::{EventWrite, Result, StreamPosition};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// Persists `writes` (oldest first) in one transaction, below every stored
/// position, and returns each event's position in the same order.
///
/// Per event: a timeline event we already hold keeps its position; an
/// outlier is promoted (and takes the given state after it, unless that is
/// empty, which means "unknown" and keeps what the outlier had); a new
/// event is inserted. Only `event`, `state_after` and `outlier` of each
/// write are read; a write with `outlier: true` is stored as an outlier at
/// a backfilled position (it is then in no timeline).
pub(super) fn persist_backfilled_events(
    conn: &mut Connection,
    writes: &[EventWrite<'_>],
) -> Result<Vec<StreamPosition>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // What we hold already, decided before any position is given out.
    let mut held = Vec::with_capacity(writes.len());
    for write in writes {
        let row: Option<(StreamPosition, bool)> = tx
            .query_row(
                "SELECT stream_ordering, outlier FROM events WHERE event_id = ?1",
                [write.event.event_id().as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        held.push(row);
    }
    let placed = held
        .iter()
        .filter(|row| row.is_none_or(|(_, outlier)| outlier))
        .count();
    let lowest: StreamPosition = tx.query_row(
        "SELECT min(0, coalesce(min(stream_ordering), 0)) FROM events",
        [],
        |row| row.get(0),
    )?;
    // `placed` is at most the number of writes, far below i64::MAX.
    let mut next = lowest - i64::try_from(placed).unwrap_or(i64::MAX);
    let mut positions = Vec::with_capacity(writes.len());
    for (write, row) in writes.iter().zip(held) {
        let event = write.event;
        match row {
            Some((position, false)) => {
                positions.push(position);
                continue;
            }
            Some((_, true)) => {
                let group = if write.state_after.is_empty() {
                    None
                } else {
                    Some(state::state_group_for(&tx, event, write.state_after)?)
                };
                tx.execute(
                    "UPDATE events SET stream_ordering = ?1, outlier = ?2,
                         state_group = coalesce(?3, state_group)
                     WHERE event_id = ?4",
                    (next, write.outlier, group, event.event_id().as_str()),
                )?;
            }
            None => {
                let group = state::state_group_for(&tx, event, write.state_after)?;
                tx.execute(
                    "INSERT INTO events (stream_ordering, event_id, room_id, depth, outlier,
                                         state_group, membership, json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    (
                        next,
                        event.event_id().as_str(),
                        event.room_id().as_str(),
                        event.depth(),
                        write.outlier,
                        group,
                        event.membership(),
                        event.canonical_json(),
                    ),
                )?;
            }
        }
        positions.push(next);
        next += 1;
    }
    tx.commit()?;
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use crate::{EventWrite, Room, SqliteStore, Store};
    use lostfound_protocol::ids::EventId;
    use lostfound_protocol::pdu::{Pdu, PduBuilder};
    use lostfound_protocol::signing::SigningKey;
    use lostfound_protocol::state::StateMap;
    use serde_json::json;

    /// A linear room: create, then `messages` messages.
    fn chain(messages: usize) -> Vec<Pdu> {
        let key = SigningKey::from_seed(
            "tomesh.lab".parse().unwrap(),
            "ed25519:1".parse().unwrap(),
            [7; 32],
        );
        let room = "!hypha:tomesh.lab".parse().unwrap();
        let alice = "@alice:tomesh.lab".parse().unwrap();
        let create = PduBuilder::new(room, alice, "m.room.create", json!({}))
            .state_key("")
            .depth(1)
            .sign(&key)
            .unwrap();
        let mut events = vec![create];
        for n in 0..messages {
            let previous = events[events.len() - 1].clone();
            let next = PduBuilder::new(
                previous.room_id().clone(),
                previous.sender().clone(),
                "m.room.message",
                json!({"body": format!("message {n}")}),
            )
            .prev_events([previous.event_id().clone()])
            .depth(previous.depth() + 1)
            .sign(&key)
            .unwrap();
            events.push(next);
        }
        events
    }

    fn write<'a>(event: &'a Pdu, state: &'a StateMap<EventId>, outlier: bool) -> EventWrite<'a> {
        EventWrite {
            event,
            state_after: state,
            forward_extremities: std::slice::from_ref(event.event_id()),
            current_state: None,
            outlier,
            transaction: None,
        }
    }

    fn ids(events: Vec<crate::StoredEvent>) -> Vec<EventId> {
        events
            .into_iter()
            .map(|stored| stored.event.event_id().clone())
            .collect()
    }

    #[test]
    fn backfilled_history_sits_before_the_timeline_and_promotes_outliers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let events = chain(3);
        let room_id = events[0].room_id().clone();
        store
            .create_room(&Room {
                room_id: room_id.clone(),
                room_version: "10".into(),
                federate: true,
            })
            .unwrap();
        let empty = StateMap::new();
        // We hold the create event as an outlier, and the newest message.
        store
            .persist_event(&write(&events[0], &empty, true))
            .unwrap();
        let newest = store
            .persist_event(&write(&events[3], &empty, false))
            .unwrap();

        let older: Vec<EventWrite<'_>> = events[..3]
            .iter()
            .map(|event| write(event, &empty, false))
            .collect();
        let positions = store.persist_backfilled_events(&older).unwrap();
        assert_eq!(positions, [-3, -2, -1], "oldest lowest, all below zero");
        assert_eq!(
            store.current_position().unwrap(),
            newest,
            "sync sees nothing new"
        );
        assert!(!store.event(events[0].event_id()).unwrap().unwrap().outlier);

        let all: Vec<EventId> = events.iter().map(|e| e.event_id().clone()).collect();
        let forwards = store
            .room_events_after(&room_id, i64::MIN, newest, 10)
            .unwrap();
        assert_eq!(ids(forwards), all);
        let backwards = store.room_events_before(&room_id, newest + 1, 10).unwrap();
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(ids(backwards), reversed);
        // A second batch overlapping the first moves nothing, and the
        // next new event still takes the next positive position.
        assert_eq!(
            store.persist_backfilled_events(&older[1..]).unwrap(),
            [-2, -1]
        );
        let more = chain(4);
        let next = store
            .persist_event(&write(&more[4], &empty, false))
            .unwrap();
        assert_eq!(next, newest + 1);
    }
}
