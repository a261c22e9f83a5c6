//! Steps 4 and 5 of backfill (see [`super`]): the auth checks on a
//! checked batch, oldest first, then one write before the timeline.
//!
//! Each event must pass the auth rules against its own `auth_events`,
//! looked up first among the events of the batch already accepted (an
//! old state event cited by an old message often arrives in the same
//! answer), then in the store. When the state before it is known, the
//! rules must pass against that too. Rejected events are not stored; an
//! event citing one finds its auth event missing and is rejected in turn.

use lostfound_protocol::auth::{auth_types_for_event, check_auth_events, check_auth_rules};
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot, slot_of};
use lostfound_store::{EventWrite, Store, StoreError};
use std::collections::HashMap;

/// Step 4 and 5 of the module docs: the auth checks, oldest first, then one
/// write. Returns how many events entered the timeline.
pub(super) fn authorise_and_store(store: &dyn Store, batch: Vec<Pdu>) -> Result<usize, StoreError> {
    // Events of this batch that passed, and the state after each (empty
    // when unknown), so later events of the batch can cite them.
    let mut accepted: HashMap<EventId, (Pdu, StateMap<EventId>)> = HashMap::new();
    let mut order = Vec::new();
    for event in batch {
        if store
            .event(event.event_id())?
            .is_some_and(|held| !held.outlier)
        {
            continue;
        }
        let lookup = |id: &EventId| -> Result<Option<Pdu>, StoreError> {
            match accepted.get(id) {
                Some((pdu, _)) => Ok(Some(pdu.clone())),
                None => Ok(store.event(id)?.map(|stored| stored.event)),
            }
        };
        let mut auth_events = Vec::new();
        for id in event.auth_events() {
            auth_events.extend(lookup(id)?);
        }
        let cited: Vec<&Pdu> = auth_events.iter().collect();
        let auth_state: StateMap<&Pdu> = auth_events
            .iter()
            .filter_map(|auth| slot_of(auth).map(|slot| (slot, auth)))
            .collect();
        let verdict =
            check_auth_events(&event, &cited).and_then(|()| check_auth_rules(&event, &auth_state));
        if let Err(failure) = verdict {
            tracing::warn!(event = %event.event_id(), %failure, "backfilled event rejected");
            continue;
        }
        let before = state_before(store, &accepted, &event)?;
        if let Some(before) = &before {
            let mut loaded = StateMap::new();
            for slot in auth_types_for_event(&event) {
                if let Some(pdu) = before.get(&slot).map(&lookup).transpose()?.flatten() {
                    loaded.insert(slot, pdu);
                }
            }
            let by_ref: StateMap<&Pdu> = loaded.iter().map(|(s, p)| (s.clone(), p)).collect();
            if let Err(failure) = check_auth_rules(&event, &by_ref) {
                tracing::warn!(event = %event.event_id(), %failure, "backfilled event rejected by the state before it");
                continue;
            }
        }
        // A state event is in the state after itself; unknown stays unknown.
        let after = match before {
            Some(mut state) => {
                if let Some(slot) = slot_of(&event) {
                    state.insert(slot, event.event_id().clone());
                }
                state
            }
            None => StateMap::new(),
        };
        order.push(event.event_id().clone());
        accepted.insert(event.event_id().clone(), (event, after));
    }
    let writes: Vec<EventWrite<'_>> = order
        .iter()
        .filter_map(|id| accepted.get(id))
        .map(|(event, state_after)| EventWrite {
            event,
            state_after,
            forward_extremities: &[],
            current_state: None,
            outlier: false,
            transaction: None,
        })
        .collect();
    store.persist_backfilled_events(&writes)?;
    Ok(writes.len())
}

/// The state before `event` when we know it: nothing before the create
/// event, else the state after its one parent (from the batch or the
/// store). Several parents, or a parent of unknown state: `None`.
fn state_before(
    store: &dyn Store,
    accepted: &HashMap<EventId, (Pdu, StateMap<EventId>)>,
    event: &Pdu,
) -> Result<Option<StateMap<EventId>>, StoreError> {
    let [parent] = event.prev_events() else {
        return Ok(event.prev_events().is_empty().then(StateMap::new));
    };
    let state = match accepted.get(parent) {
        Some((_, state)) => Some(state.clone()),
        None => store.state_after(parent)?,
    };
    Ok(state.filter(|state| state.contains_key(&slot("m.room.create", ""))))
}
