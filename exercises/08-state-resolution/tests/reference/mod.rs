//! The reference answer: the workbench's state resolution,
//! `lostfound_protocol::state_res::resolve`, behind the exercise's
//! signature.

use ex08_state_resolution::ResolveError;
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use lostfound_protocol::state_res::{self, StateResError};
use std::collections::BTreeMap;

pub fn resolve(
    state_sets: &[StateMap<EventId>],
    events: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Result<StateMap<EventId>, ResolveError> {
    // The workbench borrows events from a store; the exercise's lookup
    // hands out owned ones. Fetch what resolution can reach into a map
    // first, and let the workbench report anything the lookup lacked.
    let held = reachable(state_sets, events);
    state_res::resolve(state_sets, |id| held.get(id)).map_err(|error| match error {
        StateResError::MissingEvent { event_id } => ResolveError::MissingEvent(event_id),
        StateResError::WrongSlot { slot, event_id } => ResolveError::WrongSlot { slot, event_id },
        StateResError::AuthEventCycle { first, .. } => ResolveError::AuthEventCycle(first),
    })
}

/// The events of `state_sets` and their auth chains, as far as `events`
/// has them.
fn reachable(
    state_sets: &[StateMap<EventId>],
    events: &dyn Fn(&EventId) -> Option<Pdu>,
) -> BTreeMap<EventId, Pdu> {
    let mut held = BTreeMap::new();
    let mut to_fetch: Vec<EventId> = state_sets
        .iter()
        .flat_map(|set| set.values().cloned())
        .collect();
    while let Some(id) = to_fetch.pop() {
        if held.contains_key(&id) {
            continue;
        }
        if let Some(event) = events(&id) {
            to_fetch.extend(event.auth_events().iter().cloned());
            held.insert(id, event);
        }
    }
    held
}
