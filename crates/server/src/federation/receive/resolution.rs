//! State resolution over the store: gathering the events that
//! [`lostfound_protocol::state_res::resolve`] needs, then resolving.
//!
//! The protocol core is pure: it asks for a lookup from event ID to event
//! and refuses to guess about anything the lookup lacks. So before
//! resolving we load, from the store, every event named in the state sets
//! and the whole auth chain behind them (auth events we lacked were fetched
//! as outliers beforehand, so they are there).

use super::ReceiveError;
use crate::hooks::Hooks;
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use lostfound_protocol::state_res::resolve;
use lostfound_store::Store;
use std::collections::HashMap;

/// Resolves `sets` (state maps of event IDs) with state resolution v2.
/// `pending` is the event being received: not stored yet, but possibly
/// named in a set (a state event is in its own state after). An installed
/// resolve hook ([`crate::hooks`]) resolves instead of the reference.
pub(super) fn resolve_states(
    store: &dyn Store,
    hooks: &Hooks,
    sets: &[StateMap<EventId>],
    pending: &Pdu,
) -> Result<StateMap<EventId>, ReceiveError> {
    let mut events: HashMap<EventId, Pdu> = HashMap::new();
    events.insert(pending.event_id().clone(), pending.clone());
    let mut to_load: Vec<EventId> = sets.iter().flat_map(|set| set.values().cloned()).collect();
    to_load.extend(pending.auth_events().iter().cloned());
    // Each ID is loaded at most once, so this ends after as many rounds as
    // the room has events; an event the store lacks is simply left out, and
    // `resolve` names it in its error.
    while let Some(event_id) = to_load.pop() {
        if events.contains_key(&event_id) {
            continue;
        }
        // Only events of the room being resolved: a state set or an auth
        // chain that reached into another room would let that room's
        // events weigh in here. Left out, they make `resolve` fail loudly.
        if let Some(stored) = store.event(&event_id)?
            && stored.event.room_id() == pending.room_id()
        {
            to_load.extend(stored.event.auth_events().iter().cloned());
            events.insert(event_id, stored.event);
        }
    }
    let lookup = |event_id: &EventId| events.get(event_id).cloned();
    if let Some(answer) = hooks.resolve_by_hook(sets, &lookup) {
        return answer.map_err(ReceiveError::Hook);
    }
    Ok(resolve(sets, |event_id| events.get(event_id))?)
}
