//! The event graph: gaps in `prev_events`, a deterministic topological
//! order, forward extremities, and auth chains.
//!
//! A room is not a list but a directed acyclic graph. Every event names the
//! events it follows in `prev_events` (the *room DAG*, which orders
//! history) and the state events that allowed it in `auth_events` (the *auth
//! DAG*, which carries permission). Both point backwards in time, and
//! neither can contain a cycle: an event's ID is a hash over those very
//! lists, so an event cannot name one that names it
//! (<https://spec.matrix.org/v1.16/server-server-api/#pdus>).
//!
//! Servers see this graph piece by piece, as peers push and pull events, so
//! every question here is asked of *the events we hold*:
//!
//! - [`missing_prev_events`]: which parents are we missing? These are the
//!   gaps a server fills with `get_missing_events` or `backfill`.
//! - [`forward_extremities`]: which events has nothing built on yet? A new
//!   event names all of them in its `prev_events`, merging the forks.
//! - [`topological_order`]: in what order can the events be processed so
//!   that parents always come before children?
//! - [`auth_chain`]: which events, transitively, authorise these ones? State
//!   resolution compares auth chains; `/event_auth` serves them.
//!
//! Everything is pure: the graph functions take the events themselves (any
//! iterator of `&Pdu`: a slice, a map's values), and [`auth_chain`], which
//! must follow links beyond the starting events, takes a *lookup*,
//! `Fn(&EventId) -> Option<&Pdu>`, standing for whatever store the caller
//! has. Missing events are reported, never a panic: a peer decides what it
//! sends us, so absence is an ordinary outcome.

use crate::ids::EventId;
use crate::pdu::Pdu;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// The `prev_events` that `events` name but that are not among them: the
/// holes in our copy of the room's history.
///
/// ```text
///   ?gap        an event we were never sent
///    |
///    B    <- B's prev_events = [?gap], so ?gap is missing
///    |
///    C
/// ```
pub fn missing_prev_events<'a>(events: impl IntoIterator<Item = &'a Pdu>) -> BTreeSet<EventId> {
    let events = by_id(events);
    events
        .values()
        .flat_map(|event| event.prev_events())
        .filter(|prev| !events.contains_key(*prev))
        .cloned()
        .collect()
}

/// The events that no other event in `events` names as a `prev_event`: the
/// tips of the graph, where the next event will attach.
///
/// One extremity means a linear history; several mean the room has forked
/// (two servers sent at once) and the next event should merge them by
/// naming them all. An empty input has no extremities.
pub fn forward_extremities<'a>(events: impl IntoIterator<Item = &'a Pdu>) -> BTreeSet<EventId> {
    let events = by_id(events);
    let referenced: BTreeSet<&EventId> = events
        .values()
        .flat_map(|event| event.prev_events())
        .collect();
    events
        .keys()
        .filter(|id| !referenced.contains(*id))
        .map(|id| (*id).clone())
        .collect()
}

/// Orders `events` so that every event comes after all of its
/// `prev_events` that are present.
///
/// This is Kahn's algorithm: repeatedly emit an event whose parents have
/// all been emitted. When several are ready at once, the one with the
/// smallest `(depth, origin_server_ts, event_id)` goes first, so every
/// server holding the same events gets the same order. Those three keys are
/// only tie-breakers; `depth` and timestamps are claims by the sender, not
/// facts, which is why the graph edges always take precedence.
///
/// Events whose `prev_events` are missing (see [`missing_prev_events`]) are
/// treated as roots: we order what we have. Duplicate events and duplicate
/// entries in `prev_events` count once.
///
/// Cycles are impossible for real events (see the module docs); were one to
/// appear anyway, its events are appended in tie-break order rather than
/// dropped, so that the function still returns every event it was given.
pub fn topological_order<'a>(events: impl IntoIterator<Item = &'a Pdu>) -> Vec<EventId> {
    let events = by_id(events);
    let tie_break = |id: &'a EventId| {
        let event = events[id];
        (event.depth(), event.origin_server_ts(), id)
    };

    // For each event: how many distinct present parents are not yet emitted,
    // and which present events name it as a parent.
    let mut waiting_on: BTreeMap<&EventId, usize> = BTreeMap::new();
    let mut children: BTreeMap<&EventId, Vec<&EventId>> = BTreeMap::new();
    for (id, event) in &events {
        let parents: BTreeSet<&EventId> = event
            .prev_events()
            .iter()
            .filter(|prev| events.contains_key(*prev))
            .collect();
        waiting_on.insert(*id, parents.len());
        for parent in parents {
            children.entry(parent).or_default().push(*id);
        }
    }

    let mut ready: BinaryHeap<Reverse<_>> = waiting_on
        .iter()
        .filter(|(_, waiting)| **waiting == 0)
        .map(|(id, _)| Reverse(tie_break(id)))
        .collect();
    let mut order = Vec::with_capacity(events.len());
    while let Some(Reverse((_, _, id))) = ready.pop() {
        order.push(id.clone());
        for child in children.get(id).into_iter().flatten() {
            if let Some(waiting) = waiting_on.get_mut(child) {
                *waiting -= 1;
                if *waiting == 0 {
                    ready.push(Reverse(tie_break(child)));
                }
            }
        }
    }

    if order.len() < events.len() {
        let emitted: BTreeSet<EventId> = order.iter().cloned().collect();
        let mut stuck: Vec<_> = events
            .keys()
            .filter(|id| !emitted.contains(*id))
            .map(|id| tie_break(id))
            .collect();
        stuck.sort();
        order.extend(stuck.into_iter().map(|(_, _, id)| id.clone()));
    }
    order
}

/// The result of walking `auth_events` links: what we found and what we
/// could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthChain {
    /// Every event ID reachable through one or more `auth_events` links,
    /// including IDs that were named but could not be looked up (those are
    /// in `missing` too: we know they belong, not what lies behind them).
    pub events: BTreeSet<EventId>,
    /// Events that the lookup did not have: starting events, or events some
    /// event named in its `auth_events`. Non-empty means `events` is
    /// incomplete; fetch these (for instance with `/event_auth`) and retry.
    pub missing: BTreeSet<EventId>,
}

impl AuthChain {
    /// True when every event was found, so `events` is the whole chain.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The auth chain of a set of events: all their auth events, all of
/// *their* auth events, and so on back to the room's create event
/// (<https://spec.matrix.org/v1.16/rooms/v10/#definitions>).
///
/// As in the spec's definition, a starting event is *not* part of the chain
/// unless another starting event's chain reaches it. `lookup` resolves IDs
/// to events; an ID it cannot resolve goes into [`AuthChain::missing`], and
/// the walk carries on with everything else.
pub fn auth_chain<'a, 'e>(
    start: impl IntoIterator<Item = &'e EventId>,
    lookup: impl Fn(&EventId) -> Option<&'a Pdu>,
) -> AuthChain {
    let mut chain = AuthChain::default();
    let mut visited: BTreeSet<EventId> = BTreeSet::new();
    let mut to_visit: Vec<EventId> = start.into_iter().cloned().collect();
    while let Some(id) = to_visit.pop() {
        if !visited.insert(id.clone()) {
            continue;
        }
        let Some(event) = lookup(&id) else {
            chain.missing.insert(id);
            continue;
        };
        for auth_id in event.auth_events() {
            if chain.events.insert(auth_id.clone()) {
                to_visit.push(auth_id.clone());
            }
        }
    }
    chain
}

/// Indexes events by ID, keeping the first of any duplicates.
fn by_id<'a>(events: impl IntoIterator<Item = &'a Pdu>) -> BTreeMap<&'a EventId, &'a Pdu> {
    let mut map = BTreeMap::new();
    for event in events {
        map.entry(event.event_id()).or_insert(event);
    }
    map
}

#[cfg(test)]
mod tests;
