//! The two walks backwards through a room's history, along `prev_events`.
//!
//! Every event names its parents in `prev_events`; following them from
//! any event leads back, through every fork and merge, to the room's
//! create event. A peer that lacks part of that graph asks us to walk it:
//!
//! - [`backfill`] (`GET /backfill`): "give me these events and what came
//!   before them". Used when a user scrolls back into history the peer
//!   never had, for instance because it was restored from an old backup.
//! - [`get_missing_events`] (`POST /get_missing_events`): "I hold these
//!   (`earliest_events`) and just received these (`latest_events`): give me
//!   what lies between". Used when a new event's `prev_events` reveal a
//!   gap, so that the peer can fill it before accepting the event.
//!
//! Both walks return only timeline events of the room (see the outlier
//! note in [`super`]), and quietly skip starting events we do not hold: a
//! peer asks from the edge of *its* knowledge, and we may know less than
//! it thinks (we might be the restored server). An empty answer is a
//! truthful one.

use super::ServeError;
use crate::hooks::Hooks;
use lostfound_protocol::dag;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_store::{Store, StoreError, StreamPosition};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

/// The most events one request returns, whatever `limit` the peer asks
/// for: an answer must stay a reasonable size (Synapse caps backfill at
/// 100 too). The peer asks again from where the answer ends.
pub const MAX_LIMIT: usize = 100;

/// `limit` of `get_missing_events` when the request gives none (the spec's
/// default).
pub const DEFAULT_MISSING_EVENTS_LIMIT: usize = 10;

/// `room_id`'s timeline event `event_id`, if we hold it: not an outlier,
/// and in that room.
fn timeline_event(
    store: &dyn Store,
    room_id: &RoomId,
    event_id: &EventId,
) -> Result<Option<(Pdu, StreamPosition)>, StoreError> {
    Ok(store
        .event(event_id)?
        .filter(|stored| !stored.outlier && stored.event.room_id() == room_id)
        .map(|stored| (stored.event, stored.position)))
}

/// The events `from` and their predecessors, newest first, at most `limit`
/// of them (`from` included), capped at [`MAX_LIMIT`]
/// (<https://spec.matrix.org/v1.16/server-server-api/#backfilling-and-retrieving-missing-events>).
///
/// The walk is breadth-first by depth: it keeps a queue of candidates, the
/// `from` events to start with, and always takes the deepest (the newest),
/// then adds that event's `prev_events` as candidates. So when branches
/// merge, their events interleave by depth, and the answer is the `limit`
/// newest events before `from`, as a client scrolling back wants them.
/// Ties (same depth) go to the later stream position, so answers are
/// deterministic.
pub fn backfill(
    store: &dyn Store,
    room_id: &RoomId,
    from: &[EventId],
    limit: usize,
) -> Result<Vec<Pdu>, StoreError> {
    backfill_walk(from, limit.min(MAX_LIMIT), |event_id| {
        timeline_event(store, room_id, event_id)
    })
}

/// [`backfill`] over any lookup, which gives each event with its
/// tie-break key (the stream position in the store; the event ID in
/// [`crate::hooks::reference`]) or `None` for an event not to return. No
/// cap: the caller applies [`MAX_LIMIT`].
pub fn backfill_walk<K: Ord, E>(
    from: &[EventId],
    limit: usize,
    lookup: impl FnMut(&EventId) -> Result<Option<(Pdu, K)>, E>,
) -> Result<Vec<Pdu>, E> {
    let mut candidates = Candidates::new(lookup);
    for event_id in from {
        candidates.offer(event_id)?;
    }
    let mut events = Vec::new();
    while events.len() < limit {
        let Some(event) = candidates.take_newest() else {
            break; // reached the create event, or the edge of what we hold
        };
        for prev in event.prev_events() {
            candidates.offer(prev)?;
        }
        events.push(event);
    }
    Ok(events)
}

/// [`backfill`], or the installed backfill hook: its answer is kept only
/// as far as it names timeline events of the room, at most `limit` (capped
/// at [`MAX_LIMIT`]), in its order.
pub fn backfill_served(
    store: &dyn Store,
    hooks: &Hooks,
    room_id: &RoomId,
    from: &[EventId],
    limit: usize,
) -> Result<Vec<Pdu>, ServeError> {
    let Some(hook) = &hooks.backfill else {
        return Ok(backfill(store, room_id, from, limit)?);
    };
    let limit = limit.min(MAX_LIMIT);
    let failure = Cell::new(None);
    let lookup = hook_lookup(store, &failure);
    let answer = hook.call(|walk| walk(room_id, from, limit, &lookup))?;
    failure.take().map_or(Ok(()), Err)?;
    Ok(checked_answer(store, room_id, answer, limit)?)
}

/// The events `backfill_walk` may return next, newest on top.
struct Candidates<K, L> {
    lookup: L,
    /// Every event ever offered, so that none is returned twice when
    /// branches of the room merge.
    offered: BTreeSet<EventId>,
    /// `(depth, tie-break key)` orders the heap; the event rides along.
    heap: BinaryHeap<(u64, K, EventId)>,
    events: BTreeMap<EventId, Pdu>,
}

impl<K: Ord, E, L: FnMut(&EventId) -> Result<Option<(Pdu, K)>, E>> Candidates<K, L> {
    fn new(lookup: L) -> Self {
        Self {
            lookup,
            offered: BTreeSet::new(),
            heap: BinaryHeap::new(),
            events: BTreeMap::new(),
        }
    }

    /// Adds `event_id`, if the lookup gives it and it was not offered
    /// before.
    fn offer(&mut self, event_id: &EventId) -> Result<(), E> {
        if self.offered.insert(event_id.clone())
            && let Some((event, key)) = (self.lookup)(event_id)?
        {
            self.heap.push((event.depth(), key, event_id.clone()));
            self.events.insert(event_id.clone(), event);
        }
        Ok(())
    }

    /// The deepest candidate (the greater key on a tie).
    fn take_newest(&mut self) -> Option<Pdu> {
        let (_, _, event_id) = self.heap.pop()?;
        self.events.remove(&event_id)
    }
}

/// The events between `earliest` (which the peer holds) and `latest`
/// (which it just received), oldest first, at most `limit`, capped at
/// [`MAX_LIMIT`]
/// (<https://spec.matrix.org/v1.16/server-server-api/#post_matrixfederationv1get_missing_eventsroomid>).
///
/// As the spec says, a breadth-first walk over the `prev_events` of
/// `latest`: the `latest` events themselves are not returned (the peer has
/// them), the walk stops at `earliest` events (returning none of them),
/// and it stops at events below `min_depth`. Since an event is deeper than
/// all its parents, nothing before such an event could qualify either.
///
/// Breadth-first means the events nearest to `latest` are found first, so
/// when `limit` cuts the walk short, the peer gets the part of the gap
/// next to the event it is trying to accept. The answer is then sorted
/// with parents before children ([`dag::topological_order`]), the order in
/// which the peer can check them. (Synapse reverses its walk instead,
/// which is only roughly chronological.)
pub fn get_missing_events(
    store: &dyn Store,
    room_id: &RoomId,
    earliest: &[EventId],
    latest: &[EventId],
    limit: usize,
    min_depth: u64,
) -> Result<Vec<Pdu>, StoreError> {
    missing_events_walk(
        earliest,
        latest,
        limit.min(MAX_LIMIT),
        min_depth,
        |event_id| Ok(timeline_event(store, room_id, event_id)?.map(|(event, _)| event)),
    )
}

/// [`get_missing_events`] over any lookup (`None` for an event not to
/// return). No cap: the caller applies [`MAX_LIMIT`].
pub fn missing_events_walk<E>(
    earliest: &[EventId],
    latest: &[EventId],
    limit: usize,
    min_depth: u64,
    mut lookup: impl FnMut(&EventId) -> Result<Option<Pdu>, E>,
) -> Result<Vec<Pdu>, E> {
    let mut seen: BTreeSet<EventId> = earliest.iter().chain(latest).cloned().collect();
    let mut to_visit: VecDeque<EventId> = VecDeque::new();
    for event_id in latest {
        if let Some(event) = lookup(event_id)? {
            to_visit.extend(event.prev_events().iter().cloned());
        }
    }

    let mut found: Vec<Pdu> = Vec::new();
    while found.len() < limit {
        let Some(event_id) = to_visit.pop_front() else {
            break;
        };
        if !seen.insert(event_id.clone()) {
            continue; // an earliest event, or one already reached by another path
        }
        let Some(event) = lookup(&event_id)? else {
            continue; // a gap in our copy too: we cannot walk past it
        };
        if event.depth() < min_depth {
            continue;
        }
        to_visit.extend(event.prev_events().iter().cloned());
        found.push(event);
    }

    let mut by_id: BTreeMap<EventId, Pdu> = found
        .into_iter()
        .map(|event| (event.event_id().clone(), event))
        .collect();
    let order = dag::topological_order(by_id.values());
    Ok(order.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// [`get_missing_events`], or the installed hook: its answer is kept only
/// as far as it names timeline events of the room, at most `limit` (capped
/// at [`MAX_LIMIT`]), in its order.
pub fn get_missing_events_served(
    store: &dyn Store,
    hooks: &Hooks,
    room_id: &RoomId,
    earliest: &[EventId],
    latest: &[EventId],
    (limit, min_depth): (usize, u64),
) -> Result<Vec<Pdu>, ServeError> {
    let Some(hook) = &hooks.missing_events else {
        return Ok(get_missing_events(
            store, room_id, earliest, latest, limit, min_depth,
        )?);
    };
    let limit = limit.min(MAX_LIMIT);
    let failure = Cell::new(None);
    let lookup = hook_lookup(store, &failure);
    let answer = hook.call(|walk| walk(room_id, earliest, latest, limit, min_depth, &lookup))?;
    failure.take().map_or(Ok(()), Err)?;
    Ok(checked_answer(store, room_id, answer, limit)?)
}

/// What a hook may look up: every timeline event we hold, in any room
/// (telling rooms apart is part of the exercise). A store failure reads
/// as "not held"; the first one is kept in `failure`, for the caller to
/// report after the hook returns.
fn hook_lookup<'a>(
    store: &'a dyn Store,
    failure: &'a Cell<Option<StoreError>>,
) -> impl Fn(&EventId) -> Option<Pdu> + 'a {
    move |event_id: &EventId| match store.event(event_id) {
        Ok(stored) => stored
            .filter(|stored| !stored.outlier)
            .map(|stored| stored.event),
        Err(error) => {
            failure.set(Some(error));
            None
        }
    }
}

/// A hook's answer as we serve it: the events it names that are timeline
/// events of `room_id` (others dropped, with a warning: serving them would
/// leak another room), each once, at most `limit`.
fn checked_answer(
    store: &dyn Store,
    room_id: &RoomId,
    answer: Vec<EventId>,
    limit: usize,
) -> Result<Vec<Pdu>, StoreError> {
    let mut served = BTreeSet::new();
    let mut events = Vec::new();
    for event_id in answer {
        if events.len() >= limit {
            break;
        }
        if !served.insert(event_id.clone()) {
            continue;
        }
        match timeline_event(store, room_id, &event_id)? {
            Some((event, _)) => events.push(event),
            None => {
                tracing::warn!(event = %event_id, room = %room_id, "hook answered an event that is not a timeline event of the room; dropped")
            }
        }
    }
    Ok(events)
}
