//! Exercise 8: state resolution v2
//! (<https://spec.matrix.org/v1.16/rooms/v10/#state-resolution>).
//!
//! When a room's graph forks, each branch has its own state: on one Bob
//! was banned, on the other Bob changed the topic. Every server that later
//! sees both branches must compute *the same* state from them, with no vote
//! and no coordinator. [`resolve`] is that deterministic function. Read
//! `exercises/08-state-resolution/README.md` first.
//!
//! # The algorithm
//!
//! 1. **Split.** The *unconflicted state map* is every slot that *all*
//!    input maps have, with the same event. Every other event of every
//!    input map is in the *conflicted state set* (a slot missing from some
//!    inputs is conflicted: "no event" is one of the answers). If nothing
//!    is conflicted, the answer is the unconflicted map.
//! 2. **Auth difference.** For each input `i`, let `Cᵢ` be the events of
//!    map `i` *together with* all their auth chains (`auth_events`,
//!    transitively). The auth difference is `∪Cᵢ − ∩Cᵢ`. The *full
//!    conflicted set* is the conflicted state set plus the auth difference.
//!    (The spec's wording leaves map `i`'s own events out of `Cᵢ`; Synapse
//!    and the workbench put them in, and the tests follow them.)
//! 3. **Power events first.** A *power event* is a state event of type
//!    `m.room.power_levels` or `m.room.join_rules`, or an `m.room.member`
//!    event with membership `leave` or `ban` whose sender is not its
//!    `state_key` (a kick or a ban). Take the power events of the full
//!    conflicted set, add every event of *their* auth chains that is also
//!    in the full conflicted set, and sort them by **reverse topological
//!    power ordering** (Kahn's algorithm): repeatedly place, among the
//!    events whose `auth_events` that are being sorted have all been
//!    placed, the smallest by this key: the sender with the *higher* power
//!    level first, then the *smaller* `origin_server_ts`, then the smaller
//!    event ID. The sender's level is the one the event was made under: read
//!    from the `m.room.power_levels` and `m.room.create` events among the
//!    event's own `auth_events` (no power levels event: the creator has
//!    100, everyone else 0).
//! 4. **Iterative auth checks.** Starting from the unconflicted state map,
//!    take the sorted events one by one and apply each that the room v10
//!    auth rules allow against the state so far: build its auth state from
//!    its own `auth_events` (by slot, the first for each slot), then
//!    overwrite every slot
//!    `auth::auth_types_for_event(event)` lists with the state so far
//!    wherever the state so far has that slot. If allowed, it takes its
//!    slot; if not, it is skipped (it stays in history, not in the state).
//! 5. **Everything else, by mainline.** The other events of the full
//!    conflicted set are sorted by **mainline ordering**: the *mainline* is
//!    the power levels event now in the state (index 0), the power levels
//!    event in its `auth_events` (index 1), and so on back. An event's
//!    position is found by following power levels events through
//!    `auth_events` from the event (excluding the event itself) to the
//!    first one on the mainline; none found means "after every index".
//!    Larger positions come first; then the smaller `origin_server_ts`,
//!    then the smaller event ID. Apply them with the iterative auth checks,
//!    continuing from the state of step 4.
//! 6. **What everyone agreed on stands.** Put the unconflicted state map
//!    back on top of the result.
//!
//! You may use anything in `lostfound_protocol` except its `state_res`
//! module: `auth::check_auth_rules` runs the auth rules,
//! `auth::auth_types_for_event` names the slots an event's auth needs,
//! `auth::PowerLevels` reads levels, `dag::auth_chain` walks auth chains,
//! `state::slot_of` gives an event's slot.

use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateKey, StateMap};

/// Why state could not be resolved: always a problem with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// An event in one of the state maps, or in the auth chain of one of
    /// their events, is not available from `events`. Resolving with part of
    /// an auth chain could give a different answer from a peer that has it
    /// all, so refuse. (If several are missing, any one of them.)
    #[error("event {0} is needed to resolve state but was not supplied")]
    MissingEvent(EventId),
    /// A state map puts an event in a slot it does not fill, such as a
    /// topic event under `("m.room.member", "@bob:b.lab")`.
    #[error("state map has {event_id} at {slot:?}, but that event does not fill that slot")]
    WrongSlot { slot: StateKey, event_id: EventId },
    /// The `auth_events` links form a cycle. Real events cannot (an event's
    /// ID is a hash over its `auth_events`), so `events` is handing out
    /// events under IDs that are not theirs. No test builds one; you need
    /// not detect it.
    #[error("auth_events form a cycle, including {0}")]
    AuthEventCycle(EventId),
}

/// Resolves `state_sets` (one state map per branch of the fork, each from
/// slot to event ID) into one state, with the algorithm in the crate docs.
///
/// `events(id)` returns the event with that ID, or `None` if the caller
/// does not have it; it must supply every event in `state_sets` and every
/// event in their auth chains.
///
/// - The result must not depend on the order of `state_sets`.
/// - No sets give empty state. When the sets do not conflict at all (one
///   set, or all the same), return their common state without consulting
///   `events`: it may have nothing.
/// - When they do conflict, a missing event is [`ResolveError::MissingEvent`],
///   and an entry `slot -> id` whose event does not fill `slot`
///   (`state::slot_of(event) != Some(slot)`) is [`ResolveError::WrongSlot`].
pub fn resolve(
    state_sets: &[StateMap<EventId>],
    events: &dyn Fn(&EventId) -> Option<Pdu>,
) -> Result<StateMap<EventId>, ResolveError> {
    let _ = (state_sets, events);
    todo!(
        "split the state sets into unconflicted and conflicted, then (if anything \
         conflicts) follow the steps in the crate docs: full conflicted set, power \
         events by reverse topological power ordering, iterative auth checks, the \
         rest by mainline ordering, and the unconflicted state on top"
    )
}
