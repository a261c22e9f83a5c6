//! Exercise 4, live: your `missing_prev_events` is how hypha.lab, restored
//! from a backup that predates 8 messages, decides whether a new message
//! reveals a gap. If it says so, hypha asks the sender for the events
//! between (`get_missing_events`) and the gap closes behind the new
//! message; if it does not, hypha accepts the message with the hole still
//! behind it.
//!
//! Graded on the recorded incident's seed and three more; your function
//! must actually have been called.

#[cfg(not(feature = "reference"))]
use ex04_gaps as answer;
#[cfg(feature = "reference")]
#[allow(dead_code)] // forward_extremities has no live test
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::Hooks;
use lostfound_lab::live::{
    HYPHA, INCIDENT_SEED, SEEDS, describe_missing, missing_on, restored_hypha,
};
use std::time::Duration;

/// How many messages the restored server lost: fewer than the 10 one
/// `get_missing_events` asks for, so the whole gap can come back at once.
const LOST: usize = 8;

/// The story for one seed; `Err` says what went wrong, for the assertion.
async fn new_message_reveals_the_gap(seed: u64) -> Result<(), String> {
    let hooks = Hooks::new().gap_detection(answer::missing_prev_events);
    let lab_error = |e: lostfound_lab::live::LiveError| format!("seed {seed}: the lab failed: {e}");
    let restored = restored_hypha(seed, &[(HYPHA, hooks.clone())], LOST)
        .await
        .map_err(lab_error)?;
    let (lab, cast) = (&restored.lab, &restored.cast);
    let before = hooks.calls().gap_detection.calls;

    lab.advance(Duration::from_secs(60));
    let new = cast.alice.send_text(&cast.room, "after the restore").await;
    new.map_err(|e| format!("seed {seed}: alice could not send: {e}"))?;
    lab.settle()
        .await
        .map_err(|e| format!("seed {seed}: {e}"))?;

    let calls = hooks.calls().gap_detection;
    if calls.calls == before {
        return Err(format!(
            "seed {seed}: your missing_prev_events was never called for the new message, \
             so this run proves nothing about it"
        ));
    }
    let missing = missing_on(lab, HYPHA, &restored.lost).map_err(lab_error)?;
    if !missing.is_empty() {
        return Err(format!(
            "seed {seed}: alice's new message reached {HYPHA}, but {}\n\
             (your missing_prev_events, on {HYPHA}, was called {} times and panicked {} times; \
             a panic counts as \"no gap\", see its message above)",
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
    if let Err(failure) = new_message_reveals_the_gap(SEEDS[0]).await {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_seeds_heal_too() {
    let mut failures = Vec::new();
    for seed in &SEEDS[1..] {
        if let Err(failure) = new_message_reveals_the_gap(*seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
