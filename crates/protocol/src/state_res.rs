//! State resolution v2: how servers that saw a room fork agree on its state
//! (<https://spec.matrix.org/v1.16/rooms/v10/#state-resolution>).
//!
//! # Why it exists
//!
//! Two servers can send events into a room at the same moment, each on top
//! of what it had seen. The room's graph forks, and each branch carries its
//! own state: on one, Bob was banned; on the other, Bob changed the topic.
//! When a later event names both branches in its `prev_events`, its state
//! must be computed from both, and *every* server must compute the same
//! answer from the same events, with no vote and no coordinator. State
//! resolution is that deterministic function: state maps in, one state out.
//!
//! # The algorithm, and where each step lives
//!
//! First, split the inputs into the **unconflicted state map** (slots every
//! input agrees on) and the **conflicted state set** (everything else), and
//! add the **auth difference** (events in some inputs' auth chains but not
//! all) to get the **full conflicted set**: the only events up for debate
//! (`state_res/conflict.rs`). Then the spec's five steps:
//!
//! 1. Take the **power events** (power levels, join rules, kicks and bans:
//!    events that take abilities away) in the full conflicted set, with the
//!    disputed events they depend on, and sort them by **reverse
//!    topological power ordering** (`state_res/power_ordering.rs`).
//! 2. Replay them with the **iterative auth checks** on top of the
//!    unconflicted state (`state_res/iterative_auth.rs`). Power is settled
//!    first because every other event's validity depends on it.
//! 3. Sort every other disputed event by **mainline ordering** against the
//!    power levels just chosen (`state_res/mainline.rs`)...
//! 4. ...and replay those too.
//! 5. Put the unconflicted state back on top: nothing agreed on by
//!    everyone can be overturned.
//!
//! An event that fails its auth check during a replay is simply not
//! applied: it stays in the room's history but does not make it into the
//! resolved state. That is how a ban "wins" over a concurrent join.
//!
//! # Where the spec's words needed reading
//!
//! - The auth difference counts each input's own events as part of its
//!   auth chain, as Synapse and ruma do; the spec's wording leaves them
//!   out, and that gives different rooms (see `conflict.rs`).
//! - Step 1 keeps only the *disputed* events of the power events' auth
//!   chains, as the spec's earlier wording said (see `power_ordering.rs`).
//! - Events rejected on receipt are replayed like others but never fill a
//!   slot from `auth_events`; see [`resolve_with_rejections`].
//!
//! # What the caller provides
//!
//! State maps of event IDs, and a `lookup` from ID to event that can
//! produce every event in those maps and their whole auth chains. Anything
//! it cannot produce is a [`StateResError::MissingEvent`]: resolving with a
//! partial auth chain could give a different answer from a peer who has
//! the whole chain, so we refuse rather than guess. Fetch the event (for
//! instance with `/event_auth`) and try again.

mod conflict;
mod iterative_auth;
mod mainline;
mod power_ordering;

use crate::ids::EventId;
use crate::pdu::Pdu;
use crate::state::{StateKey, StateMap};
use conflict::{Events, split};
use std::collections::BTreeSet;

pub use power_ordering::is_power_event;

/// Why state could not be resolved. Each is a problem with the input, not
/// with the room: the fix is to supply better input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateResError {
    /// An event in a state map or in an auth chain is not available from
    /// the lookup. The ID is the smallest missing one; there may be others.
    #[error("event {event_id} is needed to resolve state but was not supplied")]
    MissingEvent { event_id: EventId },
    /// A state map puts an event in a slot it does not fill, such as a topic
    /// event under `("m.room.member", "@bob:b.lab")`.
    #[error("state map has {event_id} at {:?}, but that event does not fill that slot", (&slot.0, &slot.1))]
    WrongSlot { slot: StateKey, event_id: EventId },
    /// The `auth_events` links among the lookup's events form a cycle. Real
    /// events cannot (an ID is a hash over its `auth_events`), so the lookup
    /// is handing out events under IDs that are not theirs.
    #[error("auth_events form a cycle among {} events, including {first}", count)]
    AuthEventCycle { first: EventId, count: usize },
}

/// Resolves `state_sets` into one state, assuming none of the events were
/// rejected on receipt. See the module docs for the algorithm.
///
/// `lookup` must return every event named in `state_sets` and every event
/// in their auth chains. The result does not depend on the order of
/// `state_sets`, and resolving zero sets gives empty state.
///
/// ```
/// use lostfound_protocol::state_res::resolve;
/// # use lostfound_protocol::state::StateMap;
/// # use lostfound_protocol::pdu::Pdu;
/// # let (ours, theirs) = (StateMap::new(), StateMap::new());
/// # let store = std::collections::HashMap::<lostfound_protocol::ids::EventId, Pdu>::new();
/// let state = resolve(&[ours, theirs], |id| store.get(id))?;
/// # assert!(state.is_empty());
/// # Ok::<(), lostfound_protocol::state_res::StateResError>(())
/// ```
pub fn resolve<'a>(
    state_sets: &[StateMap<EventId>],
    lookup: impl Fn(&EventId) -> Option<&'a Pdu>,
) -> Result<StateMap<EventId>, StateResError> {
    resolve_with_rejections(state_sets, lookup, |_| false)
}

/// [`resolve`], for a caller that knows which events it rejected on
/// receipt (`rejected(id)` is true for those).
///
/// The spec handles an event that was rejected because of the state
/// before it like any other: it is sorted and replayed, and if it passes
/// the auth checks now, it enters the resolved state. The one thing a
/// rejected event is never used for is to fill a slot from another
/// event's `auth_events` during the iterative auth checks
/// (<https://spec.matrix.org/v1.16/rooms/v10/#rejected-events>). Synapse,
/// by its own account not compliant here, keeps rejected events out of
/// the resolved state. Events rejected because of their own auth events
/// should appear in no state set and no auth chain at all.
pub fn resolve_with_rejections<'a>(
    state_sets: &[StateMap<EventId>],
    lookup: impl Fn(&EventId) -> Option<&'a Pdu>,
    rejected: impl Fn(&EventId) -> bool,
) -> Result<StateMap<EventId>, StateResError> {
    let (unconflicted, conflicted) = split(state_sets);
    if conflicted.is_empty() {
        // Every input is the same map: nothing to resolve.
        return Ok(unconflicted);
    }

    let events = Events::gather(state_sets, &lookup, &rejected)?;
    let full_conflicted = events.full_conflicted_set(&conflicted);

    // Steps 1 and 2: settle power first.
    let power = power_ordering::power_events_with_conflicted_ancestors(&events, &full_conflicted)?;
    let sorted_power = power_ordering::reverse_topological_power_ordering(&events, &power)?;
    let partial = iterative_auth::apply(&events, unconflicted.clone(), &sorted_power)?;

    // Steps 3 and 4: everything else, ordered against the chosen power levels.
    let others: BTreeSet<EventId> = full_conflicted.difference(&power).cloned().collect();
    let sorted_others = mainline::mainline_ordering(&events, &others, &partial)?;
    let mut resolved = iterative_auth::apply(&events, partial, &sorted_others)?;

    // Step 5: what everyone agreed on stands.
    resolved.extend(unconflicted);
    Ok(resolved)
}

#[cfg(test)]
mod tests;
