//! What is in dispute: the unconflicted state map, the conflicted state
//! set, the auth difference and the full conflicted set
//! (<https://spec.matrix.org/v1.16/rooms/v10/#definitions>).
//!
//! State resolution is expensive, so it starts by setting aside everything
//! the inputs agree on. What remains is not only the slots they disagree
//! about: two branches may agree on a slot's *current* event while having
//! different histories of how power got there. The auth difference catches
//! that, by comparing the auth chains behind each input.

use super::StateResError;
use crate::dag;
use crate::ids::EventId;
use crate::pdu::Pdu;
use crate::state::{self, StateMap};
use std::collections::{BTreeMap, BTreeSet};

/// Splits the inputs into the **unconflicted state map**, the slots present
/// in *every* input with the *same* event, and the **conflicted state set**,
/// every event of every other slot.
///
/// A slot present in only some inputs is conflicted: "no event here" is one
/// of the disagreeing answers.
pub(super) fn split(state_sets: &[StateMap<EventId>]) -> (StateMap<EventId>, BTreeSet<EventId>) {
    let mut unconflicted = StateMap::new();
    let mut conflicted = BTreeSet::new();
    let slots: BTreeSet<_> = state_sets.iter().flat_map(|set| set.keys()).collect();
    for slot in slots {
        let answers: BTreeSet<Option<&EventId>> =
            state_sets.iter().map(|set| set.get(slot)).collect();
        match answers.first() {
            Some(Some(only)) if answers.len() == 1 => {
                unconflicted.insert(slot.clone(), (*only).clone());
            }
            _ => conflicted.extend(answers.into_iter().flatten().cloned()),
        }
    }
    (unconflicted, conflicted)
}

/// The events this resolution may consult, fetched once through the
/// caller's lookup, with the auth chain of each input state.
pub(super) struct Events<'a> {
    by_id: BTreeMap<EventId, &'a Pdu>,
    rejected: BTreeSet<EventId>,
    /// `chains[i]`: input `i`'s events and the union of their auth chains.
    chains: Vec<BTreeSet<EventId>>,
}

impl<'a> Events<'a> {
    /// Fetches every event in `state_sets` and in their auth chains, checks
    /// that each state map puts its events in their own slots, and records
    /// which of them the caller rejected.
    pub(super) fn gather(
        state_sets: &[StateMap<EventId>],
        lookup: &impl Fn(&EventId) -> Option<&'a Pdu>,
        rejected: &impl Fn(&EventId) -> bool,
    ) -> Result<Self, StateResError> {
        let mut by_id = BTreeMap::new();
        let mut missing = BTreeSet::new();
        let mut chains = Vec::with_capacity(state_sets.len());
        for state_set in state_sets {
            for (slot, event_id) in state_set {
                let Some(event) = lookup(event_id) else {
                    missing.insert(event_id.clone());
                    continue;
                };
                if state::slot_of(event).as_ref() != Some(slot) {
                    return Err(StateResError::WrongSlot {
                        slot: slot.clone(),
                        event_id: event_id.clone(),
                    });
                }
                by_id.insert(event_id.clone(), event);
            }
            let chain = dag::auth_chain(state_set.values(), lookup);
            for event_id in &chain.events {
                if let Some(event) = lookup(event_id) {
                    by_id.insert(event_id.clone(), event);
                }
            }
            missing.extend(chain.missing);
            // The input's own events count as part of its chain; see
            // `auth_difference` for why.
            let mut chain = chain.events;
            chain.extend(state_set.values().cloned());
            chains.push(chain);
        }
        if let Some(event_id) = missing.pop_first() {
            return Err(StateResError::MissingEvent { event_id });
        }
        let rejected = by_id.keys().filter(|id| rejected(id)).cloned().collect();
        Ok(Self {
            by_id,
            rejected,
            chains,
        })
    }

    /// The event with this ID. Every event the algorithm reaches was
    /// gathered, so an error here means an event outside the inputs' auth
    /// chains was asked for.
    pub(super) fn get(&self, event_id: &EventId) -> Result<&'a Pdu, StateResError> {
        self.by_id
            .get(event_id)
            .copied()
            .ok_or_else(|| StateResError::MissingEvent {
                event_id: event_id.clone(),
            })
    }

    /// Whether the caller rejected this event on receipt.
    pub(super) fn is_rejected(&self, event_id: &EventId) -> bool {
        self.rejected.contains(event_id)
    }

    /// The auth chain of one event, from the gathered events.
    pub(super) fn auth_chain(&self, event_id: &EventId) -> BTreeSet<EventId> {
        dag::auth_chain([event_id], |id| self.by_id.get(id).copied()).events
    }

    /// The **auth difference**: events in the auth chain of some input but
    /// not of all, `∪ Cᵢ − ∩ Cᵢ`.
    ///
    /// Here `Cᵢ` is input `i`'s events *together with* their auth chains.
    /// The spec's words ("the union of the auth chains for each event in
    /// Sᵢ") leave the events themselves out; Synapse and ruma put them in,
    /// and we follow them, because the readings do give different rooms.
    /// Left out, an event every input holds but only some inputs' other
    /// events cite (Bob's join, when only one branch has an event of
    /// Bob's) lands in the full conflicted set. Its own slot is restored
    /// in step 5, but in step 1 it sits in the auth DAG with its old sort
    /// key and can delay the power events that cite it, changing which of
    /// two concurrent power events is replayed last (see the fixture
    /// `promoted_moderator_races_the_admin`). Servers that resolve the same
    /// fork differently split the room, so agreeing with the servers
    /// already in the federation is the point.
    pub(super) fn auth_difference(&self) -> BTreeSet<EventId> {
        let Some((first, rest)) = self.chains.split_first() else {
            return BTreeSet::new();
        };
        let mut union = first.clone();
        let mut intersection = first.clone();
        for chain in rest {
            union.extend(chain.iter().cloned());
            intersection.retain(|id| chain.contains(id));
        }
        union.difference(&intersection).cloned().collect()
    }

    /// The **full conflicted set**: the conflicted state set plus the auth
    /// difference. Every event the algorithm will sort and replay is in it.
    pub(super) fn full_conflicted_set(&self, conflicted: &BTreeSet<EventId>) -> BTreeSet<EventId> {
        let mut full = self.auth_difference();
        full.extend(conflicted.iter().cloned());
        full
    }
}
