//! Exercise 8, live: your `resolve` is the state resolution of
//! fairydust.lab. While fairydust and hypha.lab are cut off, alice (on
//! tomesh.lab) and bob (on hypha, an admin too) each change the room's
//! topic and name, neither seeing the other's. hypha's partition heals
//! first, and tomesh and hypha resolve the fork with the reference; alice
//! sends a message that merges the branches; then fairydust's partition
//! heals, and it receives both branches and the merge. It must end with
//! the room state the others agreed on, and hold every event.
//!
//! Graded on the recorded incident's seed and three more; your function
//! must actually have been called.

#[cfg(not(feature = "reference"))]
use ex08_state_resolution as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::Hooks;
use lostfound_lab::live::{
    FAIRYDUST, HYPHA, INCIDENT_SEED, SEEDS, TOMESH, describe_missing, explain_disagreements, fork,
    missing_on, room_states,
};

/// The story for one seed; `Err` says what went wrong, for the assertion.
async fn all_servers_agree(seed: u64) -> Result<(), String> {
    let hooks = Hooks::new()
        .resolve(|sets, events| answer::resolve(sets, events).map_err(|error| error.to_string()));
    let lab_error = |e: lostfound_lab::live::LiveError| format!("seed {seed}: the lab failed: {e}");
    let forked = fork(seed, &[(FAIRYDUST, hooks.clone())])
        .await
        .map_err(lab_error)?;

    let calls = hooks.calls().resolve;
    if calls.calls == 0 {
        return Err(format!(
            "seed {seed}: your resolve was never called, so this run proves nothing about it"
        ));
    }
    let called = format!(
        "(your resolve, on {FAIRYDUST}, was called {} times and panicked {} times; \
         a panic or an error leaves the events that needed it unaccepted, see the log above)",
        calls.calls, calls.panics
    );
    let mut problems = Vec::new();
    for server in [TOMESH, HYPHA, FAIRYDUST] {
        let missing = missing_on(&forked.lab, server, &forked.sent).map_err(lab_error)?;
        if !missing.is_empty() {
            problems.push(describe_missing(server, &missing, forked.sent.len()));
        }
    }
    let states = room_states(&forked.lab, &forked.cast.room).map_err(lab_error)?;
    let differ = explain_disagreements(&forked.lab, &states).map_err(lab_error)?;
    if !differ.is_empty() {
        problems.push(format!(
            "the servers disagree on the room's state (slot → each server's event):\n  {}",
            differ.join("\n  ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("seed {seed}: {}\n{called}", problems.join("\n")))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_incident_agrees() {
    assert_eq!(INCIDENT_SEED, SEEDS[0]);
    if let Err(failure) = all_servers_agree(SEEDS[0]).await {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_seeds_agree_too() {
    let mut failures = Vec::new();
    for seed in &SEEDS[1..] {
        if let Err(failure) = all_servers_agree(*seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
