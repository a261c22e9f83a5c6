//! Asking a peer for events: `get_missing_events`, `state_ids` and
//! `/event`, each answer checked (steps 1–3) like a pushed PDU, within
//! the budgets of [`MISSING_EVENTS_LIMIT`] and [`MAX_FETCHED_EVENTS`].

use super::checks::{Checked, check_pdu, check_reference_counts};
use super::{MAX_FETCHED_EVENTS, MISSING_EVENTS_LIMIT, ReceiveError};
use crate::federation::Peers;
use crate::rooms::with_store;
use crate::state::Homeserver;
use lostfound_protocol::dag::topological_order;
use lostfound_protocol::ids::{EventId, RoomId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::{StateMap, slot_of};
use std::collections::{HashMap, HashSet};

/// Asks one peer for events, and checks each answer like a received PDU.
pub(super) struct Fetcher<'a, P> {
    homeserver: &'a Homeserver,
    peers: &'a P,
    origin: &'a ServerName,
    room_id: &'a RoomId,
    /// Outliers fetched so far, by ID.
    pub fetched: HashMap<EventId, Pdu>,
    /// IDs asked for with `/event` (found or not), against the budget.
    asked: HashSet<EventId>,
}

impl<'a, P: Peers> Fetcher<'a, P> {
    pub(super) fn new(
        homeserver: &'a Homeserver,
        peers: &'a P,
        origin: &'a ServerName,
        room_id: &'a RoomId,
    ) -> Self {
        Self {
            homeserver,
            peers,
            origin,
            room_id,
            fetched: HashMap::new(),
            asked: HashSet::new(),
        }
    }

    /// `get_missing_events` from our forward extremities to the received
    /// event (the last in `timeline`); checked answers join the timeline,
    /// which is then put in topological order. A peer that fails to answer
    /// is not fatal: the state at the event will do instead.
    pub(super) async fn missing_events(
        &mut self,
        timeline: &mut Vec<Checked>,
    ) -> Result<(), ReceiveError> {
        let latest: Vec<EventId> = timeline.iter().map(|c| c.pdu.event_id().clone()).collect();
        let room_id = self.room_id.clone();
        let earliest = with_store(self.homeserver, move |store| {
            Ok(store.forward_extremities(&room_id)?)
        })
        .await?;
        let answer = self
            .peers
            .get_missing_events(
                self.origin,
                self.room_id,
                &earliest,
                &latest,
                MISSING_EVENTS_LIMIT,
            )
            .await;
        let events = match answer {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, "get_missing_events failed; using the state at the event");
                return Ok(());
            }
        };
        let mut seen: HashSet<EventId> = latest.into_iter().collect();
        for raw in events.into_iter().take(MISSING_EVENTS_LIMIT as usize) {
            match check_pdu(self.peers, raw).await {
                Ok(checked) if checked.pdu.room_id() != self.room_id => {
                    tracing::warn!(event = %checked.pdu.event_id(), "missing event from another room, dropped");
                }
                // The same bound as on a pushed PDU: a gap's events go
                // through steps 5–8 like it, so they may cost no more.
                Ok(checked) if check_reference_counts(&checked.pdu).is_err() => {
                    tracing::warn!(event = %checked.pdu.event_id(), "missing event with too many prev_events or auth_events, dropped");
                }
                Ok(checked) => {
                    if seen.insert(checked.pdu.event_id().clone())
                        && !self.is_stored(&checked.pdu).await?
                    {
                        timeline.push(checked);
                    }
                }
                Err(error) => tracing::warn!(%error, "missing event dropped"),
            }
        }
        let order = topological_order(timeline.iter().map(|checked| &checked.pdu));
        let mut by_id: HashMap<EventId, Checked> = timeline
            .drain(..)
            .map(|checked| (checked.pdu.event_id().clone(), checked))
            .collect();
        timeline.extend(order.iter().filter_map(|id| by_id.remove(id)));
        Ok(())
    }

    async fn is_stored(&self, event: &Pdu) -> Result<bool, ReceiveError> {
        let event_id = event.event_id().clone();
        Ok(with_store(self.homeserver, move |store| {
            Ok(store.event(&event_id)?.is_some())
        })
        .await?)
    }

    /// The state before `event_id`, from `state_ids`, fetching the state
    /// events and their auth chain that we lack.
    pub(super) async fn state_at(
        &mut self,
        event_id: &EventId,
    ) -> Result<StateMap<EventId>, ReceiveError> {
        let ids = self
            .peers
            .get_state_ids(self.origin, self.room_id, event_id)
            .await
            .map_err(ReceiveError::Peer)?;
        let mut wanted: Vec<EventId> = ids
            .pdu_ids
            .iter()
            .chain(&ids.auth_chain_ids)
            .cloned()
            .collect();
        self.fetch_all(&mut wanted).await?;
        let pdu_ids = ids.pdu_ids;
        let room_id = self.room_id.clone();
        let fetched: HashMap<EventId, Pdu> = pdu_ids
            .iter()
            .filter_map(|id| self.fetched.get(id).map(|pdu| (id.clone(), pdu.clone())))
            .collect();
        Ok(with_store(self.homeserver, move |store| {
            let mut state = StateMap::new();
            for id in pdu_ids {
                // Fetched events were checked to be of this room
                // (`fetch_one`); a stored one is kept only if it is too.
                // A peer's `state_ids` may name an event of another room
                // that we happen to hold: taking it would put that room's
                // state (its members, its power levels) into this one's.
                let event = match fetched.get(&id) {
                    Some(event) => Some(event.clone()),
                    None => store
                        .event(&id)?
                        .map(|stored| stored.event)
                        .filter(|event| event.room_id() == &room_id),
                };
                // A state ID we could not get, or naming a non-state event,
                // is left out: the auth checks will say if it mattered.
                if let Some(slot) = event.as_ref().and_then(slot_of) {
                    state.insert(slot, id);
                }
            }
            Ok(state)
        })
        .await?)
    }

    /// Fetches every event in `wanted` that we do not hold, and then the
    /// auth events they cite, breadth first, within the budget.
    pub(super) async fn fetch_all(
        &mut self,
        wanted: &mut Vec<EventId>,
    ) -> Result<(), ReceiveError> {
        while let Some(event_id) = wanted.pop() {
            if self.fetched.contains_key(&event_id) || self.asked.contains(&event_id) {
                continue;
            }
            let stored = {
                let event_id = event_id.clone();
                with_store(self.homeserver, move |store| {
                    Ok(store.event(&event_id)?.is_some())
                })
                .await?
            };
            if stored {
                continue;
            }
            if self.asked.len() >= MAX_FETCHED_EVENTS {
                return Err(ReceiveError::TooManyEvents);
            }
            self.asked.insert(event_id.clone());
            if let Some(event) = self.fetch_one(&event_id).await {
                wanted.extend(event.auth_events().iter().cloned());
                self.fetched.insert(event_id, event);
            }
        }
        Ok(())
    }

    /// `/event/{eventId}`, checked; `None` (and a warning) on any failure:
    /// the event stays missing and the checks that need it will fail.
    async fn fetch_one(&self, event_id: &EventId) -> Option<Pdu> {
        let raw = match self.peers.get_event(self.origin, event_id).await {
            Ok(raw) => raw,
            Err(error) => {
                tracing::warn!(event = %event_id, %error, "could not fetch event");
                return None;
            }
        };
        match check_pdu(self.peers, raw).await {
            // The ID is the hash of the event: a peer cannot hand us
            // another event under the ID we asked for.
            // It must also be of this room, and name no more auth events
            // than a pushed PDU may (each would be fetched in turn).
            Ok(checked)
                if checked.pdu.event_id() == event_id
                    && checked.pdu.room_id() == self.room_id
                    && check_reference_counts(&checked.pdu).is_ok() =>
            {
                Some(checked.pdu)
            }
            Ok(checked) => {
                tracing::warn!(asked = %event_id, got = %checked.pdu.event_id(), "peer sent another event");
                None
            }
            Err(error) => {
                tracing::warn!(event = %event_id, %error, "fetched event dropped");
                None
            }
        }
    }
}
