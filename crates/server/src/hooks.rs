//! Exercise hooks: four pieces of federation that a student's code can
//! replace in a running server, so that a live exercise can show what the
//! student's version does to a real federation (does the restored server
//! heal?).
//!
//! | hook | replaces | exercise |
//! |---|---|---|
//! | [`Hooks::gap_detection`] | receiving a PDU: which `prev_events` are missing (a non-empty answer asks the sender for `get_missing_events`) | 04 |
//! | [`Hooks::backfill`] | serving `GET /backfill`: the walk from `v` back through `prev_events` | 05 |
//! | [`Hooks::missing_events`] | serving `POST /get_missing_events`: the walk from `latest_events` back to `earliest_events` | 06 |
//! | [`Hooks::resolve`] | state resolution at merges, on receipt and in backfill | 08 |
//!
//! Every hook is a pure function over a lookup (event ID → event), the
//! signature of its exercise. The server does the rest around it: the
//! store, the access checks, the limits, and a last check of the answer
//! (a served event must be a timeline event of the room asked about).
//!
//! **The default is the reference.** [`Hooks::default`] installs nothing,
//! and a server without hooks runs exactly the code it always ran. The
//! pure walks the server itself uses are in [`reference`](mod@reference), the functions
//! the exercises' reference answers call.
//!
//! **A hook is counted and contained.** Each installed hook counts its
//! calls ([`Hooks::calls`]; clones share the counters), so a test can tell
//! that the student's code was reached at all. A hook that panics (a
//! `todo!()`, say) does not take the server down: the panic is caught and
//! treated as an error answer, with a warning naming the hook: serving
//! answers `500`; gap detection finds no gap (as if the peer had not
//! answered `get_missing_events`); a failed resolution on receipt leaves
//! the event unprocessed, and in backfill leaves the state before the
//! event unknown (see `federation::backfill::persist`).

use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;
use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A lookup from event ID to event, as the hooks receive it.
pub type Lookup<'a> = &'a dyn Fn(&EventId) -> Option<Pdu>;

/// Exercise 04: the `prev_events` of `events` that are neither among
/// `events` nor known (`is_known`).
pub type GapDetectionFn =
    dyn Fn(&[Pdu], &dyn Fn(&EventId) -> bool) -> BTreeSet<EventId> + Send + Sync;
/// Exercise 05: `(room_id, from, limit, lookup)` → event IDs, newest first.
pub type BackfillFn = dyn Fn(&RoomId, &[EventId], usize, Lookup<'_>) -> Vec<EventId> + Send + Sync;
/// Exercise 06: `(room_id, earliest, latest, limit, min_depth, lookup)` →
/// event IDs, parents before children.
pub type MissingEventsFn =
    dyn Fn(&RoomId, &[EventId], &[EventId], usize, u64, Lookup<'_>) -> Vec<EventId> + Send + Sync;
/// Exercise 08: state sets and a lookup → the resolved state, or why not.
pub type ResolveFn =
    dyn Fn(&[StateMap<EventId>], Lookup<'_>) -> Result<StateMap<EventId>, String> + Send + Sync;

/// A hook that panicked: the caller treats it as an error answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the exercise hook `{hook}` panicked: {message}")]
pub struct HookPanicked {
    pub hook: &'static str,
    pub message: String,
}

/// How often one hook was called, and how many of those calls panicked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookCount {
    pub calls: u64,
    pub panics: u64,
}

/// [`HookCount`] of every hook (zero for those not installed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookCalls {
    pub gap_detection: HookCount,
    pub backfill: HookCount,
    pub missing_events: HookCount,
    pub resolve: HookCount,
}

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    panics: AtomicU64,
}

/// One installed hook: its function, its name for warnings, its counters.
pub struct Hook<F: ?Sized> {
    name: &'static str,
    function: Arc<F>,
    counter: Arc<Counter>,
}

impl<F: ?Sized> Clone for Hook<F> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            function: Arc::clone(&self.function),
            counter: Arc::clone(&self.counter),
        }
    }
}

impl<F: ?Sized> Hook<F> {
    fn new(name: &'static str, function: Arc<F>) -> Self {
        Self {
            name,
            function,
            counter: Arc::default(),
        }
    }

    /// Runs the hook through `run`, counting the call and catching a
    /// panic (the student's code must not take the server down).
    pub fn call<T>(&self, run: impl FnOnce(&F) -> T) -> Result<T, HookPanicked> {
        self.counter.calls.fetch_add(1, Ordering::Relaxed);
        let function = &*self.function;
        catch_unwind(AssertUnwindSafe(|| run(function))).map_err(|payload| {
            self.counter.panics.fetch_add(1, Ordering::Relaxed);
            let failure = HookPanicked {
                hook: self.name,
                message: panic_message(payload.as_ref()),
            };
            tracing::warn!(hook = self.name, %failure, "exercise hook panicked; treated as an error answer");
            failure
        })
    }

    fn count(&self) -> HookCount {
        HookCount {
            calls: self.counter.calls.load(Ordering::Relaxed),
            panics: self.counter.panics.load(Ordering::Relaxed),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// The replacements installed in one server (none by default). Cheap to
/// clone; clones share the functions and the counters.
#[derive(Clone, Default)]
pub struct Hooks {
    pub(crate) gap_detection: Option<Hook<GapDetectionFn>>,
    pub(crate) backfill: Option<Hook<BackfillFn>>,
    pub(crate) missing_events: Option<Hook<MissingEventsFn>>,
    pub(crate) resolve: Option<Hook<ResolveFn>>,
}

impl Hooks {
    /// No hook installed: the reference behaviour.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces gap detection on receipt (exercise 04).
    pub fn gap_detection(
        mut self,
        function: impl Fn(&[Pdu], &dyn Fn(&EventId) -> bool) -> BTreeSet<EventId>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.gap_detection = Some(Hook::new("gap_detection", Arc::new(function)));
        self
    }

    /// Replaces the walk behind `GET /backfill` (exercise 05).
    pub fn backfill(
        mut self,
        function: impl Fn(&RoomId, &[EventId], usize, Lookup<'_>) -> Vec<EventId>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.backfill = Some(Hook::new("backfill", Arc::new(function)));
        self
    }

    /// Replaces the walk behind `POST /get_missing_events` (exercise 06).
    pub fn missing_events(
        mut self,
        function: impl Fn(&RoomId, &[EventId], &[EventId], usize, u64, Lookup<'_>) -> Vec<EventId>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.missing_events = Some(Hook::new("missing_events", Arc::new(function)));
        self
    }

    /// Replaces state resolution at merges (exercise 08).
    pub fn resolve(
        mut self,
        function: impl Fn(&[StateMap<EventId>], Lookup<'_>) -> Result<StateMap<EventId>, String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.resolve = Some(Hook::new("resolve", Arc::new(function)));
        self
    }

    /// How often each hook was called so far, in every server sharing it.
    pub fn calls(&self) -> HookCalls {
        let count = |hook: Option<HookCount>| hook.unwrap_or_default();
        HookCalls {
            gap_detection: count(self.gap_detection.as_ref().map(Hook::count)),
            backfill: count(self.backfill.as_ref().map(Hook::count)),
            missing_events: count(self.missing_events.as_ref().map(Hook::count)),
            resolve: count(self.resolve.as_ref().map(Hook::count)),
        }
    }

    /// State resolution by the resolve hook, or `None` when none is
    /// installed. A panic is an error, like the hook's own `Err`.
    pub(crate) fn resolve_by_hook(
        &self,
        state_sets: &[StateMap<EventId>],
        lookup: Lookup<'_>,
    ) -> Option<Result<StateMap<EventId>, String>> {
        let hook = self.resolve.as_ref()?;
        let answer = match hook.call(|resolve| resolve(state_sets, lookup)) {
            Ok(answer) => answer,
            Err(panicked) => Err(panicked.to_string()),
        };
        if let Err(error) = &answer {
            tracing::warn!(hook = hook.name, %error, "exercise hook could not resolve the state");
        }
        Some(answer)
    }

    /// Whether no hook is installed.
    pub fn is_empty(&self) -> bool {
        self.installed().is_empty()
    }

    fn installed(&self) -> Vec<&'static str> {
        [
            self.gap_detection.as_ref().map(|hook| hook.name),
            self.backfill.as_ref().map(|hook| hook.name),
            self.missing_events.as_ref().map(|hook| hook.name),
            self.resolve.as_ref().map(|hook| hook.name),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("installed", &self.installed())
            .finish()
    }
}

/// The reference versions of the pure hooks: what the server does
/// without hooks, over a lookup instead of the store. The exercises'
/// reference answers call these.
pub mod reference {
    use super::Lookup;
    use crate::federation::serve::history;
    use lostfound_protocol::ids::{EventId, RoomId};
    use std::convert::Infallible;

    /// Exercise 05: `from` and their predecessors in `room_id`, newest
    /// first (deepest first; on equal depth, the larger event ID first),
    /// at most `limit`. Events the lookup lacks, or of another room, are
    /// skipped.
    pub fn backfill(
        room_id: &RoomId,
        from: &[EventId],
        limit: usize,
        lookup: Lookup<'_>,
    ) -> Vec<EventId> {
        let in_room = |id: &EventId| {
            Ok::<_, Infallible>(
                lookup(id)
                    .filter(|event| event.room_id() == room_id)
                    .map(|event| (event, id.clone())),
            )
        };
        match history::backfill_walk(from, limit, in_room) {
            Ok(events) => events.iter().map(|e| e.event_id().clone()).collect(),
            Err(never) => match never {},
        }
    }

    /// Exercise 06: the events of `room_id` between `earliest` and
    /// `latest`, breadth first from `latest`, at most `limit`, none below
    /// `min_depth`, parents before children.
    pub fn get_missing_events(
        room_id: &RoomId,
        earliest: &[EventId],
        latest: &[EventId],
        limit: usize,
        min_depth: u64,
        lookup: Lookup<'_>,
    ) -> Vec<EventId> {
        let in_room =
            |id: &EventId| Ok::<_, Infallible>(lookup(id).filter(|e| e.room_id() == room_id));
        match history::missing_events_walk(earliest, latest, limit, min_depth, in_room) {
            Ok(events) => events.iter().map(|e| e.event_id().clone()).collect(),
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_hooks_by_default() {
        let hooks = Hooks::default();
        assert!(hooks.is_empty());
        assert_eq!(hooks.calls(), HookCalls::default());
        assert_eq!(format!("{hooks:?}"), r#"Hooks { installed: [] }"#);
    }

    #[test]
    fn calls_are_counted_and_shared_by_clones() {
        let hooks = Hooks::new().backfill(|_, from, _, _| from.to_vec());
        let clone = hooks.clone();
        let hook = clone.backfill.as_ref().expect("installed");
        let room: RoomId = "!r:a.lab".parse().expect("a room ID");
        let answer = hook
            .call(|walk| walk(&room, &[], 10, &|_| None))
            .expect("no panic");
        assert!(answer.is_empty());
        assert_eq!(
            hooks.calls().backfill,
            HookCount {
                calls: 1,
                panics: 0
            }
        );
        assert!(!hooks.is_empty());
    }

    #[test]
    fn a_panic_is_an_error_naming_the_hook() {
        let hooks = Hooks::new().resolve(|_, _| todo!("write resolve"));
        let hook = hooks.resolve.as_ref().expect("installed");
        let failure = hook
            .call(|resolve| resolve(&[], &|_| None))
            .expect_err("the hook panics");
        assert_eq!(failure.hook, "resolve");
        assert!(failure.message.contains("write resolve"), "{failure}");
        assert_eq!(
            hooks.calls().resolve,
            HookCount {
                calls: 1,
                panics: 1
            }
        );
    }
}
