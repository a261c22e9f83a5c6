//! Exercise 9, live: the incident replayed with your `verify_copy` as the
//! check the cleanup runs.
//!
//! The built-in scenario `hypha-2021` with the variant
//! `verified-cleanup`: the upgrade's copy still stops half way on a full
//! disk, but the cleanup asks your function first. If it refuses the
//! copy, the old database stays, the server comes back on it, and the
//! lost & found report says every category was `kept`. If it trusts the
//! copy, the old database is deleted and the story of June 2021 happens
//! again. Graded on the recorded incident's seed and three more; your
//! function must actually have been called.

#[cfg(not(feature = "reference"))]
use ex09_verified_migration as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use lostfound_lab::live::SEEDS;
use lostfound_lab::scenario::variant::Variant;
use lostfound_lab::scenario::{RunOptions, builtin, run};
use lostfound_store::CopyCheck;
use std::any::Any;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The replay of hypha-2021 with a verified cleanup, checked by `verify`
/// (a [`lostfound_lab::chaos::Verifier`]); `Err` says what went wrong.
async fn nothing_is_lost(
    seed: u64,
    verify: &(dyn Fn(&Path, &Path) -> Result<CopyCheck, String> + Sync),
) -> Result<(), String> {
    let scenario = builtin::load("hypha-2021")
        .expect("hypha-2021 is built in")
        .expect("hypha-2021 parses");
    let options = RunOptions {
        seed: Some(seed),
        verifier: verify,
        ..RunOptions::default()
    };
    let finished = run(Variant::VerifiedCleanup.apply(scenario), options, |_| {})
        .await
        .map_err(|e| format!("seed {seed}: the replay stopped: {e}"))?;
    let lost: Vec<String> = finished
        .report
        .categories
        .iter()
        .filter(|category| category.outcome != "kept")
        .map(|category| {
            format!(
                "  {}: {} (before {}, after healing {}); still lost: {}",
                category.name,
                category.outcome,
                category.before,
                category.after_healing,
                category.still_lost.join(", ")
            )
        })
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    Err(format!(
        "seed {seed}: the cleanup trusted a copy it should have refused, the old database was \
         deleted and tomesh.lab came back from its January backup. Not kept:\n{}\n\n{}",
        lost.join("\n"),
        finished.report.to_text()
    ))
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Your `verify_copy` as the lab's verifier, counting its calls. A panic
/// or an `Err` stops the cleanup (and the replay) with its message.
fn yours(calls: &AtomicUsize) -> impl Fn(&Path, &Path) -> Result<CopyCheck, String> + Sync + '_ {
    move |original, copy| {
        calls.fetch_add(1, Ordering::SeqCst);
        match std::panic::catch_unwind(|| answer::verify_copy(original, copy)) {
            Ok(Ok(check)) => Ok(check),
            Ok(Err(error)) => Err(format!(
                "your verify_copy returned Err for a readable original: {error}"
            )),
            Err(panic) => Err(format!(
                "your verify_copy panicked: {}",
                panic_message(panic.as_ref())
            )),
        }
    }
}

async fn yours_keeps_everything(seed: u64) -> Result<(), String> {
    let calls = AtomicUsize::new(0);
    let verify = yours(&calls);
    nothing_is_lost(seed, &verify).await?;
    if calls.load(Ordering::SeqCst) == 0 {
        return Err(format!(
            "seed {seed}: your verify_copy was never called, so this run proves nothing about it"
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_incident_loses_nothing() {
    if let Err(failure) = yours_keeps_everything(SEEDS[0]).await {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_seeds_lose_nothing_either() {
    let mut failures = Vec::new();
    for seed in &SEEDS[1..] {
        if let Err(failure) = yours_keeps_everything(*seed).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The test itself must tell a check that trusts every copy (what the
/// 2021 guide did, in effect) from a real one.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_trusts_every_copy_is_caught() {
    let trusting = |_: &Path, _: &Path| Ok(CopyCheck::default());
    let failure = nothing_is_lost(SEEDS[0], &trusting)
        .await
        .expect_err("a check that trusts the half-finished copy must lose data");
    assert!(
        failure.contains("still lost: ") && failure.contains("upgrade-planning"),
        "{failure}"
    );
}
