//! Steps 4 and 5, the part that talks to peers: find what a received event
//! refers to that we do not hold, and ask for it.
//!
//! Two kinds of holes can open under a received event:
//!
//! - **Missing parents** (`prev_events`): history we never saw. The sender
//!   gives us the events between our newest events and its event
//!   (`get_missing_events`, at most
//!   [`MISSING_EVENTS_LIMIT`](super::MISSING_EVENTS_LIMIT)). When that does
//!   not reach back to events we hold, we stop digging: we ask for the
//!   room's *state* at the oldest event we got (`state_ids`), which is all
//!   we need to check and place it, and leave its unknown parents as a
//!   backwards extremity for backfill to explore later.
//! - **Missing auth events**: the events that prove the sender's
//!   permission. These we must have, so we fetch each one (`/event`), and
//!   theirs in turn, within
//!   [`MAX_FETCHED_EVENTS`](super::MAX_FETCHED_EVENTS); they become
//!   outliers.
//!
//! Nothing here decides anything about the events: it only gathers them
//! (each one through steps 1–3) into a [`Plan`] that `persist` then checks
//! and stores under the write lock.

use super::ReceiveError;
use super::checks::Checked;
use super::fetch::Fetcher;
use crate::federation::Peers;
use crate::hooks::{GapDetectionFn, Hook};
use crate::rooms::with_store;
use crate::state::Homeserver;
use lostfound_protocol::ids::{EventId, ServerName};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Everything the checks of steps 5–8 need, gathered from peers.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Events to store as outliers (auth events, state at a gap), each
    /// after the auth events it cites.
    pub outliers: Vec<Pdu>,
    /// Timeline events, parents before children; the received event last.
    pub timeline: Vec<Checked>,
    /// The state before timeline events whose parents we do not hold, as
    /// the sender told us with `state_ids`.
    pub state_before: HashMap<EventId, StateMap<EventId>>,
}

/// Gathers what checking `received` needs: the events of a gap before it,
/// the state where the gap could not be closed, and missing auth events.
pub(super) async fn prepare<P: Peers>(
    homeserver: &Homeserver,
    peers: &P,
    origin: &ServerName,
    received: Checked,
) -> Result<Plan, ReceiveError> {
    let room_id = received.pdu.room_id().clone();
    let mut plan = Plan::default();
    plan.timeline.push(received);
    let mut fetcher = Fetcher::new(homeserver, peers, origin, &room_id);

    // Step 4: one round of get_missing_events, oldest first.
    let gap = match &homeserver.config().hooks.gap_detection {
        None => !lacking_parents(homeserver, &plan.timeline, 0)
            .await?
            .is_empty(),
        Some(hook) => gap_by_hook(homeserver, hook, &plan.timeline[0].pdu).await?,
    };
    if gap {
        fetcher.missing_events(&mut plan.timeline).await?;
    }
    // Whatever still lacks parents gets the state at it instead.
    for index in 0..plan.timeline.len() {
        if lacking_parents(homeserver, &plan.timeline, index)
            .await?
            .is_empty()
        {
            continue;
        }
        let event_id = plan.timeline[index].pdu.event_id().clone();
        let state = fetcher.state_at(&event_id).await?;
        plan.state_before.insert(event_id, state);
    }
    // Step 5: every auth event of everything gathered so far.
    let in_timeline: HashSet<EventId> = plan
        .timeline
        .iter()
        .map(|checked| checked.pdu.event_id().clone())
        .collect();
    let mut wanted: Vec<EventId> = plan
        .timeline
        .iter()
        .flat_map(|checked| checked.pdu.auth_events().iter().cloned())
        .filter(|id| !in_timeline.contains(id))
        .collect();
    fetcher.fetch_all(&mut wanted).await?;
    fetcher.fetched.retain(|id, _| !in_timeline.contains(id));
    plan.outliers = order_by_auth_events(fetcher.fetched.into_values().collect());
    Ok(plan)
}

/// The parents of `timeline[index]` that are neither earlier in the
/// timeline nor stored, in this room, with a known state.
async fn lacking_parents(
    homeserver: &Homeserver,
    timeline: &[Checked],
    index: usize,
) -> Result<Vec<EventId>, ReceiveError> {
    let earlier: HashSet<&EventId> = timeline[..index]
        .iter()
        .map(|checked| checked.pdu.event_id())
        .collect();
    let candidates: Vec<EventId> = timeline[index]
        .pdu
        .prev_events()
        .iter()
        .filter(|prev| !earlier.contains(prev))
        .cloned()
        .collect();
    let room_id = timeline[index].pdu.room_id().clone();
    Ok(with_store(homeserver, move |store| {
        let mut lacking = Vec::new();
        for prev in candidates {
            // A parent held in another room is not a known parent here
            // (see `persist::parent_in_another_room`).
            if !super::persist::state_is_known(store, &room_id, &prev)? {
                lacking.push(prev);
            }
        }
        Ok(lacking)
    })
    .await?)
}

/// Whether the exercise hook finds parents of `received` missing (see
/// [`crate::hooks`]): its answer decides only whether we ask for
/// `get_missing_events`; the state at what stays missing is still
/// established by [`lacking_parents`]. A hook that panics is treated like
/// a peer that did not answer: no `get_missing_events`.
async fn gap_by_hook(
    homeserver: &Homeserver,
    hook: &Hook<GapDetectionFn>,
    received: &Pdu,
) -> Result<bool, ReceiveError> {
    let hook = hook.clone();
    let received = received.clone();
    Ok(with_store(homeserver, move |store| {
        let room_id = received.room_id().clone();
        let failure = Cell::new(None);
        let is_known = |event_id: &EventId| {
            super::persist::state_is_known(store, &room_id, event_id).unwrap_or_else(|error| {
                failure.set(Some(error));
                false
            })
        };
        let answer = hook.call(|detect| detect(std::slice::from_ref(&received), &is_known));
        if let Some(error) = failure.take() {
            return Err(error.into());
        }
        Ok(answer.is_ok_and(|missing| !missing.is_empty()))
    })
    .await?)
}

/// Orders outliers so that each comes after the auth events it cites
/// (those among them): they are checked against those, so those go first.
fn order_by_auth_events(mut pending: Vec<Pdu>) -> Vec<Pdu> {
    pending.sort_by(|a, b| (a.depth(), a.event_id()).cmp(&(b.depth(), b.event_id())));
    let all: BTreeSet<EventId> = pending.iter().map(|e| e.event_id().clone()).collect();
    let mut placed: BTreeSet<EventId> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(pending.len());
    // Each pass places at least one event, or stops: at most n passes.
    loop {
        let before = pending.len();
        let (ready, waiting): (Vec<Pdu>, Vec<Pdu>) = pending.into_iter().partition(|event| {
            event
                .auth_events()
                .iter()
                .all(|auth| !all.contains(auth) || placed.contains(auth))
        });
        placed.extend(ready.iter().map(|event| event.event_id().clone()));
        ordered.extend(ready);
        pending = waiting;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    // Only a cycle gets here, which real events cannot form; their checks
    // will fail for want of auth events.
    ordered.extend(pending);
    ordered
}
