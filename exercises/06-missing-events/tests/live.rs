//! Exercise 6, live: your `get_missing_events` answers on the peers of a
//! running lab (tomesh.lab and fairydust.lab), and hypha.lab, restored
//! from a backup that predates 8 messages, must get them all back as soon
//! as a new message from a peer arrives, before anyone scrolls back.
//!
//! The new message names a parent hypha lacks; hypha asks the sender for
//! the events between its own newest events and the new one, and your
//! function answers. Graded on the recorded incident's seed and three
//! more; your function must actually have been called.

#[cfg(not(feature = "reference"))]
use ex06_missing_events as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::Hooks;
use lostfound_lab::live::{
    FAIRYDUST, HYPHA, INCIDENT_SEED, SEEDS, TOMESH, describe_missing, missing_on, restored_hypha,
};
use std::time::Duration;

/// How many messages the restored server lost: fewer than the 10 one
/// `get_missing_events` asks for, so the whole gap can come back at once.
const LOST: usize = 8;

/// The story for one seed; `Err` says what went wrong, for the assertion.
async fn new_message_pulls_the_gap_in(seed: u64) -> Result<(), String> {
    let hooks = Hooks::new().missing_events(answer::get_missing_events);
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

    let calls = hooks.calls().missing_events;
    if calls.calls == 0 {
        return Err(format!(
            "seed {seed}: your get_missing_events was never called, so this run proves nothing about it"
        ));
    }
    let missing = missing_on(lab, HYPHA, &restored.lost).map_err(lab_error)?;
    if !missing.is_empty() {
        return Err(format!(
            "seed {seed}: alice's new message reached {HYPHA}, but {}\n\
             (your get_missing_events, on {TOMESH} and {FAIRYDUST}, was called {} times and \
             panicked {} times; a panic is answered 500, see its message above)",
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
    if let Err(failure) = new_message_pulls_the_gap_in(SEEDS[0]).await {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_seeds_heal_too() {
    let mut failures = Vec::new();
    for seed in &SEEDS[1..] {
        if let Err(failure) = new_message_pulls_the_gap_in(*seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
