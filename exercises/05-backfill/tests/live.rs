//! Exercise 5, live: your `backfill` answers `/backfill` on the peers of a
//! running lab (tomesh.lab and fairydust.lab), and hypha.lab, restored
//! from a backup that predates 30 messages, must get them all back when
//! bob scrolls up.
//!
//! After the restore, alice's next message reaches hypha; its
//! `get_missing_events` (the reference) brings back the newest few of the
//! lost messages, and the rest only come back through backfill, served by
//! your function. Graded on the recorded incident's seed and three more;
//! your function must actually have been called.

#[cfg(not(feature = "reference"))]
use ex05_backfill as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::Hooks;
use lostfound_lab::live::{
    FAIRYDUST, HYPHA, INCIDENT_SEED, SEEDS, TOMESH, describe_missing, restored_hypha, scroll_back,
};
use std::time::Duration;

/// How many messages the restored server lost: more than one
/// `get_missing_events` brings back, so backfill must do the rest.
const LOST: usize = 30;

/// The story for one seed; `Err` says what went wrong, for the assertion.
async fn restored_server_heals(seed: u64) -> Result<(), String> {
    let hooks = Hooks::new().backfill(answer::backfill);
    let peers = [(TOMESH, hooks.clone()), (FAIRYDUST, hooks.clone())];
    let lab_error = |e: lostfound_lab::live::LiveError| format!("seed {seed}: the lab failed: {e}");
    let restored = restored_hypha(seed, &peers, LOST)
        .await
        .map_err(lab_error)?;
    let (lab, cast) = (&restored.lab, &restored.cast);

    lab.advance(Duration::from_secs(60));
    let new = cast.alice.send_text(&cast.room, "after the restore").await;
    new.map_err(|e| format!("seed {seed}: alice could not send: {e}"))?;
    lab.settle()
        .await
        .map_err(|e| format!("seed {seed}: {e}"))?;
    let seen = scroll_back(&cast.bob, &cast.room)
        .await
        .map_err(lab_error)?;

    let calls = hooks.calls().backfill;
    if calls.calls == 0 {
        return Err(format!(
            "seed {seed}: your backfill was never called, so this run proves nothing about it"
        ));
    }
    let missing: Vec<_> = restored
        .lost
        .iter()
        .filter(|message| !seen.contains(&message.body))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "seed {seed}: bob scrolled back to the start of the room on {HYPHA}, but {}\n\
             (your backfill, on {TOMESH} and {FAIRYDUST}, was called {} times and panicked {} times; \
             a panic is answered 500, see its message above)",
            describe_missing(HYPHA, &missing, LOST),
            calls.calls,
            calls.panics
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_incident_heals() {
    assert_eq!(INCIDENT_SEED, SEEDS[0]);
    if let Err(failure) = restored_server_heals(SEEDS[0]).await {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_seeds_heal_too() {
    let mut failures = Vec::new();
    for seed in &SEEDS[1..] {
        if let Err(failure) = restored_server_heals(*seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
